"""Blinded reader studies: rubric, packet export, ingest + validation, unblinding, analysis.

Floor 3 of radeval-ct: imports only ``radeval`` floors 1–2. Heavy pieces (openpyxl, matplotlib,
krippendorff) load on first use.

Example:
    >>> from reader_study import default_rubric
    >>> default_rubric().criterion_ids
    ('clinical_accuracy', 'technical_quality')
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Rubric": "reader_study.rubric",
    "Criterion": "reader_study.rubric",
    "default_rubric": "reader_study.rubric",
    "load_rubric": "reader_study.rubric",
    "export_packet": "reader_study.export",
    "ExportResult": "reader_study.export",
    "verify_packet": "reader_study.export",
    "read_key": "reader_study.key",
    "StudyKey": "reader_study.key",
    "ingest": "reader_study.ingest",
    "IngestResult": "reader_study.ingest",
    "Problem": "reader_study.ingest",
    "read_rating_file": "reader_study.rating_files",
    "analyze": "reader_study.analysis",
    "StudyAnalysis": "reader_study.analysis",
    "write_report": "reader_study.report",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'reader_study' has no attribute {name!r}")
