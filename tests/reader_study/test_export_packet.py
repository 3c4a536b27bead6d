from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from radeval.errors import AlignmentError, InputError
from radeval_reader_study.blinding import ID_ALPHABET, ID_LENGTH
from radeval_reader_study.export import export_packet, verify_packet
from radeval_reader_study.formatting import normalise_report
from radeval_reader_study.key import read_key


def test_packet_layout_and_key(exported, tmp_path: Path) -> None:
    root = exported.packet_dir
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert names == ["README.txt", "manifest.json", "reader1/rating-form.html", "reader1/ratings.xlsx",
                     "reader2/rating-form.html", "reader2/ratings.xlsx", "redcap/data_dictionary.csv",
                     "redcap/import_template.csv"]
    assert exported.key_path.parent == tmp_path and not exported.key_path.is_relative_to(root)
    key = read_key(exported.key_path)
    assert key.packet_sha256 == exported.packet_sha256
    assert key.packet_sha256 == hashlib.sha256((root / "manifest.json").read_bytes()).hexdigest()
    assert set(key.files) == set(names)
    assert len(key.items) == 12 * 3 == exported.n_items
    assert key.systems == ("baseline", "v2", "v3") and key.baseline == "baseline"
    assert key.readers == ("reader1", "reader2")
    assert verify_packet(root, key) == []
    for form in ("reader1/rating-form.html", "reader1/ratings.xlsx", "redcap/import_template.csv"):
        data = (root / form).read_bytes()
        if form.endswith(".xlsx"):
            import zipfile

            with zipfile.ZipFile(root / form) as z:
                data = b"".join(z.read(n) for n in z.namelist())
        assert exported.packet_sha256.encode() in data, form


def test_ids_orders_and_coverage(exported) -> None:
    key = read_key(exported.key_path)
    assert all(len(i) == ID_LENGTH and set(i) <= set(ID_ALPHABET) for i in key.items)
    for reader in key.readers:
        assert sorted(key.orders[reader]) == sorted(key.items)  # every reader sees every item exactly once
    assert key.orders["reader1"] != key.orders["reader2"]
    cases_of = {i: key.items[i].case_id for i in key.items}
    for reader in key.readers:  # items of one case stay together
        seq = [cases_of[i] for i in key.orders[reader]]
        blocks = [seq[k] for k in range(0, len(seq), 3)]
        assert all(seq[k:k + 3] == [seq[k]] * 3 for k in range(0, len(seq), 3)) and len(set(blocks)) == 12


def test_every_report_identically_formatted(exported, study_inputs) -> None:
    manifest = json.loads((exported.packet_dir / "manifest.json").read_text(encoding="utf-8"))
    key = read_key(exported.key_path)
    for rp in manifest["readers"]:
        for case in rp["cases"]:
            for item in case["items"]:
                origin = key.items[item["item_id"]]
                assert item["text"] == normalise_report(study_inputs.systems[origin.system][origin.case_id])
                assert case["reference"].startswith("Reference findings")


def test_reproducible_with_blinding_seed_and_secret_without(tmp_path: Path, study_inputs) -> None:
    def run(tag: str, bseed: int | None):
        return export_packet(study_inputs.cases, study_inputs.systems, n=5, readers=2, seed=1,
                             out_dir=tmp_path / tag, key_path=tmp_path / f"{tag}.json", formats=("html",),
                             blinding_seed=bseed)

    a, b, c = run("a", 3), run("b", 3), run("c", None)
    assert a.packet_sha256 == b.packet_sha256 and a.case_ids == b.case_ids == c.case_ids
    assert c.packet_sha256 != a.packet_sha256
    assert read_key(c.key_path).blinding_seed == c.blinding_seed


def test_reference_can_be_hidden(tmp_path: Path, study_inputs) -> None:
    res = export_packet(study_inputs.cases, study_inputs.systems, n=3, readers=1, seed=0, out_dir=tmp_path / "p",
                        key_path=tmp_path / "k.json", show_reference=False)
    html = (res.packet_dir / "reader1" / "rating-form.html").read_text(encoding="utf-8")
    assert "Reference findings" not in html and "ground truth" not in html
    assert "reference_report" not in (res.packet_dir / "redcap" / "import_template.csv").read_text(encoding="utf-8")


def test_stratified_export_records_strata(tmp_path: Path, study_inputs) -> None:
    res = export_packet(study_inputs.cases, study_inputs.systems, n=9, readers=1, seed=0, out_dir=tmp_path / "p",
                        key_path=tmp_path / "k.json", stratify_by="effusion", formats=("html",))
    strata = read_key(res.key_path).strata
    assert sorted(strata.values()).count("effusion=1") == 3  # 10 of 30 cases are positive


def test_key_inside_packet_is_refused(tmp_path: Path, study_inputs) -> None:
    with pytest.raises(InputError, match="outside the packet"):
        export_packet(study_inputs.cases, study_inputs.systems, n=3, readers=1, seed=0, out_dir=tmp_path / "p",
                      key_path=tmp_path / "p" / "key.json")
    assert not (tmp_path / "p").exists()


