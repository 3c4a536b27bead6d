"""Blinded reader studies: rubric, packet export, ingest + validation, unblinding, analysis.

The workflow (Python API, or ``radeval reader-study export|ingest|analyze``):

1. :func:`export_packet` samples cases (seeded, optionally stratified), gives every system's report
   an opaque item id, shuffles per case and per reader, and writes the packet (offline HTML form and
   XLSX per reader, REDCap dictionary + import template) plus the unblinding key outside it.
2. Readers return the form's CSV/JSON, the filled XLSX, or a REDCap export.
3. :func:`ingest` validates those files against the key (out-of-range, missing, duplicate, unknown
   item/reader, other packet) and keeps every usable score; each problem names file:row, reader, item.
4. :func:`analyze` unblinds and computes means with bootstrap CIs, % difference vs the baseline,
   Wilcoxon signed-rank tests with Holm correction, and agreement (weighted κ, ICC(2,1),
   Krippendorff's α); :func:`write_report` writes Markdown, HTML, CSV tables and a PNG plot.

Floor 3 of radeval-ct: imports only ``radeval`` floors 1–2. Heavy pieces (openpyxl, matplotlib,
scipy) load on first use.

Example:
    >>> from radeval_reader_study import default_rubric
    >>> default_rubric().criterion_ids
    ('clinical_accuracy', 'technical_quality')
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Rubric": "radeval_reader_study.rubric",
    "Criterion": "radeval_reader_study.rubric",
    "default_rubric": "radeval_reader_study.rubric",
    "load_rubric": "radeval_reader_study.rubric",
    "export_packet": "radeval_reader_study.export",
    "ExportResult": "radeval_reader_study.export",
    "verify_packet": "radeval_reader_study.export",
    "read_key": "radeval_reader_study.key",
    "StudyKey": "radeval_reader_study.key",
    "ingest": "radeval_reader_study.ingestion",
    "IngestResult": "radeval_reader_study.ingestion",
    "Problem": "radeval_reader_study.ingestion",
    "read_rating_file": "radeval_reader_study.rating_files",
    "analyze": "radeval_reader_study.analysis",
    "StudyAnalysis": "radeval_reader_study.analysis",
    "write_report": "radeval_reader_study.report",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'radeval_reader_study' has no attribute {name!r}")

