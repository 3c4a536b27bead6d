"""Report corpora drawn from the phantom generator: findings text and labels of fresh phantoms, volumes discarded.

A phantom's report follows from its labels and the details (side, lobe, size, device) drawn with its anatomy, so a
corpus of phantom *reports* is drawn by writing a phantom dataset on a small grid (the volumes are thrown away), and
reading its reports and labels back through :class:`radeval.data.ctrate.CTRateDataset`, exactly as a suite reads
its own dataset. Used by the offline demo's stand-in report LLM (:mod:`radeval_models.findings_lm`); the seed must
differ from every evaluated dataset's, so no evaluation report is in a corpus.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from radeval.data.ctrate import CTRateDataset
from radeval.data.phantom import PHANTOM_OPTIONS, make_phantom_dataset
from radeval.errors import InputError

#: The grid the corpus phantoms are drawn on: reports do not depend on the image size, and a small grid is fast.
CORPUS_SHAPE: tuple[int, int, int] = (16, 16, 12)

#: ``make_phantom_dataset`` options that shape the reports; the other phantom options only change the images (or the
#: split) and are accepted and ignored.
REPORT_OPTIONS: tuple[str, ...] = ("labels", "negation_rate", "prevalence")
IMAGE_OPTIONS: tuple[str, ...] = tuple(o for o in PHANTOM_OPTIONS if o not in REPORT_OPTIONS)


@dataclass(frozen=True)
class CorpusReport:
    """One corpus report: the findings text and its labels (``{label: 0 | 1}``, in the dataset's column order)."""

    text: str
    labels: Mapping[str, int]

    @property
    def positives(self) -> list[str]:
        """The labels present, in column order.

        Example:
            >>> CorpusReport("...", {"Emphysema": 1, "Cardiomegaly": 0, "Lung nodule": 1}).positives
            ['Emphysema', 'Lung nodule']
        """
        return [name for name, value in self.labels.items() if value]


def phantom_report_corpus(n: int, seed: int, *, options: Mapping[str, Any] | None = None) -> list[CorpusReport]:
    """``n`` phantom reports with their labels, one per patient (no second reconstructions).

    Args:
        n: number of reports (>= 2).
        seed: phantom seed (labels, details and wording follow from it).
        options: options of :func:`radeval.data.phantom.make_phantom_dataset`; those that shape reports
            (:data:`REPORT_OPTIONS`) are applied, image-only ones (:data:`IMAGE_OPTIONS`) ignored.

    Returns:
        The reports of every split, train first, each with its labels.

    Raises:
        InputError: ``n < 2`` or an unknown option.

    Example:
        >>> corpus = phantom_report_corpus(4, seed=3, options={"negation_rate": 0.1})
        >>> len(corpus), sorted(corpus[0].labels)[:2]
        (4, ['Arterial wall calcification', 'Atelectasis'])
    """
    given = dict(options or {})
    unknown = sorted(set(given) - set(PHANTOM_OPTIONS))
    if unknown:
        raise InputError(f"phantom report corpus: unknown option(s) {unknown}; expected some of "
                         f"{list(PHANTOM_OPTIONS)}")
    if n < 2:
        raise InputError(f"phantom report corpus: n={n}; at least 2 reports (one per split)")
    kept = {k: v for k, v in given.items() if k in REPORT_OPTIONS}
    out: list[CorpusReport] = []
    with tempfile.TemporaryDirectory(prefix="radeval-report-corpus-") as tmp:
        root = make_phantom_dataset(tmp, n=n, seed=seed, shape=CORPUS_SHAPE, recon_rate=0.0, **kept)
        data = CTRateDataset(root)
        for split in data.splits:
            labels = data.labels(split)
            for case in data.cases(split):
                row = labels.loc[case.id]
                out.append(CorpusReport(case.reference, {str(k): int(v) for k, v in row.items()}))
    return out


__all__ = ["CORPUS_SHAPE", "CorpusReport", "IMAGE_OPTIONS", "REPORT_OPTIONS", "phantom_report_corpus"]
