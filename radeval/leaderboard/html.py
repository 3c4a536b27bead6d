"""The leaderboard as one self-contained HTML page: sortable table, CIs, marks, signatures, literature.

No external scripts, styles or fonts; every piece of text from reports, system or metric names is
HTML-escaped, so a name containing ``<script>`` is shown as text.
"""

from __future__ import annotations

import math
from html import escape

from radeval.leaderboard.diagnostic_flags import flag_block_html
from radeval.leaderboard.literature import LITERATURE_METRICS
from radeval.leaderboard.table import BETTER, WORSE, Leaderboard, format_number, format_p

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1b1f24;max-width:1400px}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.9rem}th,td{padding:.35rem .6rem;border-bottom:1px solid #d0d7de}
th{background:#f6f8fa;text-align:left;white-space:nowrap}th.sortable{cursor:pointer}
th.sortable:after{content:" \\2195";color:#8c959f}th[aria-sort=ascending]:after{content:" \\2191"}
th[aria-sort=descending]:after{content:" \\2193"}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ci{color:#57606a;font-size:.8rem}.better{color:#1a7f37;font-weight:600}.worse{color:#cf222e;font-weight:600}
.baseline{font-style:italic}code{font-size:.8rem;background:#f6f8fa;padding:.1rem .3rem}
.lit{opacity:.85}.note{color:#57606a;font-size:.85rem}
"""

_SCRIPT = """
(function(){
  var table=document.getElementById('leaderboard');
  var heads=table.querySelectorAll('th.sortable');
  heads.forEach(function(th){
    th.addEventListener('click',function(){
      var col=Number(th.dataset.col);
      var dir=th.getAttribute('aria-sort')==='descending'?'ascending':'descending';
      heads.forEach(function(h){h.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',dir);
      var body=table.tBodies[0];
      var rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){
        var x=a.cells[col].dataset.value, y=b.cells[col].dataset.value;
        var nx=parseFloat(x), ny=parseFloat(y);
        var cmp;
        if(isNaN(nx)&&isNaN(ny)){cmp=String(x).localeCompare(String(y));}
        else if(isNaN(nx)){return 1;} else if(isNaN(ny)){return -1;} else {cmp=nx-ny;}
        return dir==='ascending'?cmp:-cmp;
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
})();
"""


def _value_attr(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(float(value))


def leaderboard_html(board: Leaderboard) -> str:
    """Render the leaderboard as a complete, offline HTML document."""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{escape(board.title)}</title>", f"<style>{_STYLE}</style></head><body>",
           f"<h1>{escape(board.title)}</h1>",
           '<p class="note">Click a column header to sort. Scores with 95% confidence intervals; '
           f'<span class="better">{BETTER}</span> / <span class="worse">{WORSE}</span>: significantly better / '
           "worse than the baseline after multiple-comparison correction.</p>",
           '<table id="leaderboard"><thead><tr><th class="sortable" data-col="0">system</th>']
    for i, metric in enumerate(board.metrics, start=1):
        out.append(f'<th class="sortable" data-col="{i}" title="{escape(board.signatures().get(metric, ""))}">'
                   f"{escape(metric)}</th>")
    out.append("</tr></thead><tbody>")
    for system in board.systems:
        is_base = system == board.baseline
        row_class = ' class="baseline"' if is_base else ""
        suffix = " (baseline)" if is_base else ""
        out.append(f'<tr data-system="{escape(system)}"{row_class}>'
                   f'<td data-value="{escape(system)}">{escape(system)}{suffix}</td>')
        for metric in board.metrics:
            row = board.cell(system, metric)
            if row is None:
                out.append('<td class="num" data-value="">—</td>')
                continue
            mark = board.mark(system, metric)
            cls = " better" if mark == BETTER else (" worse" if mark == WORSE else "")
            p_text = "" if is_base else f"Δ {format_number(row['delta'])}, p={format_p(row['p_corrected'])} (corrected)"
            out.append(
                f'<td class="num{cls}" data-metric="{escape(metric)}" data-value="{_value_attr(row["score"])}" '
                f'title="{escape(p_text)}">{format_number(row["score"])} {mark}<br>'
                f'<span class="ci">[{format_number(row["ci_low"])}, {format_number(row["ci_high"])}]</span></td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    out.append(flag_block_html(board))
    out.append(f"<p>Significance: <code>{escape(board.significance_signature)}</code></p>")
    if board.unavailable:
        out.append('<h2>Metrics not computed</h2><ul id="unavailable">')
        out += [f"<li><b>{escape(m)}</b>: {escape(r)}</li>" for m, r in board.unavailable.items()]
        out.append("</ul>")
    out.append("<h2>Metric signatures</h2><ul>")
    out += [f"<li><code>{escape(m)}</code>: <code>{escape(s)}</code></li>" for m, s in board.signatures().items()]
    out.append("</ul>")
    out += [f'<p class="note">{escape(n)}</p>' for n in board.notes]
    if board.literature:
        out.append('<h2 id="literature">Reported in the literature (not reproduced here)</h2>'
                   '<p class="note">Numbers copied from the papers; their metric implementations and text '
                   "normalisation may differ from ours, so they are not comparable with the table above.</p>"
                   '<table class="lit"><thead><tr><th>system</th>')
        out += [f"<th>{escape(m)}</th>" for m in LITERATURE_METRICS]
        out.append("<th>source</th><th>note</th></tr></thead><tbody>")
        for res in board.literature:
            out.append(f"<tr><td>{escape(res.system)}</td>")
            out += [f'<td class="num">{format_number(res.scores[m]) if m in res.scores else ""}</td>'
                    for m in LITERATURE_METRICS]
            out.append(f"<td>{escape(res.source)}</td><td>{escape(res.note)}</td></tr>")
        out.append("</tbody></table>")
    out.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(out)
