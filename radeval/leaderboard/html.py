"""The leaderboard as one self-contained HTML page: sortable table, CIs, marks, signatures, literature.

No external scripts, styles or fonts; every piece of text from reports, system or metric names is
HTML-escaped, so a name containing ``<script>`` is shown as text.
"""

from __future__ import annotations

import math
import re
from html import escape

from radeval.leaderboard.diagnostic_flags import flag_block_html
from radeval.leaderboard.listed_comparisons import comparisons_html
from radeval.leaderboard.literature import LITERATURE_METRICS
from radeval.leaderboard.table import BETTER, WORSE, Leaderboard, format_number, format_p

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1b1f24;max-width:1400px}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:separate;border-spacing:0;font-size:.9rem}
th,td{padding:.35rem .6rem;border-bottom:1px solid #d0d7de;background:#fff}
th{background:#f6f8fa;text-align:left;white-space:nowrap}th.sortable{cursor:pointer}
th.sortable:after{content:" \\2195";color:#8c959f}th[aria-sort=ascending]:after{content:" \\2191"}
th[aria-sort=descending]:after{content:" \\2193"}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.num,td.system{white-space:nowrap}
.ci{color:#57606a;font-size:.8rem;font-weight:400}.better{color:#1a7f37;font-weight:600}.worse{color:#cf222e;font-weight:600}
.baseline td{font-style:italic}code{font-size:.8rem;background:#f6f8fa;padding:.1rem .3rem}
.lit{opacity:.85}.note{color:#57606a;font-size:.85rem}
.scroll{overflow:auto;max-height:80vh;max-width:100%;border:1px solid #d0d7de}
#leaderboard thead th{position:sticky;top:0;z-index:2}
#leaderboard .stick{position:sticky;left:0;z-index:1}
#leaderboard thead .stick{z-index:3}
#leaderboard .rank{width:3.5rem;min-width:3.5rem;max-width:3.5rem;box-sizing:border-box;text-align:center}
#leaderboard .stick.after-rank{left:3.5rem}
#leaderboard td.system{max-width:18rem;overflow:hidden;text-overflow:ellipsis;box-shadow:inset -1px 0 #d0d7de}
#leaderboard tr.group-start td{border-top:2px solid #57606a}
#leaderboard th.group{text-align:center;border-left:2px solid #d0d7de}
.toggles button{margin:0 .3rem .5rem 0;font-size:.85rem;cursor:pointer}
.toggles button[aria-pressed=false]{opacity:.55;text-decoration:line-through}
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
  function placeMetricRow(){
    var first=table.tHead.rows[0], second=table.tHead.rows[1];
    if(!second){return;}
    var h=first.getBoundingClientRect().height;
    Array.prototype.forEach.call(second.cells,function(c){c.style.top=h+'px';});
  }
  document.querySelectorAll('.toggles button[data-group]').forEach(function(btn){
    btn.addEventListener('click',function(){
      var hidden=table.classList.toggle('hide-'+btn.dataset.group);
      btn.setAttribute('aria-pressed',hidden?'false':'true');
      placeMetricRow();
    });
  });
  placeMetricRow();
  window.addEventListener('resize',placeMetricRow);
})();
"""


def _with_code(text: str) -> str:
    """Escaped text whose `backticked` spans become <code> (e.g. the `radeval fetch` command)."""
    return re.sub(r"`([^`<>]+)`", r"<code>\1</code>", escape(text))


def _value_attr(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(float(value))


def _preamble_html(blocks) -> list[str]:
    out: list[str] = []
    for block in blocks:
        out.append(f'<section class="preamble"><h2>{escape(block.title)}</h2>')
        out += [f"<p>{escape(p)}</p>" for p in block.paragraphs]
        if block.items:
            out.append("<ul>" + "".join(f"<li>{escape(i)}</li>" for i in block.items) + "</ul>")
        out.append("</section>")
    return out


def _score_cell(board: Leaderboard, system: str, metric: str, cls_group: str) -> str:
    row = board.cell(system, metric)
    if row is None:
        return f'<td class="num {cls_group}" data-value="">—</td>'
    mark = board.mark(system, metric)
    cls = " better" if mark == BETTER else (" worse" if mark == WORSE else "")
    p_text = "" if system == board.baseline else \
        f"Δ {format_number(row['delta'])}, p={format_p(row['p'])} (uncorrected), {format_p(row['p_corrected'])} (corrected)"
    return (f'<td class="num {cls_group}{cls}" data-metric="{escape(metric)}" data-value="{_value_attr(row["score"])}" '
            f'title="{escape(p_text)}">{format_number(row["score"])} {mark}<br>'
            f'<span class="ci">[{format_number(row["ci_low"])}, {format_number(row["ci_high"])}]</span></td>')


def leaderboard_html(board: Leaderboard) -> str:
    """Render the leaderboard as a complete, offline HTML document.

    The table scrolls inside its own box with a sticky header and sticky rank / system columns; metric
    groups get a header row and a toggle button that hides their columns (class ``hide-g<i>`` on the
    table); rows follow the rank order when a primary metric is set.

    Args:
        board: the leaderboard.

    Returns:
        the HTML text.
    """
    ranked = board.ranking is not None
    groups = board.metric_groups()
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{escape(board.title)}</title>", f"<style>{_STYLE}"]
    out += [f"#leaderboard.hide-g{i} .g{i}{{display:none}}" for i in range(len(groups))]
    out += ["</style></head><body>", f"<h1>{escape(board.title)}</h1>"]
    out += _preamble_html(board.preamble)
    out += [f'<p class="note" id="order-note">{_with_code(board.order_note())}</p>',
            '<p class="note">Click a column header to sort. Scores with 95% confidence intervals; '
            f'<span class="better">{BETTER}</span> / <span class="worse">{WORSE}</span>: significantly better / '
            "worse than the baseline after multiple-comparison correction.</p>"]
    if board.examples:
        out.append(f'<p><a id="examples-link" href="{escape(board.examples)}.html">Qualitative examples</a>: the '
                   "cases with the largest per-case differences on the primary metric, for every compared pair.</p>")
    out.append('<div class="toggles">Metric groups: ' + "".join(
        f'<button type="button" data-group="g{i}" aria-pressed="true" title="show / hide these columns">'
        f"{escape(g)} ({len(ms)})</button>" for i, (g, ms) in enumerate(groups)) + "</div>")
    lead = 2 if ranked else 1
    out.append('<div class="scroll" id="board-scroll"><table id="leaderboard"><thead><tr>')
    if ranked:
        out.append('<th class="sortable stick rank" data-col="0" rowspan="2" title="rank group">rank</th>')
    out.append(f'<th class="sortable stick system{" after-rank" if ranked else ""}" data-col="{lead - 1}" '
               'rowspan="2">system</th>')
    out += [f'<th class="group g{i}" colspan="{len(ms)}" data-group="{escape(g)}">{escape(g)}</th>'
            for i, (g, ms) in enumerate(groups)]
    out.append("</tr><tr>")
    col = lead
    sigs = board.signatures()
    group_of: dict[str, int] = {}
    for i, (_, ms) in enumerate(groups):
        for metric in ms:
            group_of[metric] = i
            out.append(f'<th class="sortable g{i}" data-col="{col}" title="{escape(sigs.get(metric, ""))}">'
                       f"{escape(metric)}</th>")
            col += 1
    out.append("</tr></thead><tbody>")
    previous_group = None
    for system in board.ordered_systems:
        is_base = system == board.baseline
        classes = (["baseline"] if is_base else [])
        rank = board.rank(system)
        if ranked and previous_group is not None and rank != previous_group:
            classes.append("group-start")
        previous_group = rank
        row_class = f' class="{" ".join(classes)}"' if classes else ""
        suffix = " (baseline)" if is_base else ""
        out.append(f'<tr data-system="{escape(system)}"{row_class}>')
        if ranked:
            out.append(f'<td class="stick rank" data-value="{rank if rank is not None else ""}">'
                       f'{rank if rank is not None else "—"}</td>')
        out.append(f'<td class="stick system{" after-rank" if ranked else ""}" data-value="{escape(system)}" '
                   f'title="{escape(system)}">{escape(system)}{suffix}</td>')
        for _, ms in groups:
            out += [_score_cell(board, system, metric, f"g{group_of[metric]}") for metric in ms]
        out.append("</tr>")
    out.append("</tbody></table></div>")
    out.append(flag_block_html(board))
    out.append(f"<p>Significance: <code>{escape(board.significance_signature)}</code></p>")
    if board.fidelity:
        out.append('<h2 id="fidelity">Systems and their sources</h2><ul>')
        out += [f"<li><b>{escape(s)}</b>: {escape(e['fidelity'])}{' — ' + escape(e['note']) if e['note'] else ''}</li>"
                for s, e in board.fidelity.items()]
        out.append("</ul>")
    out += comparisons_html(board.comparisons)
    if board.unavailable:
        out.append('<h2>Metrics not computed</h2><ul id="unavailable">')
        out += [f"<li><b>{escape(m)}</b>: {_with_code(r)}</li>" for m, r in board.unavailable_notes().items()]
        out.append("</ul>")
    out.append("<h2>Metric signatures</h2><ul>")
    out += [f"<li><code>{escape(m)}</code>: <code>{escape(s)}</code></li>" for m, s in board.signatures().items()]
    out.append("</ul>")
    out += [f'<p class="note">{escape(n)}</p>' for n in board.shareable_notes()]
    if board.literature:
        out.append('<h2 id="literature">Reported in the literature (not reproduced here)</h2>'
                   '<p class="note">Numbers copied from the papers; their metric implementations and text '
                   "normalisation may differ from ours, so they are not comparable with the table above.</p>"
                   '<table class="lit"><thead><tr><th>system</th>')
        out += [f"<th>{escape(m)}</th>" for m in LITERATURE_METRICS]
        out.append("<th>source</th><th>note</th></tr></thead><tbody>")
        for res in board.literature:
            out.append(f"<tr><td>{escape(res.system)}</td>")
            out += [f'<td class="num">{res.display(m, format_number)}</td>'
                    for m in LITERATURE_METRICS]
            out.append(f"<td>{escape(res.source)}</td><td>{escape(res.note)}</td></tr>")
        out.append("</tbody></table>")
    out.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(out)
