"""METEOR 1.5 (the Meteor jar shipped in the pycocoevalcap wheel), driven by radeval.

One long-lived ``java -jar -Xmx2G meteor-1.5.jar - - -stdio -l en -norm`` process (working directory:
the jar's folder inside the installed pycocoevalcap package) answers one ``SCORE`` line per sample
with 23 statistics; radeval reads them back and computes the corpus score itself from the pooled
statistics, so METEOR can be cached per sample and bootstrapped like BLEU. The process is started on
the first :meth:`Meteor.statistics` call and reused by later calls (the JVM plus paraphrase table
take ~14 s to load); :meth:`Meteor.close` or garbage collection stops it.

Before sending, every text has ``|||`` removed and each run of ASCII whitespace (newlines, tabs,
carriage returns ...) collapsed to one space: a newline would otherwise end the ``SCORE`` line early
and put every later reply out of step. Extra spaces do not change the jar's scores (``-norm``
re-tokenises).

Statistics per sample (23 numbers, as the jar prints them):
``[tl, rl, tf, rf]`` test/reference length and function-word counts, then for each stage (exact,
stem, synonym, paraphrase) ``[tc, rc, tfn, rfn]`` content/function matches in test/reference, then
``[chunks, test_matched, ref_matched]``. A *perfect* sample (everything matched in one chunk) has its
chunk count set to 0, which is what the jar does when it pools statistics, so that summing rows and
calling :meth:`Meteor.aggregate` equals the jar's corpus score.

Example:
    >>> m = Meteor()                                    # doctest: +SKIP
    >>> m.corpus_score(["the heart is big ."], ["the heart is enlarged ."])  # doctest: +SKIP
    0.3184464413482169
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import IO, ClassVar

import numpy as np

from radeval.errors import MissingDependencyError, RadevalError
from radeval.metrics.base import Metric, check_pairs
from radeval.text import check_normalization, normalize_all

#: Meteor 1.5 English defaults (``rank`` task): alpha, beta, gamma, delta.
ALPHA, BETA, GAMMA, DELTA = 0.85, 0.2, 0.6, 0.75
#: Module weights for exact, stem, synonym and paraphrase matches.
STAGE_WEIGHTS: tuple[float, ...] = (1.0, 0.6, 0.8, 0.6)
#: Length of one statistics row.
N_STATS = 23
#: Columns of the chunk count, test words matched and reference words matched.
CHUNKS, TEST_MATCHED, REF_MATCHED = 20, 21, 22
#: JVM options: no hsperfdata folder in the temp dir; UTF-8 whatever the locale.
JAVA_TOOL_OPTIONS = "-XX:-UsePerfData -Dfile.encoding=UTF-8"
#: Default bound on the words of one reference or hypothesis sent to the jar. The jar's aligner needs memory
#: and time that grow with the length of the texts: a 200,000-word report runs a 2 GB JVM out of heap and
#: kills the process for every sample; two 25,000-word texts did too, and two 15,000-word texts ran for more
#: than 5 minutes (measured here on random clinical words). Such a case is not sent; it fails alone (named
#: in ``last_errors``). Radiology reports are far below both bounds (CT-RATE findings: a few hundred words);
#: the bounds are a reconstruction (the jar documents none).
MAX_WORDS = 20_000

#: Bound on (reference words x hypothesis words) of one sample, for the same reason.
MAX_WORD_PRODUCT = 50_000_000

#: Jar file name inside ``pycocoevalcap/meteor``.
JAR_NAME = "meteor-1.5.jar"

_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")


class MeteorError(RadevalError, RuntimeError):
    """The Meteor process failed (died, or answered out of protocol); the message holds its stderr."""


def sanitize(text: str) -> str:
    """Make a report safe for one ``SCORE`` line: drop ``|||``, collapse ASCII whitespace, strip.

    Example:
        >>> sanitize("No effusion.\\n\\tHeart ||| normal.  ")
        'No effusion. Heart normal.'
    """
    return _WHITESPACE.sub(" ", text.replace("|||", "")).strip()


def find_jar() -> Path:
    """Path of ``meteor-1.5.jar`` inside the installed pycocoevalcap package.

    Raises:
        MissingDependencyError: pycocoevalcap (or its jar) is not installed.
    """
    spec = importlib.util.find_spec("pycocoevalcap")
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    for root in roots:
        jar = Path(root) / "meteor" / JAR_NAME
        if jar.is_file():
            return jar
    raise MissingDependencyError(
        "meteor needs the Meteor 1.5 jar shipped with pycocoevalcap: pip install 'radeval-ct[lexical]' "
        "(pycocoevalcap==1.2)"
    )


def meteor_from_stats(stats: np.ndarray) -> np.ndarray:
    """METEOR 1.5 from (summed) statistics, vectorised over leading axes.

    Implements the jar's formula: weighted precision and recall over the four stages with
    content/function weighting ``delta``, ``Fmean = P R / (alpha P + (1 - alpha) R)``, fragmentation
    ``chunks / mean(matched)`` (0 for a perfect match), penalty ``gamma * frag^beta``. Zero when P or R
    is zero.

    Args:
        stats: ``(..., 23)`` array.

    Returns:
        ``(...)`` array of scores in [0, 1].

    Example:
        The jar's statistics of "the heart is enlarged ." against "the heart is big ." (3 of 4
        content words matched exactly, 2 chunks); the jar itself prints 0.3184464413482169:

        >>> row = np.array([5, 5, 3, 3, 1, 1, 3, 3] + [0] * 12 + [2, 4, 4])
        >>> round(float(meteor_from_stats(row)), 6)
        0.318446
    """
    s = np.asarray(stats, dtype=np.float64)
    tl, rl, tf, rf = s[..., 0], s[..., 1], s[..., 2], s[..., 3]
    p_num = np.zeros(s.shape[:-1])
    r_num = np.zeros(s.shape[:-1])
    for stage, weight in enumerate(STAGE_WEIGHTS):
        tc, rc, tfn, rfn = (s[..., 4 + 4 * stage + j] for j in range(4))
        p_num = p_num + weight * (DELTA * tc + (1 - DELTA) * tfn)
        r_num = r_num + weight * (DELTA * rc + (1 - DELTA) * rfn)
    p_den = DELTA * (tl - tf) + (1 - DELTA) * tf
    r_den = DELTA * (rl - rf) + (1 - DELTA) * rf
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(p_den > 0, p_num / np.where(p_den > 0, p_den, 1.0), 0.0)
        recall = np.where(r_den > 0, r_num / np.where(r_den > 0, r_den, 1.0), 0.0)
        ok = (precision > 0) & (recall > 0)
        fmean = np.where(ok, precision * recall / np.where(ok, ALPHA * precision + (1 - ALPHA) * recall, 1.0), 0.0)
        chunks, tm, rm = s[..., CHUNKS], s[..., TEST_MATCHED], s[..., REF_MATCHED]
        perfect = (tm == tl) & (rm == rl) & (chunks == 1)
        matched = (tm + rm) / 2
        frag = np.where(perfect | (matched == 0), 0.0, chunks / np.where(matched == 0, 1.0, matched))
        penalty = GAMMA * frag ** BETA
    return np.where(ok, fmean * (1 - penalty), 0.0)


class _MeteorProcess:
    """One running Meteor jar in ``-stdio`` mode."""

    def __init__(self, java: str, jar: Path, memory: str) -> None:
        env = dict(os.environ)
        env["JAVA_TOOL_OPTIONS"] = (env.get("JAVA_TOOL_OPTIONS", "") + " " + JAVA_TOOL_OPTIONS).strip()
        self.stderr: IO[bytes] = tempfile.TemporaryFile()
        self.popen = subprocess.Popen(
            [java, "-jar", f"-Xmx{memory}", jar.name, "-", "-", "-stdio", "-l", "en", "-norm"],
            cwd=str(jar.parent), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=env,
        )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def exited(self, timeout: float) -> bool:
        """Whether the process ends within ``timeout`` seconds."""
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stderr_tail(self, limit: int = 2000) -> str:
        self.stderr.seek(0)
        text = self.stderr.read().decode("utf-8", "replace")
        lines = [ln for ln in text.splitlines() if not ln.startswith("Picked up JAVA_TOOL_OPTIONS")]
        return "\n".join(lines)[-limit:]

    def score_lines(self, lines: list[str]) -> list[str]:
        """Send ``lines`` (one per sample) and return the jar's reply to each, in order."""
        stdin, stdout = self.popen.stdin, self.popen.stdout
        if stdin is None or stdout is None:  # pragma: no cover - both are pipes by construction
            raise MeteorError("the Meteor process has no stdin/stdout pipes")
        payload = "".join(line + "\n" for line in lines).encode("utf-8")
        failure: list[BaseException] = []

        def write() -> None:
            try:
                stdin.write(payload)
                stdin.flush()
            except (BrokenPipeError, OSError) as exc:  # the reader reports the dead process
                failure.append(exc)

        writer = threading.Thread(target=write, name="meteor-writer", daemon=True)
        writer.start()
        replies = []
        for i in range(len(lines)):
            raw = stdout.readline()
            if not raw:
                writer.join(timeout=5)
                self.popen.wait(timeout=30)
                wrote = f"; writing failed: {failure[0]!r}" if failure else ""
                said = " / ".join(replies[-3:])
                raise MeteorError(f"the Meteor process stopped after {i} of {len(lines)} samples "
                                  f"(exit code {self.popen.poll()}{wrote}): {said} {self.stderr_tail()}".rstrip())
            replies.append(raw.decode("utf-8", "replace").strip())
        writer.join()
        return replies

    def close(self) -> None:
        _terminate(self.popen, self.stderr)


