"""Write a reader-study analysis as Markdown, HTML (self-contained, escaped), CSV tables and a PNG plot."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from radeval import number_format
from radeval.csv_safe import frame_to_csv
from radeval.paths import atomic_write_text
from radeval_reader_study.analysis import StudyAnalysis


@dataclass(frozen=True)
class ReportFiles:
    """Paths written by :func:`write_report`."""

    markdown: Path
    html: Path
    plot: Path
    tables: tuple[Path, ...]


def _num(x: float, digits: int = 2) -> str:
    return number_format.fixed(x, digits, missing=number_format.MISSING_NA)


def _pct(x: float) -> str:
    return number_format.percent(x, missing=number_format.MISSING_NA)


def _p(x: float) -> str:
    return number_format.p_value(x, missing=number_format.MISSING_NA)


def _tables(a: StudyAnalysis) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(title, header, rows, note) of every table in the report."""
    crit_names = {c.id: c.name for c in a.rubric.criteria}
    out = []
    header = ["System"] + [crit_names[c] for c in a.rubric.criterion_ids]
    rows = []
    for system in a.systems:
        row = [system + (" (baseline)" if system == a.baseline else "")]
        for c in a.rubric.criterion_ids:
            r = a.summary[(a.summary["system"] == system) & (a.summary["criterion"] == c)].iloc[0]
            cell = f"{_num(r['mean'])} [{_num(r['ci_low'])}, {_num(r['ci_high'])}]"
            if system != a.baseline:
                cell += f" ({_pct(r['diff_pct'])} [{_pct(r['diff_pct_low'])}, {_pct(r['diff_pct_high'])}])"
            row.append(cell)
        rows.append(row)
    conf = int(round(100 * a.settings.get("confidence", 0.95)))
    out.append(("Mean rating per system", header, rows,
                f"Mean of per-case means over readers, [{conf}% bootstrap CI over cases]; in parentheses the "
                f"difference from {a.baseline} in percent of the baseline mean."))
    rows = [[r.system, crit_names[r.criterion], str(r.n_pairs), _num(r.mean_diff, 3), _pct(r.diff_pct),
             _num(r.statistic, 1), _p(r.p_value), _p(r.p_holm)] for r in a.comparisons.itertuples()]
    vs_baseline = bool(len(a.comparisons)) and (a.comparisons["baseline"] == a.baseline).all()
    if not vs_baseline:
        rows = [[f"{r.system} vs {r.baseline}", *row[1:]] for r, row in zip(a.comparisons.itertuples(), rows)]
    out.append((f"Paired comparisons with {a.baseline}" if vs_baseline else "Paired comparisons",
                ["System" if vs_baseline else "Pair", "Criterion", "Cases", "Mean difference", "% difference", "W",
                 "p", "p (Holm)"], rows,
                "Wilcoxon signed-rank test on per-case means (zero differences dropped), two-sided; Holm "
                "correction over all comparisons in this table."))
    if a.paper is not None:
        rows = [[f"{r.system} vs {r.reference}", crit_names[r.criterion], _pct(r.diff_pct), _p(r.p_holm),
                 _pct(r.paper_diff_pct)] for r in a.paper.itertuples()]
        out.append(("The RAD3D-Prefix paper's reader-study figures beside ours",
                    ["Pair", "Criterion", "% difference (ours)", "p (Holm)", "% difference (paper)"], rows,
                    "The paper (two clinicians, 100 reports) quotes V-3 +9.8% over the baseline and +3.7% over V-2 in "
                    "clinical relevance, and +9.4% over V-2 in linguistic quality (where the baseline scored highest)."))
    rows = []
    for r in a.agreement.itertuples():
        icc = f"{_num(r.icc_2_1)} [{_num(r.icc_low)}, {_num(r.icc_high)}]"
        rows.append([crit_names[r.criterion], r.scope, str(r.n_items), str(r.n_readers), str(r.n_complete),
                     _num(r.kappa_quadratic, 3), icc, _num(r.alpha_ordinal, 3)])
    out.append(("Inter-rater agreement",
                ["Criterion", "Systems", "Items", "Readers", "Complete items", "Cohen's κ (quadratic)",
                 f"ICC(2,1) [{conf}% CI]", "Krippendorff's α (ordinal)"], rows,
                "κ needs exactly two readers and ICC items rated by every reader (complete items); α uses every "
                "rating."))
    rows = [[r.reader, r.system, crit_names[r.criterion], str(r.n), _num(r.mean)] for r in a.per_reader.itertuples()]
    out.append(("Mean rating per reader", ["Reader", "System", "Criterion", "Ratings", "Mean"], rows, ""))
    if a.coverage is not None:
        rows = [[r.reader, str(r.rated), str(r.expected), f"{100 * r.fraction:.1f}%"] for r in a.coverage.itertuples()]
        out.append(("Completeness", ["Reader", "Scores", "Expected", "Complete"], rows,
                    "Usable scores after validation; see the ingest problems for what is missing."))
    return out


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(a: StudyAnalysis, *, title: str = "Reader study", plot_name: str | None = None) -> str:
    """The report as Markdown."""
    lines = [f"# {title}", ""]
    for title_, header, rows, note in _tables(a):
        lines += [f"## {title_}", "", "| " + " | ".join(map(_md_escape, header)) + " |",
                  "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
        if note:
            lines += ["", note]
        lines.append("")
    if plot_name:
        lines += [f"![mean ratings]({plot_name})", ""]
    lines += [f"Signature: `{a.settings.get('signature', '')}`", ""]
    return "\n".join(lines)


_CSS = ("body{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccd;padding:.25rem .6rem;"
        "text-align:left}th{background:#eef2f7}p.note{color:#556}")


def to_html(a: StudyAnalysis, *, title: str = "Reader study", plot_png: bytes | None = None) -> str:
    """The report as one self-contained HTML page (the plot embedded; all text escaped)."""
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
             "img-src data:\">",
             f"<title>{e(title)}</title><style>{_CSS}</style></head><body>", f"<h1>{e(title)}</h1>"]
    for title_, header, rows, note in _tables(a):
        parts.append(f"<h2>{e(title_)}</h2><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>" + (f'<p class="note">{e(note)}</p>' if note else ""))
    if plot_png:
        parts.append(f'<img alt="mean ratings" src="data:image/png;base64,{base64.b64encode(plot_png).decode()}">')
    parts.append(f"<p><code>{e(a.settings.get('signature', ''))}</code></p></body></html>\n")
    return "\n".join(parts)


def write_report(analysis: StudyAnalysis, out_dir: str | Path, *, title: str = "Reader study") -> ReportFiles:
    """Write ``report.md``, ``report.html``, ``ratings.png`` and the tables as CSV into ``out_dir``."""
    from radeval_reader_study.plot import plot_means

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot = plot_means(analysis, out / "ratings.png")
    md = out / "report.md"
    page = out / "report.html"
    atomic_write_text(md, to_markdown(analysis, title=title, plot_name=plot.name))
    atomic_write_text(page, to_html(analysis, title=title, plot_png=plot.read_bytes()))
    tables = []
    frames: dict[str, pd.DataFrame | None] = {
        "summary": analysis.summary, "comparisons": analysis.comparisons, "agreement": analysis.agreement,
        "per_reader": analysis.per_reader, "coverage": analysis.coverage, "paper_comparison": analysis.paper}
    for name, frame in frames.items():
        if frame is not None:
            path = out / f"{name}.csv"
            atomic_write_text(path, frame_to_csv(frame))
            tables.append(path)
    return ReportFiles(markdown=md, html=page, plot=plot, tables=tuple(tables))
