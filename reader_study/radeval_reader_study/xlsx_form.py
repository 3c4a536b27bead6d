"""The XLSX rating workbook, one per reader: locked report cells and 1–5 drop-downs.

Sheet ``Ratings``: rows 1–3 name the reader, the packet hash and the scale; row 5 holds the machine
column names (hidden), row 6 the headings, and one row per report follows in the reader's order.
Only the score and comment cells are unlocked; the sheet is protected (no password: the protection
prevents accidents, not tampering), and each score cell has a list validation of the scale values.
Sheet ``Instructions`` holds the rubric. Report text that starts with ``=`` is stored as text, never
as a formula. Document properties carry no information about systems.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from radeval.errors import InputError
from radeval_reader_study.packet import ReaderPacket
from radeval_reader_study.records import RatingFile, RawRating
from radeval_reader_study.rubric import Rubric

RATINGS_SHEET = "Ratings"
MACHINE_ROW = 5
HEADING_ROW = 6
FIRST_DATA_ROW = 7


def _columns(rubric: Rubric, show_reference: bool) -> list[tuple[str, str, float]]:
    cols = [("case_number", "Case", 7), ("item_id", "Report ID", 14)]
    if show_reference:
        cols.append(("reference_report", "Reference report (ground truth)", 60))
    cols.append(("generated_report", "Report to rate", 60))
    cols += [(c.id, f"{c.name} ({rubric.minimum}\u2013{rubric.maximum})", 16) for c in rubric.criteria]
    cols.append(("comment", "Comment (optional)", 30))
    return cols


def _text_cell(ws: Any, row: int, col: int, value: str) -> Any:
    cell = ws.cell(row=row, column=col)
    cell.value = value
    cell.data_type = "s"  # never a formula, even when the text starts with "="
    return cell


def write_workbook(path: str | Path, reader_packet: ReaderPacket, *, rubric: Rubric, packet_sha256: str,
                   show_reference: bool) -> None:
    """Write one reader's workbook.

    Args:
        path: the ``.xlsx`` file to write.
        reader_packet: that reader's cases in display order.
        rubric: criteria and scale.
        packet_sha256: the packet hash (cell B2).
        show_reference: add the reference report column.
    """
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = RATINGS_SHEET
    cols = _columns(rubric, show_reference)
    _write_banner(ws, reader_packet.reader, packet_sha256, rubric)
    _write_headings(ws, cols)
    last = _write_report_rows(ws, reader_packet, cols, rubric)
    _add_score_validations(ws, cols, rubric, last)
    _protect_ratings(ws)
    _write_instructions(wb.create_sheet("Instructions"), rubric)
    _neutral_properties(wb)
    _save(wb, path)


def _write_banner(ws: Any, reader: str, packet_sha256: str, rubric: Rubric) -> None:
    """Rows 1-3: reader, packet hash and scale (labels in bold)."""
    from openpyxl.styles import Font

    bold = Font(bold=True)
    labels = [("Reader", reader), ("Packet", packet_sha256),
              ("Scale", " \u00b7 ".join(f"{v} {lab}" for v, lab in rubric.scale))]
    for r, (label, value) in enumerate(labels, start=1):
        ws.cell(row=r, column=1, value=label).font = bold
        _text_cell(ws, r, 2, value)


def _write_headings(ws: Any, cols: list[tuple[str, str, float]]) -> None:
    """The hidden machine-name row, the visible headings row and the column widths."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    for j, (machine, heading, width) in enumerate(cols, start=1):
        _text_cell(ws, MACHINE_ROW, j, machine)
        head = _text_cell(ws, HEADING_ROW, j, heading)
        head.font = bold
        head.fill = PatternFill("solid", fgColor="DDE5EF")
        head.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.row_dimensions[MACHINE_ROW].hidden = True


def _write_report_rows(ws: Any, reader_packet: ReaderPacket, cols: list[tuple[str, str, float]],
                       rubric: Rubric) -> int:
    """One row per report in the reader's order (score and comment cells unlocked); returns the last row."""
    from openpyxl.styles import Alignment, Protection

    editable = {c.id for c in rubric.criteria} | {"comment"}
    wrap = Alignment(wrap_text=True, vertical="top")
    unlocked = Protection(locked=False)
    row = FIRST_DATA_ROW
    for case in reader_packet.cases:
        for item in case.items:
            values = {"case_number": case.number, "item_id": item.item_id,
                      "reference_report": case.reference or "", "generated_report": item.text}
            for j, (machine, _, _) in enumerate(cols, start=1):
                if machine in editable:
                    cell = ws.cell(row=row, column=j)
                    cell.protection = unlocked
                    cell.alignment = Alignment(horizontal="center", vertical="top")
                elif machine == "case_number":
                    ws.cell(row=row, column=j, value=case.number).alignment = wrap
                else:
                    _text_cell(ws, row, j, str(values[machine])).alignment = wrap
            row += 1
    return row - 1


