"""Significance settings (one validated, frozen config) and the signature printed with every result.

Example:
    >>> SignificanceSettings.build().signature
    'test:bootstrap|B:5000|seed:12345|ci:percentile|conf:0.95|correction:holm|family:systems×metrics|pvalue:sacrebleu-bs|v:0.1.0'
    >>> SignificanceSettings.build(test="ar").signature
    'test:ar|R:10000|ciB:5000|seed:12345|ci:percentile|conf:0.95|correction:holm|family:systems×metrics|pvalue:ar-ge|v:0.1.0'
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any

from radeval.errors import InputError
from radeval.schema import Problems, section_mapping, typed_number
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


def _choice(problems: list[tuple[str, str]], value: str, options: tuple[str, ...], parameter: str) -> str:
    if value not in options:
        problems.append((parameter, f"{parameter}={value!r} is not supported; expected one of {', '.join(options)}"))
    return value


def comparison_pairs(problems: list[tuple[str, str]], value: Any) -> tuple[tuple[str, str], ...]:
    """``comparisons`` as ``((system, reference), ...)``; malformed, self- and repeated pairs are problems.

    Example:
        >>> found = []
        >>> comparison_pairs(found, [["v3", "v2"], ("v3", "r2gengpt")])
        (('v3', 'v2'), ('v3', 'r2gengpt'))
        >>> comparison_pairs(found, [["v3"], ["a", "a"], ["v3", "v2"], ["v2", "v3"]]); [m for _, m in found][:1]
        (('v3', 'v2'),)
        ["comparisons[0]: expected a pair [system, reference], got ['v3']"]
    """
    if value is None or (isinstance(value, (list, tuple)) and not value):
        return ()
    if not isinstance(value, (list, tuple)):
        problems.append(("comparisons", f"comparisons: expected a list of [system, reference] pairs, got {value!r}"))
        return ()
    out: list[tuple[str, str]] = []
    for i, item in enumerate(value):
        if not isinstance(item, (list, tuple)) or len(item) != 2 or not all(isinstance(v, (str, int)) for v in item):
            problems.append(("comparisons", f"comparisons[{i}]: expected a pair [system, reference], got {item!r}"))
            continue
        pair = (str(item[0]), str(item[1]))
        if pair[0] == pair[1]:
            problems.append(("comparisons", f"comparisons[{i}]: {pair[0]!r} is compared with itself"))
        elif pair in out or pair[::-1] in out:
            problems.append(("comparisons", f"comparisons[{i}]: the pair {list(pair)} is listed twice"))
        else:
            out.append(pair)
    return tuple(out)


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
        comparisons: extra pairs to test, each ``(system, reference)`` with delta = system − reference (e.g. the
            paper's V-3 vs V-2); tested beside the pairs of ``mode`` and corrected in the same family. Names are
            checked against the systems by whoever knows them (the suite, :func:`~radeval.stats.compare.compare_statistics`).
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
    comparisons: tuple[tuple[str, str], ...] = ()

    @classmethod
    def build(cls, *, test: str = "bootstrap", resamples: int | None = None, ci_resamples: int | None = None,
              seed: int | None = DEFAULT_SEED, ci: str = "percentile", confidence: float = 0.95,
              correction: str = "holm", alpha: float = 0.05, mode: str = "baseline",
              pvalue: str | None = None, comparisons: Any = ()) -> SignificanceSettings:
        """Validate the options and fill in the test-dependent defaults.

        Raises:
            InputError: naming the parameter and the accepted values (e.g. ``resamples`` below 100); every
                problem found, joined by ``"; "``.
        """
        problems: list[tuple[str, str]] = []
        settings = cls._checked(problems, test=test, resamples=resamples, ci_resamples=ci_resamples, seed=seed,
                                ci=ci, confidence=confidence, correction=correction, alpha=alpha, mode=mode,
                                pvalue=pvalue, comparisons=comparisons)
        if settings is None:
            raise InputError("; ".join(message for _, message in problems))
        return settings

    @classmethod
    def from_section(cls, raw: Any, problems: Problems, where: str = "significance") -> SignificanceSettings:
        """The ``significance`` section of a suite: every key is a field of this class.

        Unknown keys, wrong types and invalid values are added to ``problems`` (each with its YAML path,
        e.g. ``significance.resamples``); the defaults of :meth:`build` are returned when there are any.

        Args:
            raw: the section as the YAML holds it (a mapping, or ``None`` for all defaults).
            problems: the collector of the whole suite.
            where: the section's YAML path.

        Returns:
            the validated settings.

        Example:
            >>> p = Problems("s.yaml")
            >>> SignificanceSettings.from_section({"test": "ar", "ci_resamples": 0}, p).signature.split("|")[:3]
            ['test:ar', 'R:10000', 'ciB:0']
            >>> _ = SignificanceSettings.from_section({"resamples": 10, "pvalue": "x"}, p); print(p.items[0])
            significance.resamples: resamples=10: at least 100 bootstrap resamples are needed
        """
        values = section_mapping(problems, where, raw)
        problems.unknown_keys(where, values, [f.name for f in dataclasses.fields(cls)])
        kinds = {"resamples": int, "ci_resamples": int, "seed": int, "confidence": float, "alpha": float}
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            if key not in {f.name for f in dataclasses.fields(cls)} or value is None:
                continue
            if key in kinds:
                value = typed_number(problems, f"{where}.{key}", value, kinds[key])
                if value is None:
                    continue
            elif key != "comparisons" and not isinstance(value, str):
                problems.add(f"{where}.{key}", f"expected text, got {value!r}")
                continue
            kwargs[key] = value
        found: list[tuple[str, str]] = []
        settings = cls._checked(found, **kwargs)
        for parameter, message in found:
            problems.add(f"{where}.{parameter}", message)
        return settings if settings is not None else cls.build()

    @classmethod
    def _checked(cls, problems: list[tuple[str, str]], *, test: str = "bootstrap", resamples: int | None = None,
                 ci_resamples: int | None = None, seed: int | None = DEFAULT_SEED, ci: str = "percentile",
                 confidence: float = 0.95, correction: str = "holm", alpha: float = 0.05, mode: str = "baseline",
                 pvalue: str | None = None, comparisons: Any = ()) -> SignificanceSettings | None:
        """The settings, or ``None`` after appending ``(parameter, message)`` for every problem."""
        start = len(problems)
        pairs = comparison_pairs(problems, comparisons)
        for value, options, parameter in ((test, TESTS, "test"), (ci, CI_METHODS, "ci"),
                                          (correction, CORRECTIONS, "correction"), (mode, MODES, "mode")):
            _choice(problems, value, options, parameter)
        n = int(resamples) if resamples is not None else (DEFAULT_TRIALS if test == "ar" else DEFAULT_RESAMPLES)
        if n < MIN_RESAMPLES:
            label = "randomization trials" if test == "ar" else "bootstrap resamples"
            problems.append(("resamples", f"resamples={n}: at least {MIN_RESAMPLES} {label} are needed"))
        ci_n, pv = n, pvalue or ""
        if test == "bootstrap":
            if ci_resamples is not None and int(ci_resamples) != n:
                problems.append(("ci_resamples", "ci_resamples applies to test='ar' only; the bootstrap's intervals "
                                                 "use its own resamples"))
            pv = _choice(problems, pvalue or BOOTSTRAP_PVALUES[0], BOOTSTRAP_PVALUES, "pvalue")
        elif test == "ar":
            ci_n = DEFAULT_RESAMPLES if ci_resamples is None else int(ci_resamples)
            if ci_n != 0 and ci_n < MIN_RESAMPLES:
                problems.append(("ci_resamples", f"ci_resamples={ci_n}: use 0 (no intervals) or at least "
                                                 f"{MIN_RESAMPLES}"))
            pv = _choice(problems, pvalue or AR_PVALUES[0], AR_PVALUES, "pvalue")
        if not 0.0 < float(confidence) < 1.0:
            problems.append(("confidence", f"confidence={confidence!r} must lie strictly between 0 and 1"))
        if not 0.0 < float(alpha) < 1.0:
            problems.append(("alpha", f"alpha={alpha!r} must lie strictly between 0 and 1"))
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            problems.append(("seed", f"seed={seed!r} must be a non-negative integer or None"))
        if len(problems) > start:
            return None
        seed = None if seed is None else int(seed)
        return cls(test=test, resamples=n, ci_resamples=ci_n, seed=seed, ci=ci, confidence=float(confidence),
                   correction=correction, alpha=float(alpha), mode=mode, pvalue=pv, comparisons=pairs)

    @property
    def family(self) -> str:
        """The set of tests a correction runs over (``+listed(n)``: the ``comparisons`` pairs join it).

        Example:
            >>> SignificanceSettings.build(comparisons=[["v3", "v2"]]).family
            'systems×metrics+listed(1)'
        """
        base = "systems×metrics" if self.mode == "baseline" else "pairs×metrics"
        return f"{base}+listed({len(self.comparisons)})" if self.comparisons else base

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