def _terminate(popen: subprocess.Popen, stderr: IO[bytes]) -> None:
    try:
        if popen.stdin is not None:
            popen.stdin.close()
        popen.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        popen.kill()
        popen.wait()
    finally:
        if popen.stdout is not None:
            popen.stdout.close()
        stderr.close()


class Meteor(Metric):
    """METEOR 1.5, corpus score from pooled statistics (0-1 scale), parity with pycocoevalcap's Meteor.

    Args:
        normalize: a :mod:`radeval.text` normalisation applied to both sides first (default none; the
            jar lowercases and splits punctuation itself).
        java: the Java executable (default ``java`` on PATH).
        memory: JVM heap (``-Xmx``), default ``2G``.
        max_words: a sample whose reference or hypothesis has more words (after whitespace clean-up) is
            not sent to the jar: it fails alone with a reason naming the length (default :data:`MAX_WORDS`).
            It bounds which samples are scored, never a score, so it is not part of the signature.

    Raises:
        MissingDependencyError: no Java runtime, or pycocoevalcap's jar is not installed (raised by
            :meth:`statistics`, when the process is started).
        MeteorError: the jar process dies.

    Example:
        >>> Meteor().signature.split("|v:")[0]
        'meteor|impl:jar-1.5|lang:en|tok:norm|case:lower|params:0.85_0.2_0.6_0.75|mods:ex_st_sy_pa|w:1.0_0.6_0.8_0.6|norm:none'
    """

    name: ClassVar[str] = "meteor"
    higher_is_better: ClassVar[bool] = True
    group: ClassVar[str] = "lexical"
    kind: ClassVar[str] = "corpus"
    cacheable: ClassVar[bool] = True

    def __init__(self, *, normalize: str = "none", java: str = "java", memory: str = "2G",
                 max_words: int = MAX_WORDS) -> None:
        self.normalize = check_normalization(normalize)
        if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1:
            raise ValueError(f"meteor: max_words must be a positive whole number, got {max_words!r}")
        self.max_words = max_words
        self.java = java
        self.memory = memory
        self.last_errors: dict[int, str] = {}
        self._process: _MeteorProcess | None = None
        self._finalizer: weakref.finalize | None = None
        self._lock = threading.Lock()

    def settings(self) -> dict[str, str]:
        return {
            "impl": "jar-1.5", "lang": "en", "tok": "norm", "case": "lower",
            "params": f"{ALPHA}_{BETA}_{GAMMA}_{DELTA}", "mods": "ex_st_sy_pa",
            "w": "_".join(str(w) for w in STAGE_WEIGHTS), "norm": self.normalize,
        }

    def _ensure_process(self) -> _MeteorProcess:
        if self._process is not None and self._process.alive():
            return self._process
        self.close()
        java = shutil.which(self.java)
        if java is None:
            raise MissingDependencyError(
                f"meteor needs a Java runtime, but {self.java!r} was not found on PATH; install one "
                "(e.g. `apt-get install default-jre-headless`) or pass java=/path/to/java"
            )
        proc = _MeteorProcess(java, find_jar(), self.memory)
        self._process = proc
        self._finalizer = weakref.finalize(self, _terminate, proc.popen, proc.stderr)
        return proc

    def close(self) -> None:
        """Stop the Java process (a later :meth:`statistics` call starts a new one)."""
        if self._finalizer is not None:
            self._finalizer()
        self._finalizer = None
        self._process = None

    def __enter__(self) -> Meteor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def statistics(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """``(n, 23)`` statistics from the jar; a sample the jar cannot score is a NaN row.

        Rows that could not be parsed are listed in :attr:`last_errors` (row index -> reason).
        """
        check_pairs(refs, hyps, metric=self.name)
        refs = normalize_all(refs, self.normalize)
        hyps = normalize_all(hyps, self.normalize)
        self.last_errors = {}
        out = np.full((len(refs), N_STATS), np.nan)
        if not refs:
            return out
        lines, sent = [], []
        for i, (r, h) in enumerate(zip(refs, hyps)):
            ref, hyp = sanitize(r), sanitize(h)
            n_ref, n_hyp = (ref.count(" ") + 1 if ref else 0), (hyp.count(" ") + 1 if hyp else 0)
            longest = max(n_ref, n_hyp)
            if longest > self.max_words:
                side = "reference" if n_ref >= n_hyp else "hypothesis"
                self.last_errors[i] = (f"the {side} has {longest} words, more than meteor's max_words="
                                       f"{self.max_words} (the jar would run out of heap); not scored")
                continue
            if n_ref * n_hyp > MAX_WORD_PRODUCT:
                self.last_errors[i] = (f"reference ({n_ref} words) x hypothesis ({n_hyp} words) is over meteor's "
                                       f"bound of {MAX_WORD_PRODUCT} (the jar would run out of heap or time); "
                                       "not scored")
                continue
            lines.append(f"SCORE ||| {ref} ||| {hyp}")
            sent.append(i)
        if not lines:
            return out
        with self._lock:
            proc = self._ensure_process()
            replies = proc.score_lines(lines)
        sent_out = np.full((len(sent), N_STATS), np.nan)
        outer_errors, self.last_errors = self.last_errors, {}
        rows = self._parse(replies, sent_out)
        out[sent] = sent_out
        parse_errors = self.last_errors
        self.last_errors = {**outer_errors, **{sent[j]: msg for j, msg in parse_errors.items()}}
        if rows < len(replies) and proc.exited(timeout=2.0):
            # Lines that were not statistics came from a dying JVM (e.g. "Error occurred during
            # initialization of VM"), not from the jar: nothing it answered can be trusted.
            bad = next(iter(parse_errors.values()))
            tail = proc.stderr_tail()
            self.close()
            raise MeteorError(f"the Meteor process exited (code {proc.popen.returncode}): {bad}"
                              + (f"; {tail}" if tail else ""))
        return out

    def _parse(self, replies: list[str], out: np.ndarray) -> int:
        """Fill ``out`` with the parsed replies; record the others in :attr:`last_errors`.

        Returns:
            the number of replies that were valid statistics.
        """
        valid = 0
        for i, reply in enumerate(replies):
            parts = reply.split()
            try:
                values = [float(p) for p in parts]
            except ValueError:
                values = []
            if len(values) != N_STATS:
                self.last_errors[i] = f"Meteor answered {reply[:200]!r} instead of {N_STATS} statistics"
                continue
            row = np.asarray(values)
            if row[TEST_MATCHED] == row[0] and row[REF_MATCHED] == row[1] and row[CHUNKS] == 1:
                row[CHUNKS] = 0.0  # a perfect segment adds no chunks to the pooled statistics
            out[i] = row
            valid += 1
        return valid

    def aggregate(self, stats: np.ndarray) -> np.ndarray | float:
        out = meteor_from_stats(stats)
        return float(out) if out.ndim == 0 else out