def _add_score_validations(ws: Any, cols: list[tuple[str, str, float]], rubric: Rubric, last: int) -> None:
    """A drop-down list of the scale values on every score column (rows ``FIRST_DATA_ROW``..``last``)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    choices = ",".join(str(v) for v in rubric.values)
    for j, (machine, heading, _) in enumerate(cols, start=1):
        if machine in {c.id for c in rubric.criteria}:
            dv = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True, showDropDown=False,
                                showErrorMessage=True, errorTitle="Invalid score",
                                error=f"Choose a whole number from {rubric.minimum} to {rubric.maximum}.",
                                showInputMessage=True, promptTitle=heading[:32],
                                prompt=", ".join(f"{v} {lab}" for v, lab in rubric.scale)[:255])
            letter = get_column_letter(j)
            if last >= FIRST_DATA_ROW:
                dv.add(f"{letter}{FIRST_DATA_ROW}:{letter}{last}")
            ws.add_data_validation(dv)


def _protect_ratings(ws: Any) -> None:
    """Freeze the headings and the first two columns; protect the sheet (no password), resizing allowed."""
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=3)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def _write_instructions(info: Any, rubric: Rubric) -> None:
    """The ``Instructions`` sheet: how to rate, each criterion with its items, the scale (protected)."""
    info.column_dimensions["A"].width = 100
    lines = ["Rate every report on each criterion; choose a score from the drop-down in each score cell.",
             "Reports appear in random order and do not identify their source.", ""]
    for c in rubric.criteria:
        lines.append(c.name)
        if c.description:
            lines.append(c.description)
        lines += [f"  \u2022 {i}" for i in c.items]
        lines.append("")
    lines += [f"{v} = {lab}" for v, lab in rubric.scale]
    for r, line in enumerate(lines, start=1):
        _text_cell(info, r, 1, line)
    info.protection.sheet = True


def _neutral_properties(wb: Any) -> None:
    """Document properties that say nothing about systems."""
    props = wb.properties
    props.creator = "radeval-ct reader study"
    props.lastModifiedBy = "radeval-ct reader study"
    props.title = "Report rating"
    props.subject = props.description = props.keywords = props.category = None


def _save(wb: Any, path: str | Path) -> None:
    """Save atomically (a reader never sees a half-written workbook)."""
    import io

    from radeval.paths import atomic_write_bytes

    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(path, buf.getvalue())


def read_workbook(path: str | Path, *, criteria: Sequence[str] | None = None) -> RatingFile:
    """Read a filled workbook back into raw rows (every data row with an item id or any value).

    Args:
        path: the workbook.
        criteria: the rubric's criterion ids; other non-bookkeeping columns are noted, not read.
            ``None`` reads every such column as a criterion.

    Raises:
        InputError: not an XLSX file, no ``Ratings`` sheet, or no ``item_id`` header row.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    p = Path(path)
    try:
        # data_only=False: a formula cell comes back as its formula (data_type "f"), so that it is reported
        # as a formula instead of reading as an empty (never computed) cell
        wb = load_workbook(p, data_only=False, read_only=True)
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(f"{p}: cannot read as XLSX ({exc})") from None
    except Exception as exc:  # openpyxl raises assorted errors on damaged parts of the archive
        raise InputError(f"{p}: cannot read as XLSX ({type(exc).__name__}: {exc})") from None
    if RATINGS_SHEET not in wb.sheetnames:
        raise InputError(f"{p}: no sheet {RATINGS_SHEET!r} (sheets: {', '.join(wb.sheetnames)})")
    formulas: dict[tuple[int, int], str] = {}
    rows = []
    for i, cells_row in enumerate(wb[RATINGS_SHEET].iter_rows()):
        values = []
        for j, cell in enumerate(cells_row):
            value = getattr(cell, "value", None)
            if getattr(cell, "data_type", None) == "f":
                formulas[(i, j)] = str(value)
            values.append(value)
        rows.append(tuple(values))
    wb.close()
    meta: dict[str, Any] = {}
    header_index = None
    for i, row in enumerate(rows[:20]):
        cells = ["" if v is None else str(v).strip() for v in row]
        if "item_id" in cells:
            header_index = i
            break
        if len(cells) >= 2 and cells[0] in {"Reader", "Packet"}:
            meta[cells[0]] = cells[1] or None
    if header_index is None:
        raise InputError(f"{p}: sheet {RATINGS_SHEET!r} has no header row with 'item_id'")
    header = ["" if v is None else str(v).strip() for v in rows[header_index]]
    known = {"case_number", "item_id", "reference_report", "generated_report", "comment"}
    crit_cols = {name: j for j, name in enumerate(header)
                 if name and name not in known and (criteria is None or name in criteria)}
    notes = []
    if criteria is not None:
        unknown = [name for name in header if name and name not in known and name not in criteria]
        if unknown:
            notes.append(f"{p}: column(s) {', '.join(map(repr, unknown))} are not criteria of the rubric "
                         f"({', '.join(criteria)}) and were not read")
    item_col = header.index("item_id")
    comment_col = header.index("comment") if "comment" in header else None
    for (i, j), formula in sorted(formulas.items()):
        if i > header_index and (j in crit_cols.values() or j in (item_col, comment_col)):
            from openpyxl.utils import get_column_letter

            notes.append(f"{p}: {RATINGS_SHEET}!{get_column_letter(j + 1)}{i + 1}: cell holds a formula "
                         f"({formula}); formulas are not evaluated, type the value itself")
    out = []
    for i in range(header_index + 1, len(rows)):
        row = rows[i]
        if i == header_index + 1 and row and any(isinstance(v, str) and v.startswith("Report ID") for v in row):
            continue  # the visible headings row
        get = (lambda j, row=row: row[j] if j is not None and j < len(row) else None)
        item = get(item_col)
        scores = {c: get(j) for c, j in crit_cols.items()}
        comment = get(comment_col)
        if item in (None, "") and all(v in (None, "") for v in scores.values()) and comment in (None, ""):
            continue  # a truly empty row (e.g. below the table)
        out.append(RawRating(source=f"{p}:{RATINGS_SHEET}!{i + 1}", reader=meta.get("Reader"),
                             item_id=None if item is None else str(item).strip(), scores=scores,
                             comment="" if comment is None else str(comment), packet_sha256=meta.get("Packet")))
    return RatingFile(path=p, format="xlsx", rows=tuple(out), problems=tuple(notes))
