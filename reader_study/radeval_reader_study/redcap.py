"""REDCap files: a data dictionary (instrument ``report_rating``) and a data import template.

The dictionary defines one record per (reader, report): read-only fields for the reader, item id,
packet hash, case number and report texts, one required radio field per criterion (choices from the
rubric's scale) and a free-text comment. The import template pre-fills one row per reader and item
in each reader's own order; ``record_id`` is ``<reader>-<item id>``. A REDCap export of this
instrument (raw values or labels) is read back by :mod:`radeval_reader_study.rating_files`.
"""

from __future__ import annotations

from pathlib import Path

from radeval.csv_safe import rows_to_csv
from radeval.paths import atomic_write_text
from radeval_reader_study.packet import ReaderPacket
from radeval_reader_study.rubric import Rubric

#: The instrument (REDCap "form name").
INSTRUMENT = "report_rating"

#: The column headings of a REDCap data dictionary, in REDCap's order.
DICTIONARY_COLUMNS = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)


def _csv(rows: list[list[object]], *, raw_columns: tuple[int, ...] = ()) -> str:
    # every cell neutralised against spreadsheet formulas except REDCap's own action tags (@READONLY ...)
    return rows_to_csv(rows, lineterminator="\r\n", raw_columns=raw_columns)


def field_labels(rubric: Rubric) -> dict[str, str]:
    """Variable name -> field label of every field in the instrument."""
    labels = {"record_id": "Record ID", "reader": "Reader", "item_id": "Report ID", "packet_sha256": "Packet",
              "case_number": "Case", "reference_report": "Reference report (ground truth)",
              "generated_report": "Report to rate"}
    for c in rubric.criteria:
        labels[c.id] = c.name + (f" \u2014 {c.description}" if c.description else "")
    labels["comment"] = "Comment (optional)"
    return labels


def data_dictionary(rubric: Rubric, *, show_reference: bool) -> str:
    """The data dictionary CSV text."""

    def field(name: str, ftype: str, label: str, *, choices: str = "", note: str = "", validation: str = "",
              required: bool = False, annotation: str = "", section: str = "", align: str = "") -> list[object]:
        row: dict[str, object] = {
            "Variable / Field Name": name, "Form Name": INSTRUMENT, "Section Header": section,
            "Field Type": ftype, "Field Label": label, "Choices, Calculations, OR Slider Labels": choices,
            "Field Note": note, "Text Validation Type OR Show Slider Number": validation,
            "Required Field?": "y" if required else "", "Custom Alignment": align, "Field Annotation": annotation,
        }
        return [row.get(c, "") for c in DICTIONARY_COLUMNS]

    lab = field_labels(rubric)
    rows: list[list[object]] = [list(DICTIONARY_COLUMNS)]
    rows.append(field("record_id", "text", lab["record_id"]))
    rows.append(field("reader", "text", lab["reader"], annotation="@READONLY"))
    rows.append(field("item_id", "text", lab["item_id"], annotation="@READONLY"))
    rows.append(field("packet_sha256", "text", lab["packet_sha256"], annotation="@READONLY @HIDDEN-SURVEY"))
    rows.append(field("case_number", "text", lab["case_number"], validation="integer", annotation="@READONLY"))
    if show_reference:
        rows.append(field("reference_report", "notes", lab["reference_report"], annotation="@READONLY"))
    rows.append(field("generated_report", "notes", lab["generated_report"], annotation="@READONLY"))
    choices = " | ".join(f"{v}, {v} {text}" for v, text in rubric.scale)
    for i, c in enumerate(rubric.criteria):
        rows.append(field(c.id, "radio", lab[c.id], choices=choices, note="; ".join(c.items), required=True,
                          section="Ratings" if i == 0 else "", align="LH"))
    rows.append(field("comment", "notes", lab["comment"]))
    return _csv(rows, raw_columns=(DICTIONARY_COLUMNS.index("Field Annotation"),))


def import_columns(rubric: Rubric, *, show_reference: bool) -> list[str]:
    """The import template's columns (REDCap variable names)."""
    cols = ["record_id", "reader", "item_id", "packet_sha256", "case_number"]
    if show_reference:
        cols.append("reference_report")
    return cols + ["generated_report", *rubric.criterion_ids, "comment"]


def import_template(reader_packets: list[ReaderPacket], *, rubric: Rubric, packet_sha256: str,
                    show_reference: bool) -> str:
    """The import CSV: one pre-filled row per reader and report, scores empty."""
    cols = import_columns(rubric, show_reference=show_reference)
    rows: list[list[object]] = [cols]
    for rp in reader_packets:
        for case in rp.cases:
            for item in case.items:
                values = {"record_id": f"{rp.reader}-{item.item_id}", "reader": rp.reader, "item_id": item.item_id,
                          "packet_sha256": packet_sha256, "case_number": case.number,
                          "reference_report": case.reference or "", "generated_report": item.text}
                rows.append([values.get(c, "") for c in cols])
    return _csv(rows)


def write_redcap(folder: str | Path, reader_packets: list[ReaderPacket], *, rubric: Rubric, packet_sha256: str,
                 show_reference: bool) -> list[Path]:
    """Write ``data_dictionary.csv`` and ``import_template.csv`` into ``folder``; returns their paths."""
    out = Path(folder)
    dictionary = out / "data_dictionary.csv"
    template = out / "import_template.csv"
    atomic_write_text(dictionary, data_dictionary(rubric, show_reference=show_reference))
    atomic_write_text(template, import_template(reader_packets, rubric=rubric, packet_sha256=packet_sha256,
                                                show_reference=show_reference))
    return [dictionary, template]
