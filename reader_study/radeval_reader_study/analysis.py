"""Analyse unblinded ratings: means with bootstrap CIs, % difference vs baseline, paired tests, agreement.

The case is the unit of analysis. For each (case, system, criterion) the readers' scores are
averaged; a system's mean is the mean of those per-case means.

* **95% CI**: percentile bootstrap over cases. One matrix of resampled case indices
  (:func:`radeval.stats.resample.bootstrap_indices`, seeded) is shared by every system and criterion,
  so the CIs of differences are paired.
* **% difference vs baseline**: ``100 · (mean_system − mean_baseline) / mean_baseline`` (the paper's
  "+9.8% / +3.7%"), with its CI from the same resamples.
* **Paired test**: Wilcoxon signed-rank on per-case means over cases rated for both systems
  (``scipy.stats.wilcoxon``, zero differences dropped — ``zero_method="wilcox"``; two-sided), Holm
  correction over every (pair, criterion) comparison. The pairs are every system vs the baseline, or
  the ``pairs=`` given — the paper's are V-3 vs the baseline and V-3 vs V-2.
* **The paper's figures**: :func:`paper_comparison` sets the percentages the RAD3D-Prefix paper quotes
  (:data:`PAPER_READER_STUDY`) beside ours for the same pairs.
* **Agreement** per criterion (all systems pooled, and per system), on items (one report = one
  item): quadratic-weighted Cohen's κ (exactly two readers), ICC(2,1) on items every reader rated,
  Krippendorff's α (ordinal) on everything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from radeval.errors import InputError
from radeval.stats.correction import holm
from radeval.stats.intervals import percentile_interval
from radeval.stats.resample import bootstrap_indices, counts_from_indices
from radeval.version import __version__
from radeval_reader_study.agreement import icc_2_1, krippendorff_alpha, weighted_kappa
from radeval_reader_study.ingestion import IngestResult
from radeval_reader_study.rubric import Rubric

REQUIRED_COLUMNS = ("case_id", "system", "reader", "criterion", "score")

#: The reader-study improvements the RAD3D-Prefix paper quotes (§4.6 and its supplementary reader study):
#: (system role, reference role, criterion, % difference of the mean over both clinicians). The roles are
#: ``v3`` (RAD3D-Prefix), ``v2`` and ``baseline``. The paper also says the baseline scored higher than both
#: variants on linguistic quality, without a number.
PAPER_READER_STUDY: tuple[tuple[str, str, str, float], ...] = (
    ("v3", "baseline", "clinical_accuracy", 9.8),
    ("v3", "v2", "clinical_accuracy", 3.7),
    ("v3", "v2", "technical_quality", 9.4),
)
#: The pairs the paper compares in its reader study, by role.
PAPER_PAIRS: tuple[tuple[str, str], ...] = (("v3", "baseline"), ("v3", "v2"))


@dataclass(frozen=True)
class StudyAnalysis:
    """Results of :func:`analyze` (all tables are pandas DataFrames).

    Attributes:
        summary: per system × criterion: ``n_cases, n_ratings, mean, ci_low, ci_high, diff_pct,
            diff_pct_low, diff_pct_high`` (differences vs the baseline; NaN for the baseline).
        comparisons: per compared pair × criterion: ``system, baseline`` (the pair's reference), ``criterion,
            n_pairs, mean_diff, diff_pct, statistic, p_value, p_holm`` (every system vs the baseline by default).
        agreement: per criterion and scope (``"all"`` or a system): ``n_items, n_readers,
            n_complete, kappa_quadratic, icc_2_1, icc_low, icc_high, alpha_ordinal``.
        per_reader: per reader × system × criterion: ``n, mean``.
        rubric: the rubric (criterion names and scale).
        baseline: the baseline system.
        systems: systems in report order.
        settings: resamples, seed, confidence, test, correction, signature.
        coverage: per reader ``expected, rated, fraction`` when analysed from an ingest.
        paper: our percentages beside the paper's quoted ones (:func:`paper_comparison`), when ``paper_roles``
            were given.
    """

    summary: pd.DataFrame
    comparisons: pd.DataFrame
    agreement: pd.DataFrame
    per_reader: pd.DataFrame
    rubric: Rubric
    baseline: str
    systems: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    coverage: pd.DataFrame | None = None
    paper: pd.DataFrame | None = None


def _check(frame: pd.DataFrame, rubric: Rubric) -> pd.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"ratings table lacks column(s) {', '.join(missing)}")
    df = frame.copy()
    bad = ~df["score"].isin(rubric.values)
    if bad.any():
        row = df[bad].iloc[0]
        raise InputError(f"case {row['case_id']!r}, system {row['system']!r}, reader {row['reader']!r}: "
                         f"score {row['score']} is not on the scale {rubric.minimum}-{rubric.maximum}")
    dup = df.duplicated(["case_id", "system", "reader", "criterion"], keep=False)
    if dup.any():
        row = df[dup].iloc[0]
        raise InputError(f"case {row['case_id']!r}, system {row['system']!r}, reader {row['reader']!r}: "
                         f"more than one {row['criterion']} score")
    df["score"] = df["score"].astype(float)
    return df


def analyze(data: IngestResult | pd.DataFrame, *, rubric: Rubric | None = None, baseline: str | None = None,
            systems: Sequence[str] | None = None, resamples: int = 10_000, seed: int = 0,
            confidence: float = 0.95, pairs: Sequence[tuple[str, str]] | None = None,
            paper_roles: dict[str, str] | None = None) -> StudyAnalysis:
    """Analyse a reader study.

    Args:
        data: an :class:`~radeval_reader_study.ingestion.IngestResult`, or an unblinded table with columns
            ``case_id, system, reader, criterion, score``.
        rubric: required with a table; taken from the key with an ingest result.
        baseline: the reference system (default: the key's baseline / the first system).
        systems: report order (default: the key's order / order of appearance).
        resamples: bootstrap resamples.
        seed: seed of the bootstrap.
        confidence: CI level.
        pairs: ``(system, reference)`` pairs to test (default: every system vs the baseline), e.g. the paper's
            ``[("v3", "baseline"), ("v3", "v2")]``.
        paper_roles: role -> system (``v3``, ``v2``, ``baseline``): compare the paper's pairs (unless ``pairs`` is
            given) and set the paper's quoted percentages beside ours (:attr:`StudyAnalysis.paper`).

    Raises:
        InputError: a bad table, an unknown baseline or pair system, or no ratings at all.
    """
    coverage = None
    if isinstance(data, IngestResult):
        rubric = rubric or data.key.rubric
        frame = data.unblinded()
        baseline = baseline or data.key.baseline
        systems = systems or data.key.systems
        coverage = data.coverage()
    else:
        if rubric is None:
            raise InputError("analyze: pass rubric= with a ratings table")
        frame = data
    df = _check(frame, rubric)
    if df.empty:
        raise InputError("analyze: no usable ratings")
    order = tuple(systems) if systems else tuple(dict.fromkeys(df["system"]))
    unknown = sorted(set(df["system"]) - set(order))
    if unknown:
        raise InputError(f"analyze: ratings of system(s) {', '.join(unknown)} not in systems={list(order)}")
    base = baseline or order[0]
    if base not in order:
        raise InputError(f"baseline {base!r} is not one of the systems: {', '.join(order)}")
    if resamples < 1:
        raise InputError(f"resamples={resamples}: must be positive")
    criteria = rubric.criterion_ids
    cases = sorted(set(df["case_id"]))
    # per-case means: (n_cases, n_systems, n_criteria), NaN where nothing was rated
    case_means = (df.groupby(["case_id", "system", "criterion"])["score"].mean()
                  .reindex(pd.MultiIndex.from_product([cases, order, criteria])).to_numpy()
                  .reshape(len(cases), len(order), len(criteria)))
    n_ratings = df.groupby(["system", "criterion"]).size()
    flat = case_means.reshape(len(cases), -1)
    present = ~np.isnan(flat)
    values = np.where(present, flat, 0.0)
    weights = counts_from_indices(bootstrap_indices(len(cases), resamples, seed=seed), len(cases))  # (B, n)
    boot_sum = weights @ values  # (B, S*C): every resample of every system and criterion at once
    boot_n = weights @ present.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = (boot_sum / boot_n).reshape(resamples, len(order), len(criteria))
        point = (values.sum(axis=0) / present.sum(axis=0)).reshape(len(order), len(criteria))
    lo, hi = percentile_interval(boot, confidence)
    b = order.index(base)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct_boot = 100.0 * (boot - boot[:, b : b + 1, :]) / boot[:, b : b + 1, :]
        pct = 100.0 * (point - point[b : b + 1, :]) / point[b : b + 1, :]
    pct_lo, pct_hi = percentile_interval(pct_boot, confidence)
    rows = []
    for i, s in enumerate(order):
        for j, c in enumerate(criteria):
            is_base = s == base
            rows.append({"system": s, "criterion": c, "n_cases": int(present.reshape(len(cases), len(order),
                                                                                      len(criteria))[:, i, j].sum()),
                         "n_ratings": int(n_ratings.get((s, c), 0)), "mean": point[i, j],
                         "ci_low": lo[i, j], "ci_high": hi[i, j],
                         "diff_pct": math.nan if is_base else pct[i, j],
                         "diff_pct_low": math.nan if is_base else pct_lo[i, j],
                         "diff_pct_high": math.nan if is_base else pct_hi[i, j]})
    summary = pd.DataFrame(rows)
    if pairs is None and paper_roles is not None:
        missing = sorted({r for p in PAPER_PAIRS for r in p} - set(paper_roles))
        if missing:
            raise InputError(f"paper_roles: give the system of role(s) {', '.join(missing)} (v3, v2, baseline)")
        pairs = [(paper_roles[a], paper_roles[b]) for a, b in PAPER_PAIRS]
    if pairs is None:
        pairs = [(s, base) for s in order if s != base]
    for pair in pairs:
        bad = [x for x in pair if x not in order]
        if bad or len(pair) != 2 or pair[0] == pair[1]:
            raise InputError(f"pair {tuple(pair)!r}: needs two different systems of {', '.join(order)}")
    comparisons = _comparisons(case_means, order, criteria, [tuple(p) for p in pairs])
    settings = {"resamples": resamples, "seed": seed, "confidence": confidence, "ci": "percentile",
                "test": "wilcoxon signed-rank (zero_method=wilcox, two-sided)", "correction": "holm",
                "unit": "case (mean over readers)",
                "signature": f"reader-study|ci:percentile{confidence:g}|boot:{resamples}|seed:{seed}"
                             f"|test:wilcoxon-wilcox|corr:holm|v:{__version__}"}
    result = StudyAnalysis(summary=summary, comparisons=comparisons,
                           agreement=_agreement(df, rubric, order, confidence), per_reader=_per_reader(df, order, criteria),
                           rubric=rubric, baseline=base, systems=order, settings=settings, coverage=coverage)
    if paper_roles is not None:
        from dataclasses import replace

        result = replace(result, paper=paper_comparison(result, paper_roles))
    return result


def _wilcoxon(diff: np.ndarray) -> tuple[float, float]:
    from scipy.stats import wilcoxon

    if diff.size == 0:
        return math.nan, math.nan
    if np.all(diff == 0):
        return 0.0, 1.0  # no signed rank at all: no evidence of a difference
    res = wilcoxon(diff, zero_method="wilcox", alternative="two-sided")
    return float(res.statistic), float(res.pvalue)


def _paired_pct(diff: np.ndarray, baseline: np.ndarray) -> float:
    """Mean paired difference as a percentage of the baseline's mean on the same cases (NaN if undefined)."""
    if diff.size == 0 or baseline.mean() == 0:
        return math.nan
    return float(100.0 * diff.mean() / baseline.mean())


def _comparisons(case_means: np.ndarray, order: Sequence[str], criteria: Sequence[str],
                 pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Paired comparisons of each (system, reference) pair on the cases both were rated on: mean difference, its
    percentage of the reference's mean on those cases, Wilcoxon signed-rank p and Holm-corrected p."""
    rows = []
    for s, base in pairs:
        i, b = order.index(s), order.index(base)
        for j, c in enumerate(criteria):
            x, y = case_means[:, i, j], case_means[:, b, j]
            both = ~np.isnan(x) & ~np.isnan(y)
            diff = x[both] - y[both]
            stat, p = _wilcoxon(diff)
            rows.append({"system": s, "baseline": base, "criterion": c, "n_pairs": int(both.sum()),
                         "mean_diff": float(diff.mean()) if diff.size else math.nan,
                         "diff_pct": _paired_pct(diff, y[both]),
                         "statistic": stat, "p_value": p})
    out = pd.DataFrame(rows, columns=["system", "baseline", "criterion", "n_pairs", "mean_diff", "diff_pct",
                                      "statistic", "p_value"])
    out["p_holm"] = holm(out["p_value"].to_numpy(dtype=float)) if len(out) else []
    return out


def _agreement_row(sub: pd.DataFrame, rubric: Rubric, criterion: str, scope: str, confidence: float) -> dict[str, Any]:
    wide = sub.pivot(index="item_id", columns="reader", values="score")
    readers = list(wide.columns)
    complete = wide.dropna()
    row: dict[str, Any] = {"criterion": criterion, "scope": scope, "n_items": int(len(wide)),
                           "n_readers": len(readers), "n_complete": int(len(complete)),
                           "kappa_quadratic": math.nan, "icc_2_1": math.nan, "icc_low": math.nan,
                           "icc_high": math.nan, "alpha_ordinal": math.nan}
    if len(readers) == 2 and len(complete):
        row["kappa_quadratic"] = weighted_kappa(complete.iloc[:, 0], complete.iloc[:, 1], categories=rubric.values)
    if len(readers) >= 2 and len(complete) >= 2:
        icc = icc_2_1(complete.to_numpy(), confidence=confidence)
        row.update(icc_2_1=icc.value, icc_low=icc.ci_low, icc_high=icc.ci_high)
    if len(readers) >= 2:
        row["alpha_ordinal"] = krippendorff_alpha(wide.to_numpy().T, level="ordinal", values=rubric.values)
    return row


def _agreement(df: pd.DataFrame, rubric: Rubric, order: Sequence[str], confidence: float) -> pd.DataFrame:
    if "item_id" not in df.columns:
        df = df.assign(item_id=df["case_id"].astype(str) + "\x1f" + df["system"].astype(str))
    rows = []
    for c in rubric.criterion_ids:
        sub = df[df["criterion"] == c]
        rows.append(_agreement_row(sub, rubric, c, "all", confidence))
        for s in order:
            rows.append(_agreement_row(sub[sub["system"] == s], rubric, c, s, confidence))
    return pd.DataFrame(rows)


def _per_reader(df: pd.DataFrame, order: Sequence[str], criteria: Sequence[str]) -> pd.DataFrame:
    g = df.groupby(["reader", "system", "criterion"])["score"].agg(["size", "mean"]).reset_index()
    g = g.rename(columns={"size": "n"})
    g["system"] = pd.Categorical(g["system"], categories=list(order), ordered=True)
    g["criterion"] = pd.Categorical(g["criterion"], categories=list(criteria), ordered=True)
    return g.sort_values(["reader", "system", "criterion"]).reset_index(drop=True).astype(
        {"system": str, "criterion": str})


def paper_comparison(analysis: StudyAnalysis, roles: dict[str, str]) -> pd.DataFrame:
    """Our percentage differences beside the ones the RAD3D-Prefix paper quotes, for the same pairs.

    Args:
        analysis: an :func:`analyze` result whose comparisons include the paper's pairs.
        roles: role -> system name, e.g. ``{"v3": "rad3d-prefix-v3", "v2": "rad3d-prefix-v2", "baseline": "baseline"}``.

    Returns:
        one row per figure of :data:`PAPER_READER_STUDY`: ``system, reference, criterion, diff_pct`` (ours, paired
        on common cases), ``p_holm`` and ``paper_diff_pct``.

    Raises:
        InputError: a role missing from ``roles`` or a pair not in the analysis (naming it).
    """
    missing = sorted({r for row in PAPER_READER_STUDY for r in row[:2]} - set(roles))
    if missing:
        raise InputError(f"paper comparison: give the system of role(s) {', '.join(missing)} (v3, v2, baseline)")
    comp = analysis.comparisons.set_index(["system", "baseline", "criterion"])
    rows = []
    for sys_role, ref_role, criterion, paper in PAPER_READER_STUDY:
        key = (roles[sys_role], roles[ref_role], criterion)
        if key not in comp.index:
            raise InputError(f"paper comparison: the analysis has no {key[0]} vs {key[1]} comparison on {criterion}; "
                             f"analyse with pairs=[({key[0]!r}, {key[1]!r}), ...]")
        r = comp.loc[key]
        rows.append({"system": key[0], "reference": key[1], "criterion": criterion, "diff_pct": float(r["diff_pct"]),
                     "p_holm": float(r["p_holm"]), "paper_diff_pct": paper})
    return pd.DataFrame(rows, columns=["system", "reference", "criterion", "diff_pct", "p_holm", "paper_diff_pct"])
