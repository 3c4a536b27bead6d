"""Blinding: nothing in the packet tells the systems apart except what they wrote.

All three systems here write the *same words* with system-specific whitespace, so any way to tell
them apart from the packet would be a leak. An attacker learns, on half of the cases, the majority
system for each packet feature (position in each reader's form, XLSX row, REDCap row, id characters,
id rank, manifest position, markup) and predicts the other half; it must not beat chance (1/3).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from scipy.stats import binomtest

from radeval.types import Case
from radeval_reader_study.export import export_packet
from radeval_reader_study.key import read_key

NAMES = ("ctchat_baseline", "rad3d_prefix_v2", "rad3d_prefix_v3")
N_CASES = 90


@pytest.fixture(scope="module")
def blinded(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("blind")
    cases = [Case(f"case{i:03d}", f"Reference {i}.") for i in range(N_CASES)]
    styles = {NAMES[0]: "{t}", NAMES[1]: "  {t}\r\n", NAMES[2]: "{t}\u00a0\t"}
    systems = {name: {c.id: style.format(t=f"Lungs clear. Finding {i}.") for i, c in enumerate(cases)}
               for name, style in styles.items()}
    res = export_packet(cases, systems, n=N_CASES, readers=2, seed=0, out_dir=tmp / "packet",
                        key_path=tmp / "secret" / "key.json", blinding_seed=2024)  # fixed: no flaky runs
    return res, read_key(res.key_path)


def _packet_bytes(root: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(root).as_posix()
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                for name in z.namelist():
                    out[f"{rel}!{name}"] = z.read(name)
        else:
            out[rel] = p.read_bytes()
    return out


def test_no_system_name_anywhere_in_the_packet(blinded) -> None:
    res, key = blinded
    contents = _packet_bytes(res.packet_dir)
    assert any("docProps/core.xml" in k for k in contents)  # XLSX metadata is searched too
    for name in NAMES:
        for fragment in {name, name.upper(), name.replace("_", " "), name.split("_")[-1]}:
            assert not any(fragment in rel for rel in contents), fragment
            hits = [rel for rel, data in contents.items() if fragment.encode() in data]
            assert hits == [], (fragment, hits)
    html = (res.packet_dir / "reader1" / "rating-form.html").read_text(encoding="utf-8")
    assert "<!--" not in html


def _features(res, key) -> dict[str, dict[str, object]]:
    """item id -> feature name -> value, computed from packet files only."""
    feats: dict[str, dict[str, object]] = defaultdict(dict)
    manifest = json.loads((res.packet_dir / "manifest.json").read_text(encoding="utf-8"))
    for rp in manifest["readers"]:
        for case in rp["cases"]:
            ranked = sorted(it["item_id"] for it in case["items"])
            for pos, it in enumerate(case["items"]):
                iid = it["item_id"]
                f = feats[iid]
                f[f"{rp['reader']}_position"] = pos
                f["id_first"], f["id_last"] = iid[0], iid[-1]
                f["id_rank_in_case"] = ranked.index(iid)
                f["id_mod3"] = sum(ord(ch) for ch in iid) % 3
                f["text"] = it["text"]
    for reader in ("reader1", "reader2"):
        html = (res.packet_dir / reader / "rating-form.html").read_text(encoding="utf-8")
        blocks = re.findall(r'<fieldset class="item" data-item="(\w+)">(.*?)</fieldset>', html, flags=re.S)
        for order, (iid, block) in enumerate(blocks):
            generic = re.sub(r"Report \d+", "Report N", block.replace(iid, "ID"))
            feats[iid][f"{reader}_markup"] = hashlib.sha256(generic.encode()).hexdigest()
            feats[iid][f"{reader}_html_offset_mod3"] = html.index(f'data-item="{iid}"') % 3
            feats[iid][f"{reader}_global_order_mod3"] = order % 3
        from openpyxl import load_workbook

        ws = load_workbook(res.packet_dir / reader / "ratings.xlsx")["Ratings"]
        for row in range(7, ws.max_row + 1):
            iid = ws.cell(row=row, column=2).value
            style = tuple(repr(ws.cell(row=row, column=j).alignment) + repr(ws.cell(row=row, column=j).protection)
                          for j in range(1, ws.max_column + 1))
            feats[iid][f"{reader}_xlsx_row_mod3"] = row % 3
            feats[iid][f"{reader}_xlsx_style"] = hash(style)
    template = list(csv.DictReader(io.StringIO((res.packet_dir / "redcap" / "import_template.csv")
                                               .read_text(encoding="utf-8"))))
    for k, row in enumerate(template):
        feats[row["item_id"]][f"redcap_{row['reader']}_row_mod3"] = k % 3
    return feats


def test_packet_features_do_not_beat_chance(blinded) -> None:
    res, key = blinded
    feats = _features(res, key)
    assert set(feats) == set(key.items)
    names = sorted(next(iter(feats.values())))
    train_cases = set(key.case_ids[: N_CASES // 2])
    n_features = len(names)
    for name in names:
        votes: dict[object, Counter] = defaultdict(Counter)
        for iid, f in feats.items():
            if key.items[iid].case_id in train_cases:
                votes[f[name]][key.items[iid].system] += 1
        correct = total = 0
        for iid, f in feats.items():
            if key.items[iid].case_id in train_cases:
                continue
            guess = votes[f[name]].most_common(1)[0][0] if votes.get(f[name]) else NAMES[0]
            correct += guess == key.items[iid].system
            total += 1
        p = binomtest(correct, total, 1 / 3, alternative="greater").pvalue
        assert p > 0.001 / n_features, f"feature {name!r} recovers the system: {correct}/{total} correct"


def test_identical_words_render_identically(blinded) -> None:
    res, key = blinded
    manifest = json.loads((res.packet_dir / "manifest.json").read_text(encoding="utf-8"))
    for case in manifest["readers"][0]["cases"]:
        assert len({it["text"] for it in case["items"]}) == 1


def test_each_position_is_used_evenly_by_every_system(blinded) -> None:
    """Order is shuffled per case and per reader: each system appears first about a third of the time."""
    res, key = blinded
    for reader in key.readers:
        order = key.orders[reader]
        firsts = Counter(key.items[order[k]].system for k in range(0, len(order), 3))
        for name in NAMES:
            assert binomtest(firsts[name], N_CASES, 1 / 3).pvalue > 0.001, (reader, firsts)
