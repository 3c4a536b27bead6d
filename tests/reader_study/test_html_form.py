"""The HTML form as a file: self-contained, escaped, complete (the browser run is in test_html_form_browser)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from radeval.types import Case
from radeval_reader_study.export import export_packet
from radeval_reader_study.key import read_key


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_bodies: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_bodies.append(data)


def _parse(html: str) -> _Collect:
    c = _Collect()
    c.feed(html)
    return c


def test_form_is_self_contained(exported) -> None:
    html = (exported.packet_dir / "reader1" / "rating-form.html").read_text(encoding="utf-8")
    parsed = _parse(html)
    for tag, attrs in parsed.tags:
        assert tag not in {"link", "iframe", "object", "embed", "base"}, tag
        for name in ("src", "href", "action", "data"):
            assert name not in attrs, (tag, attrs)
    assert not re.search(r"https?://", html)
    assert not re.search(r"\b(fetch|XMLHttpRequest|WebSocket|sendBeacon|import\s*\()", html)
    csp = [a for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")
    assert [t for t, _ in parsed.tags].count("script") == 1


def test_form_has_every_item_with_required_radios(exported) -> None:
    key = read_key(exported.key_path)
    html = (exported.packet_dir / "reader2" / "rating-form.html").read_text(encoding="utf-8")
    parsed = _parse(html)
    items = [a["data-item"] for t, a in parsed.tags if t == "fieldset"]
    assert items == list(key.orders["reader2"])
    radios = [a for t, a in parsed.tags if t == "input" and a.get("type") == "radio"]
    assert len(radios) == len(items) * 2 * 5
    assert all("required" in a for a in radios)
    assert f'data-packet="{key.packet_sha256}"' in html and 'data-reader="reader2"' in html
    assert f"0 / {len(items)} reports rated" in html
    assert html.count("Reference report (ground truth)") == 12
    for label in ("1 Very Poor", "5 Excellent", "Clinical accuracy", "Technical &amp; linguistic quality",
                  "false-positive findings", "none is cut off"):
        assert label in html


def test_report_text_is_escaped(tmp_path: Path) -> None:
    evil = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2"> & "quotes"'
    cases = [Case("c1", "</pre><script>alert(1)</script>")]
    res = export_packet(cases, {"a": {"c1": evil}, "b": {"c1": "fine"}}, n=1, readers=1, seed=0,
                        out_dir=tmp_path / "p", key_path=tmp_path / "k.json", formats=("html",))
    html = (res.packet_dir / "reader1" / "rating-form.html").read_text(encoding="utf-8")
    assert ("&lt;script&gt;window.__pwned = 1&lt;/script&gt;"
            "&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;") in html
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    parsed = _parse(html)
    assert [t for t, _ in parsed.tags].count("script") == 1 and not any(t == "img" for t, _ in parsed.tags)
