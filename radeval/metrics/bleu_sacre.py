"""BLEU in the sacreBLEU convention (0-100 scale), as a second, named variant of BLEU.

Statistics per segment are laid out exactly like sacreBLEU's:
``[hyp_len, ref_len, correct_1..4, total_1..4]`` (so a paired bootstrap over these rows matches
``sacrebleu --paired-bs``). :meth:`SacreBleu.aggregate` reproduces sacreBLEU 2.6's ``compute_bleu``:
brevity penalty ``exp(1 - ref/sys)`` when ``sys < ref`` (0 when ``sys == 0``); 0 when no n-gram of any
order matches; the order loop stops at the first order with no n-grams; smoothing ``exp`` (default),
``floor``, ``add-k`` or ``none``; effective order off by default. Tokenisation uses sacreBLEU's own
tokenizers (``13a`` by default, ``none`` splits on whitespace).

Example:
    >>> m = SacreBleu(tokenize="none")
    >>> round(m.corpus_score(["the lungs are clear ."], ["lungs are clear"]), 4)
    0.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from radeval.errors import InputError, MissingDependencyError
from radeval.metrics.base import Metric, check_pairs
from radeval.metrics.bleu import ngram_counts
from radeval.text import check_normalization, normalize_all

#: Highest n-gram order (sacreBLEU's ``MAX_NGRAM_ORDER``).
MAX_ORDER = 4
#: Columns of the statistics array (sacreBLEU's segment statistics layout).
COLUMNS: tuple[str, ...] = (
    "hyp_len", "ref_len", *(f"correct{k}" for k in range(1, MAX_ORDER + 1)),
    *(f"total{k}" for k in range(1, MAX_ORDER + 1)),
)
#: Smoothing methods and their default values (sacreBLEU's ``SMOOTH_DEFAULTS``).
SMOOTH_DEFAULTS: dict[str, float | None] = {"none": None, "floor": 0.1, "add-k": 1.0, "exp": None}
#: sacreBLEU's floor for ``log(0)``.
LOG_ZERO = -9999999999.0


def _sacrebleu() -> Any:
    try:
        import sacrebleu
    except ImportError:  # pragma: no cover - sacrebleu is a core dependency
        raise MissingDependencyError("bleu_sacre needs sacrebleu: pip install 'sacrebleu==2.6.0'") from None
    return sacrebleu


def sacre_bleu_from_counts(stats: np.ndarray, *, smooth_method: str = "exp", smooth_value: float | None = None,
                           effective_order: bool = False) -> np.ndarray:
    """sacreBLEU's ``compute_bleu`` on summed statistics, vectorised over leading axes (0-100 scale).

    Args:
        stats: ``(..., 10)`` array laid out as :data:`COLUMNS`.
        smooth_method: ``exp``, ``floor``, ``add-k`` or ``none``.
        smooth_value: the value of ``floor``/``add-k`` (default: :data:`SMOOTH_DEFAULTS`).
        effective_order: average only over the orders that have n-grams.

    Returns:
        ``(...)`` array of BLEU values.
    """
    s = np.asarray(stats, dtype=np.float64)
    value = SMOOTH_DEFAULTS[smooth_method] if smooth_value is None else float(smooth_value)
    sys_len, ref_len = s[..., 0], s[..., 1]
    correct = s[..., 2:2 + MAX_ORDER].copy()
    total = s[..., 2 + MAX_ORDER:2 + 2 * MAX_ORDER].copy()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bp = np.where(sys_len < ref_len,
                      np.where(sys_len > 0, np.exp(1 - ref_len / np.where(sys_len > 0, sys_len, 1.0)), 0.0), 1.0)
    shape = sys_len.shape
    log_sum = np.zeros(shape)
    alive = np.ones(shape, dtype=bool)        # the order loop has not hit `break` yet
    eff_order = np.full(shape, float(MAX_ORDER))
    smooth_mteval = np.ones(shape)
    for n in range(MAX_ORDER):
        c, t = correct[..., n], total[..., n]
        if smooth_method == "add-k" and n > 0:
            c, t = c + value, t + value
        alive = alive & (t != 0)
        if effective_order:
            eff_order = np.where(alive, float(n + 1), eff_order)
        safe_t = np.where(t != 0, t, 1.0)
        zero = c == 0
        if smooth_method == "exp":
            smooth_mteval = np.where(alive & zero, smooth_mteval * 2, smooth_mteval)
            p_zero = 100.0 / (smooth_mteval * safe_t)
        elif smooth_method == "floor":
            p_zero = 100.0 * value / safe_t
        else:
            p_zero = np.zeros(shape)
        p = np.where(alive, np.where(zero, p_zero, 100.0 * c / safe_t), 0.0)
        with np.errstate(divide="ignore"):
            logp = np.where(p == 0.0, LOG_ZERO, np.log(np.where(p == 0.0, 1.0, p)))
        included = n < eff_order  # orders beyond the effective order are not averaged
        log_sum = log_sum + np.where(included, logp, 0.0)
    score = bp * np.exp(log_sum / eff_order)
    no_match = ~np.any(s[..., 2:2 + MAX_ORDER] != 0, axis=-1)
    return np.where(no_match, 0.0, score)


class SacreBleu(Metric):
    """BLEU as sacreBLEU computes it (corpus counts; 0-100 scale).

    Args:
        tokenize: a sacreBLEU tokenizer name (``13a`` default, ``none``, ``intl``, ``char`` ...).
        lowercase: lowercase before tokenising (sacreBLEU ``-lc``).
        smooth_method: ``exp`` (default), ``floor``, ``add-k`` or ``none``.
        smooth_value: the value for ``floor``/``add-k`` (default 0.1 / 1).
        effective_order: average only over orders that have n-grams (off by default, as sacreBLEU's
            corpus BLEU).
        normalize: a :mod:`radeval.text` normalisation applied to both sides first (default none).

    Raises:
        InputError: unknown tokenizer, smoothing or normalisation.

    Example:
        >>> m = SacreBleu()
        >>> m.signature.split("|sacrebleu:")[0]
        'bleu_sacre|conv:sacrebleu|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|norm:none'
    """

    name: ClassVar[str] = "bleu_sacre"
    higher_is_better: ClassVar[bool] = True
    group: ClassVar[str] = "lexical"
    kind: ClassVar[str] = "corpus"
    cacheable: ClassVar[bool] = False

    def __init__(self, *, tokenize: str = "13a", lowercase: bool = False, smooth_method: str = "exp",
                 smooth_value: float | None = None, effective_order: bool = False,
                 normalize: str = "none") -> None:
        sacrebleu = _sacrebleu()
        from sacrebleu.metrics.bleu import BLEU

        if smooth_method not in SMOOTH_DEFAULTS:
            raise InputError(f"bleu_sacre: unknown smooth_method {smooth_method!r}; "
                             f"expected one of {', '.join(SMOOTH_DEFAULTS)}")
        if tokenize not in BLEU.TOKENIZERS:
            raise InputError(f"bleu_sacre: unknown tokenizer {tokenize!r}; expected one of {', '.join(BLEU.TOKENIZERS)}")
        self.tokenize = tokenize
        self.lowercase = bool(lowercase)
        self.smooth_method = smooth_method
        self.smooth_value = smooth_value
        self.effective_order = bool(effective_order)
        self.normalize = check_normalization(normalize)
        self._bleu = BLEU(tokenize=tokenize, lowercase=self.lowercase, smooth_method=smooth_method,
                          smooth_value=smooth_value, effective_order=self.effective_order)
        self._tokenizer = self._bleu.tokenizer
        self._sacrebleu_version = sacrebleu.__version__

    def settings(self) -> dict[str, str]:
        smooth = self.smooth_method
        if self.smooth_method in ("floor", "add-k"):
            value = SMOOTH_DEFAULTS[self.smooth_method] if self.smooth_value is None else self.smooth_value
            smooth = f"{smooth}[{value:.2f}]"
        return {
            "conv": "sacrebleu", "nrefs": "1", "case": "lc" if self.lowercase else "mixed",
            "eff": "yes" if self.effective_order else "no", "tok": self._tokenizer.signature(),
            "smooth": smooth, "norm": self.normalize,
        }

    @property
    def signature(self) -> str:
        """Our signature plus sacreBLEU's own version (its tokenizers change numbers between releases)."""
        base = super().signature
        return base.replace("|v:", f"|sacrebleu:{self._sacrebleu_version}|v:", 1)

    def _tokens(self, text: str) -> list[str]:
        if self.lowercase:
            text = text.lower()
        return self._tokenizer(text.rstrip()).split()

    def _row(self, ref: str, hyp: str) -> list[int]:
        h = self._tokens(hyp)
        r = self._tokens(ref)
        n = len(h)
        correct = [0] * MAX_ORDER
        if n:
            ref_counts = ngram_counts(r, MAX_ORDER)
            for gram, count in ngram_counts(h, MAX_ORDER).items():
                rc = ref_counts.get(gram)
                if rc:
                    correct[len(gram) - 1] += count if count < rc else rc
        return [n, len(r), *correct, *(max(0, n - k + 1) for k in range(1, MAX_ORDER + 1))]

    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """``(n, 10)`` counts laid out as :data:`COLUMNS`."""
        check_pairs(refs, hyps, metric=self.name)
        refs = normalize_all(refs, self.normalize)
        hyps = normalize_all(hyps, self.normalize)
        rows = [self._row(r, h) for r, h in zip(refs, hyps)]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(COLUMNS))

    def aggregate(self, stats: np.ndarray) -> np.ndarray | float:
        out = sacre_bleu_from_counts(stats, smooth_method=self.smooth_method, smooth_value=self.smooth_value,
                                     effective_order=self.effective_order)
        return float(out) if out.ndim == 0 else out