def test_non_empty_folder_and_overwrite(tmp_path: Path, study_inputs) -> None:
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.docx").write_text("precious")
    kw = dict(n=3, readers=1, seed=0, key_path=tmp_path / "k.json", formats=("html",))
    with pytest.raises(InputError, match="not empty"):
        export_packet(study_inputs.cases, study_inputs.systems, out_dir=other, **kw)
    with pytest.raises(InputError, match="refusing to delete"):
        export_packet(study_inputs.cases, study_inputs.systems, out_dir=other, overwrite=True, **kw)
    assert (other / "thesis.docx").exists()
    first = export_packet(study_inputs.cases, study_inputs.systems, out_dir=tmp_path / "p", **kw)
    second = export_packet(study_inputs.cases, study_inputs.systems, out_dir=tmp_path / "p", overwrite=True, **kw)
    assert first.packet_dir == second.packet_dir and (second.packet_dir / "manifest.json").exists()


def test_existing_key_is_not_overwritten(tmp_path: Path, study_inputs) -> None:
    # the key holds the secret blinding seed: losing it makes the first packet impossible to unblind
    kw = dict(n=3, readers=1, seed=0, key_path=tmp_path / "k.json", formats=("html",))
    export_packet(study_inputs.cases, study_inputs.systems, out_dir=tmp_path / "main", **kw)
    before = (tmp_path / "k.json").read_bytes()
    with pytest.raises(InputError, match="key file already exists"):
        export_packet(study_inputs.cases, study_inputs.systems, out_dir=tmp_path / "pilot", **kw)
    assert (tmp_path / "k.json").read_bytes() == before and not (tmp_path / "pilot").exists()
    again = export_packet(study_inputs.cases, study_inputs.systems, out_dir=tmp_path / "main", overwrite=True, **kw)
    assert read_key(again.key_path).packet_sha256 == again.packet_sha256


def test_failed_replacement_keeps_the_earlier_packet(tmp_path: Path, study_inputs,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from radeval_reader_study import export

    kw = dict(n=3, readers=1, seed=0, key_path=tmp_path / "k.json", out_dir=tmp_path / "p")
    first = export_packet(study_inputs.cases, study_inputs.systems, **kw)
    files = {f: f.read_bytes() for f in first.files}

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export, "write_redcap", broken)  # the last step of the new packet fails
    with pytest.raises(OSError, match="disk full"):
        export_packet(study_inputs.cases, study_inputs.systems, overwrite=True, **kw)
    assert {f: f.read_bytes() for f in first.files} == files  # the earlier packet is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.json", "p"]  # no half-built folder left behind
    assert verify_packet(first.packet_dir, read_key(first.key_path)) == []


def test_tampering_is_detected(exported) -> None:
    key = read_key(exported.key_path)
    form = exported.packet_dir / "reader2" / "rating-form.html"
    form.write_text(form.read_text(encoding="utf-8").replace("Report 1", "Report one"), encoding="utf-8")
    assert verify_packet(exported.packet_dir, key) == [f"{form}: content differs from the exported packet"]


def test_misaligned_system_is_named(tmp_path: Path, study_inputs) -> None:
    systems = dict(study_inputs.systems)
    systems["v2"] = {k: v for k, v in systems["v2"].items() if k != "case004"}
    with pytest.raises(AlignmentError, match=r"system 'v2'.*case004"):
        export_packet(study_inputs.cases, systems, n=3, readers=1, seed=0, out_dir=tmp_path / "p",
                      key_path=tmp_path / "k.json")


@pytest.mark.parametrize("kwargs, message", [
    ({"formats": ("pdf",)}, "formats"),
    ({"readers": 0}, "at least one reader"),
    ({"readers": ["ann", "ann"]}, "duplicate reader"),
    ({"readers": ["Ann", "ann"]}, "duplicate reader"),  # one folder on case-insensitive file systems
    ({"readers": ["a b"]}, "reader id 'a b'"),
    ({"baseline": "v9"}, "baseline 'v9'"),
    ({"n": 31}, "n=31"),
    ({"stratify_by": "smoking"}, "no field 'smoking'"),
])
def test_bad_arguments(tmp_path: Path, study_inputs, kwargs: dict, message: str) -> None:
    args = dict(n=3, readers=1, seed=0, out_dir=tmp_path / "p", key_path=tmp_path / "k.json") | kwargs
    with pytest.raises(InputError, match=re.escape(message)):
        export_packet(study_inputs.cases, study_inputs.systems, **args)


def test_plain_mapping_references_cannot_be_stratified_by_field(tmp_path: Path, study_inputs) -> None:
    refs = {c.id: c.reference for c in study_inputs.cases}
    with pytest.raises(InputError, match="no metadata"):
        export_packet(refs, study_inputs.systems, n=3, readers=1, seed=0, out_dir=tmp_path / "p",
                      key_path=tmp_path / "k.json", stratify_by="effusion")
    res = export_packet(refs, study_inputs.systems, n=3, readers=1, seed=0, out_dir=tmp_path / "p",
                        key_path=tmp_path / "k.json", stratify_by={c.id: c.metadata["effusion"]
                                                                    for c in study_inputs.cases}, formats=("html",))
    assert len(res.case_ids) == 3
