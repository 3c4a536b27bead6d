"""The self-contained offline HTML rating form, one file per reader.

The page has no external resources: CSS and JavaScript are inline, a Content-Security-Policy
forbids every network fetch, and report text is HTML-escaped (a report containing ``<script>``
stays text). The script shows progress, requires every criterion of every report before a normal
save, keeps unsaved work in the browser's local storage (keyed by packet hash and reader), and
saves ratings as a CSV or JSON download:

* CSV columns: ``packet_sha256, reader, item_id, <criterion ids...>, comment, saved_at``
  (one row per report; empty score cells in a draft).
* JSON: ``{"format": "radeval-reader-study-ratings", "packet_sha256", "reader", "saved_at",
  "complete", "ratings": [{"item_id", "scores": {criterion: int|null}, "comment"}]}``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from radeval_reader_study.packet import PacketItem, ReaderPacket
from radeval_reader_study.rubric import Rubric

#: Content-Security-Policy of the form: inline script/style only, nothing fetched, nothing posted.
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
       "form-action 'none'; base-uri 'none'")


def _asset(name: str) -> str:
    """Text of a file shipped beside this module (``form.css``, ``form.js``; package data)."""
    return (Path(__file__).with_name(name)).read_text(encoding="utf-8")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _rubric_html(rubric: Rubric) -> str:
    parts = ['<section class="rubric"><h2>How to rate</h2>',
             "<p>Rate every report on each criterion. Reports are shown in random order and do not "
             "identify their source.</p>"]
    for c in rubric.criteria:
        parts.append(f"<h3>{_e(c.name)}</h3>")
        if c.description:
            parts.append(f"<p>{_e(c.description)}</p>")
        if c.items:
            parts.append('<ul class="subitems">' + "".join(f"<li>{_e(i)}</li>" for i in c.items) + "</ul>")
    parts.append('<table class="scale"><tr>' + "".join(f"<td>{v} {_e(lab)}</td>" for v, lab in rubric.scale)
                 + "</tr></table></section>")
    return "".join(parts)


def _item_html(item: PacketItem, position: int, rubric: Rubric) -> str:
    iid = item.item_id
    text = _e(item.text) if item.text else "[empty report]"
    parts = [f'<fieldset class="item" data-item="{iid}"><legend>Report {position}'
             f'<span class="item-id">{iid}</span></legend><pre class="report">{text}</pre>']
    for c in rubric.criteria:
        parts.append(f'<div class="criterion" role="radiogroup" aria-label="{_e(c.name)}">'
                     f'<span class="crit-name">{_e(c.name)}</span>')
        for v, lab in rubric.scale:
            parts.append(f'<label><input type="radio" name="{iid}__{c.id}" id="{iid}__{c.id}__{v}" '
                         f'value="{v}" required> {v} {_e(lab)}</label>')
        parts.append("</div>")
    parts.append(f'<label class="comment">Comment (optional)<textarea name="{iid}__comment" rows="2">'
                 "</textarea></label></fieldset>")
    return "".join(parts)


def render_form(reader_packet: ReaderPacket, *, rubric: Rubric, packet_sha256: str,
                title: str = "Report rating") -> str:
    """The complete HTML page for one reader.

    Args:
        reader_packet: that reader's cases in display order.
        rubric: criteria and scale.
        packet_sha256: the packet hash, carried into every saved rating file.
        title: page heading.
    """
    reader = reader_packet.reader
    n_items = len(reader_packet.item_ids)
    n_cases = len(reader_packet.cases)
    cases = []
    for case in reader_packet.cases:
        parts = [f'<section class="case" id="case-{case.number}"><h2>Case {case.number} of {n_cases}</h2>']
        if case.reference is not None:
            ref = _e(case.reference) if case.reference else "[empty report]"
            parts.append('<div class="reference"><h3>Reference report (ground truth)</h3>'
                         f'<pre class="report">{ref}</pre></div>')
        parts.extend(_item_html(item, pos, rubric) for pos, item in enumerate(case.items, start=1))
        parts.append("</section>")
        cases.append("".join(parts))
    criteria_json = _e(json.dumps(list(rubric.criterion_ids)))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} \u2014 {_e(reader)}</title><style>{_asset('form.css')}</style></head>\n"
        f'<body data-packet="{_e(packet_sha256)}" data-reader="{_e(reader)}" data-criteria="{criteria_json}">\n'
        f'<header class="bar"><h1>{_e(title)}</h1><span>Reader: <b>{_e(reader)}</b></span>'
        f'<progress id="progress" max="{n_items}" value="0"></progress>'
        f'<span id="progress-text">0 / {n_items} reports rated</span>'
        '<button type="button" id="save-csv">Save ratings (CSV)</button>'
        '<button type="button" id="save-json">Save ratings (JSON)</button>'
        '<label><input type="checkbox" id="allow-incomplete"> save incomplete</label>'
        '<div id="status" role="status"></div></header>\n'
        f'<main>{_rubric_html(rubric)}<form id="ratings" novalidate autocomplete="off">'
        + "\n".join(cases)
        + f'</form><p class="packet">Packet {_e(packet_sha256)}</p></main>\n'
        f"<script>{_asset('form.js')}</script>\n</body></html>\n"
    )
