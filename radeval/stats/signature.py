"""Significance settings (one validated, frozen config) and the signature printed with every result.

Example:
    >>> SignificanceSettings.build().signature
    'test:bootstrap|B:5000|seed:12345|ci:percentile|conf:0.95|correction:holm|family:systems×metrics|pvalue:sacrebleu-bs|v:0.1.0'
    >>> SignificanceSettings.build(test="ar").signature
    'test:ar|R:10000|ciB:5000|seed:12345|ci:percentile|conf:0.95|correction:holm|family:systems×metrics|pvalue:ar-ge|v:0.1.0'
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from radeval.errors import InputError
from radeval.stats.bootstrap import DEFAULT_RESAMPLES, MIN_RESAMPLES
from radeval.stats.correction import CORRECTIONS
from radeval.stats.intervals import CI_METHODS
from radeval.stats.pvalues import AR_PVALUES, BOOTSTRAP_PVALUES
from radeval.stats.randomization import DEFAULT_TRIALS
from radeval.version import __version__

#: Paired tests.
TESTS: tuple[str, ...] = ("bootstrap", "ar")

#: Which systems are compared: every system against the baseline, or every pair.
MODES: tuple[str, ...] = ("baseline", "all-pairs")

#: Default seed (sacreBLEU's ``SACREBLEU_SEED`` default).
DEFAULT_SEED = 12345


def _choice(value: str, options: tuple[str, ...], parameter: str) -> str:
    if value not in options:
        raise InputError(f"{parameter}={value!r} is not supported; expected one of {', '.join(options)}")
    return value


@dataclass(frozen=True)
class SignificanceSettings:
    """Every setting that changes a significance result.

    Attributes:
        test: ``"bootstrap"`` or ``"ar"``.
        resamples: bootstrap resamples B (``test="bootstrap"``) or randomization trials R (``"ar"``).
        ci_resamples: bootstrap resamples behind the confidence intervals (``= resamples`` for the
            bootstrap; for AR a separate bootstrap drawn after the masks; 0 = no intervals).
        seed: generator seed; ``None`` draws from OS entropy (recorded as ``seed:none``).
        ci: interval method, one of ``percentile``, ``sacrebleu``, ``bca``.
        confidence: interval level.
        correction: multiple-comparison correction, one of ``holm``, ``bh``, ``by``, ``bonferroni``, ``none``.
        alpha: level below which a corrected p-value is marked significant.
        mode: ``"baseline"`` or ``"all-pairs"``.
        pvalue: p-value convention (:mod:`radeval.stats.pvalues`).
    """

    test: str = "bootstrap"
    resamples: int = DEFAULT_RESAMPLES
    ci_resamples: int = DEFAULT_RESAMPLES
    seed: int | None = DEFAULT_SEED
    ci: str = "percentile"
    confidence: float = 0.95
    correction: str = "holm"
    alpha: float = 0.05
    mode: str = "baseline"
    pvalue: str = "sacrebleu-bs"

    @classmethod
    def build(cls, *, test: str = "bootstrap", resamples: int | None = None, ci_resamples: int | None = None,
              seed: int | None = DEFAULT_SEED, ci: str = "percentile", confidence: float = 0.95,
              correction: str = "holm", alpha: float = 0.05, mode: str = "baseline",
              pvalue: str | None = None) -> SignificanceSettings:
        """Validate the options and fill in the test-dependent defaults.

        Raises:
            InputError: naming the parameter and the accepted values (e.g. ``resamples`` below 100).
        """
        _choice(test, TESTS, "test")
        _choice(ci, CI_METHODS, "ci")
        _choice(correction, CORRECTIONS, "correction")
        _choice(mode, MODES, "mode")
        n = int(resamples) if resamples is not None else (DEFAULT_RESAMPLES if test == "bootstrap" else DEFAULT_TRIALS)
        if n < MIN_RESAMPLES:
            label = "bootstrap resamples" if test == "bootstrap" else "randomization trials"
            raise InputError(f"resamples={n}: at least {MIN_RESAMPLES} {label} are needed")
        if test == "bootstrap":
            if ci_resamples is not None and int(ci_resamples) != n:
                raise InputError("ci_resamples applies to test='ar' only; the bootstrap's intervals use its own resamples")
            ci_n = n
            pv = _choice(pvalue or BOOTSTRAP_PVALUES[0], BOOTSTRAP_PVALUES, "pvalue")
        else:
            ci_n = DEFAULT_RESAMPLES if ci_resamples is None else int(ci_resamples)
            if ci_n != 0 and ci_n < MIN_RESAMPLES:
                raise InputError(f"ci_resamples={ci_n}: use 0 (no intervals) or at least {MIN_RESAMPLES}")
            pv = _choice(pvalue or AR_PVALUES[0], AR_PVALUES, "pvalue")
        if not 0.0 < float(confidence) < 1.0:
            raise InputError(f"confidence={confidence!r} must lie strictly between 0 and 1")
        if not 0.0 < float(alpha) < 1.0:
            raise InputError(f"alpha={alpha!r} must lie strictly between 0 and 1")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise InputError(f"seed={seed!r} must be a non-negative integer or None")
        seed = None if seed is None else int(seed)
        return cls(test=test, resamples=n, ci_resamples=ci_n, seed=seed, ci=ci, confidence=float(confidence),
                   correction=correction, alpha=float(alpha), mode=mode, pvalue=pv)

    @property
    def family(self) -> str:
        """The set of tests a correction runs over."""
        return "systems×metrics" if self.mode == "baseline" else "pairs×metrics"

    @property
    def signature(self) -> str:
        """``test:…|B:…|seed:…|ci:…|conf:…|correction:…|family:…|pvalue:…|v:…``."""
        parts = [f"test:{self.test}"]
        if self.test == "bootstrap":
            parts.append(f"B:{self.resamples}")
        else:
            parts += [f"R:{self.resamples}", f"ciB:{self.ci_resamples}"]
        parts += [
            f"seed:{'none' if self.seed is None else self.seed}", f"ci:{self.ci}", f"conf:{self.confidence:g}",
            f"correction:{self.correction}", f"family:{self.family}", f"pvalue:{self.pvalue}", f"v:{__version__}",
        ]
        return "|".join(parts)
