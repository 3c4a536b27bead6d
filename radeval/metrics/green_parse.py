"""Reading GREEN judge outputs: cleaning, section parsing, the score formula, and problem reports.

The parser follows the GREEN reference implementation (Stanford-AIMI/GREEN @ d72c195):

* a section body is the text after ``[<Section>]:`` plus whitespace, up to the first blank line or
  the end of the text; a missing section counts 0, and a body starting with ``No`` counts 0;
* matched findings ``m`` = an integer at the very start of the ``[Matched Findings]`` body,
  directly followed by ``.`` (``parser="radeval"``: at the start of *any* line of the body, as RadEval does);
* error lines contain ``(a) `` … ``(f) ``; the lines are sorted and each letter takes the count of its
  last matching line: the integer after ``": "`` directly followed by ``.``, else 0. Without lettered
  lines, ``(1) `` … ``(6) `` are read instead (the GPT-4 template);
* GREEN = 0 when ``m = 0``, else ``m / (m + Σ significant errors)``; insignificant errors are parsed
  but never enter the score.

What the reference parser silently drops is *reported* here as a problem (markdown-bold headers, a
count without its period, a matched count that is not at the start of its section ...), and an output
with neither a ``[Matched Findings]`` nor a ``[Clinically Significant Errors]`` header is
*unparseable*: :attr:`GreenParse.ok` is False and the metric records a per-sample error instead of a 0.

Example:
    >>> p = parse_green_output("[Clinically Significant Errors]:\\n(b) Missing a finding: 1. nodule.\\n\\n"
    ...                        "[Matched Findings]:\\n3. a; b; c\\n")
    >>> p.score, p.matched, p.significant
    (0.75, 3, (0, 1, 0, 0, 0, 0))
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SIGNIFICANT = "Clinically Significant Errors"
INSIGNIFICANT = "Clinically Insignificant Errors"
MATCHED = "Matched Findings"

#: The six error categories, in the order of the counts (upstream's column names).
SUB_CATEGORIES: tuple[str, ...] = (
    "(a) False report of a finding in the candidate",
    "(b) Missing a finding present in the reference",
    "(c) Misidentification of a finding's anatomic location/position",
    "(d) Misassessment of the severity of a finding",
    "(e) Mentioning a comparison that isn't in the reference",
    "(f) Omitting a comparison detailing a change from a prior study",
)

PARSERS = ("upstream", "radeval")

_LETTER_LINE = re.compile(r"\([a-f]\) .*")
_DIGIT_LINE = re.compile(r"\([1-6]\) .*")
_COUNT = re.compile(r"(?<=: )\b\d+\b(?=\.)")
#: Counts the parser cannot read and would otherwise lose without a trace: negative or spelled out.
_ODD_COUNT = r"(?:-\s*\d+|(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b)"
_MATCHED_START = re.compile(r"^\b\d+\b(?=\.)")
_MATCHED_ANY_LINE = re.compile(r"^\b\d+\b(?=\.)", re.MULTILINE)
_BOLD_HEADER = re.compile(r"\*\*\s*(\[(?:Explanation|Clinically Significant Errors|Clinically Insignificant Errors|"
                          r"Matched Findings)\]:?)\s*\*\*:?")


@dataclass(frozen=True)
class GreenParse:
    """The numbers in one judge output.

    Attributes:
        score: the GREEN score (0 when no matched findings); NaN when the output is unparseable.
        matched: matched findings ``m``.
        significant: counts of clinically significant errors (a)..(f).
        insignificant: counts of clinically insignificant errors (a)..(f) (not used by the score).
        ok: False when the output has none of the sections the score is read from.
        problems: what the reference parser silently ignores or loses in this output.
    """

    score: float
    matched: int
    significant: tuple[int, ...]
    insignificant: tuple[int, ...]
    ok: bool = True
    problems: tuple[str, ...] = field(default_factory=tuple)


def clean_judge_output(text: str) -> str:
    """The analysis part of a decoded judge output, as GREEN extracts it.

    Keeps the text after the last ``<|assistant|>``; if ``[Explanation]:`` occurs, the text after its
    last occurrence (or, when the prompt's own ``[Explanation]:\\n    <Explanation>\\n`` line was echoed,
    the text between the first and second occurrence); removes ``</s>`` and ``<unk>``.
    """
    out = text
    if "<|assistant|>" in out:
        out = out.split("<|assistant|>")[-1]
    if "[Explanation]:" in out:
        if "[Explanation]:\n    <Explanation>\n" in out:
            out = out.split("[Explanation]:")[1]
        else:
            out = out.split("[Explanation]:")[-1]
    return out.replace("</s>", "").replace("<unk>", "")


def strip_markdown_headers(text: str) -> str:
    """Unwrap ``**[Header]:**`` into ``[Header]:`` (chat LLMs bold the section headers)."""
    return _BOLD_HEADER.sub(lambda m: m.group(1) if m.group(1).endswith(":") else m.group(1) + ":", text)


def _section(text: str, category: str) -> str | None:
    found = re.search(rf"\[{re.escape(category)}\]:\s*(.*?)(?:\n\s*\n|\Z)", text, re.DOTALL)
    return None if found is None else found.group(1)


def _error_counts(body: str | None) -> list[int]:
    counts = [0] * 6
    if body is None or body.startswith("No"):
        return counts
    lines = sorted(_LETTER_LINE.findall(body))
    markers = [f"({c}) " for c in "abcdef"]
    if not lines:
        lines = sorted(_DIGIT_LINE.findall(body))
        markers = [f"({i}) " for i in range(1, 7)]
    for position, marker in enumerate(markers):
        for line in lines:  # later lines overwrite earlier ones, as upstream does
            if line.startswith(marker):
                found = _COUNT.findall(line)
                if found:
                    counts[position] = int(found[0])
    return counts


def _matched(body: str | None, parser: str) -> int:
    if body is None or body.startswith("No"):
        return 0
    pattern = _MATCHED_ANY_LINE if parser == "radeval" else _MATCHED_START
    found = pattern.findall(body)
    return int(found[0]) if found else 0


def green_from_counts(matched: int, significant: list[int] | tuple[int, ...]) -> float:
    """GREEN = ``m / (m + Σe)``, and 0 when ``m = 0`` (even with no errors)."""
    if matched == 0:
        return 0.0
    return matched / (matched + sum(significant))


def _problems(text: str, sig_body: str | None, matched_body: str | None, matched: int) -> list[str]:
    """Human-readable notes on what the parser could not read in ``text``."""
    notes = []
    if _BOLD_HEADER.search(text):
        notes.append("markdown-bold section headers: the GREEN parser does not read the sections they open")
    if matched_body is None:
        notes.append("no [Matched Findings] section: matched findings count as 0, so the score is 0")
    elif not matched_body.startswith("No") and not _MATCHED_START.search(matched_body):
        if matched:
            notes.append("matched-findings count read from a later line of its section (RadEval rule; the GREEN "
                         "parser reads 0)")
        elif re.search(r"^\s*\d+", matched_body, re.MULTILINE):
            notes.append("matched-findings count not read: it is not at the start of its section or lacks its "
                         "period")
        elif re.search(rf"^\s*{_ODD_COUNT}", matched_body, re.MULTILINE | re.IGNORECASE):
            notes.append("matched-findings count not read: it is negative or written as a word")
    if sig_body is None and matched_body is not None:
        notes.append("no [Clinically Significant Errors] section: significant errors count as 0")
    if sig_body is not None and not sig_body.startswith("No"):
        lines = _LETTER_LINE.findall(sig_body) or _DIGIT_LINE.findall(sig_body)
        for line in lines:
            if not _COUNT.search(line) and (re.search(r":\s*\d+", line)
                                            or re.search(rf":\s*{_ODD_COUNT}", line, re.IGNORECASE)):
                notes.append(f"error count not read (no ': N.' form): {line.strip()[:80]!r}")
        whole = text.split(f"[{SIGNIFICANT}]:", 1)[1]
        whole = whole.split(f"[{INSIGNIFICANT}]", 1)[0].split(f"[{MATCHED}]", 1)[0]
        if len(_LETTER_LINE.findall(whole) or _DIGIT_LINE.findall(whole)) > len(lines):
            notes.append("error lines after a blank line inside [Clinically Significant Errors] were not read")
    elif sig_body is not None and re.search(r"\([a-f1-6]\) .*:\s*[1-9]", sig_body):
        notes.append("the error section starts with 'No', so its counts were ignored")
    return notes


def parse_green_output(text: str, *, parser: str = "upstream", strip_markdown: bool = False) -> GreenParse:
    """Score one judge output without the judge: GREEN score, matched findings, error counts.

    Args:
        text: a judge output, raw (with the echoed prompt) or already cleaned.
        parser: ``"upstream"`` (the GREEN package; default) or ``"radeval"`` (matched count may start
            any line of its section).
        strip_markdown: unwrap ``**[Header]:**`` before parsing (for GREEN-style chat judges).

    Returns:
        :class:`GreenParse`; ``ok`` is False (and ``score`` NaN) when neither a
        ``[Matched Findings]`` nor a ``[Clinically Significant Errors]`` header is present.

    Raises:
        ValueError: an unknown ``parser``.

    Example:
        >>> parse_green_output("[Matched Findings]:\\n2. No effusion; emphysema.\\n").score
        1.0
        >>> parse_green_output("I cannot evaluate these reports.").ok
        False
    """
    if parser not in PARSERS:
        raise ValueError(f"parser must be one of {PARSERS}, got {parser!r}")
    if not isinstance(text, str):
        raise TypeError(f"judge output must be text, got {type(text).__name__}")
    cleaned = clean_judge_output(text)
    if strip_markdown:
        cleaned = strip_markdown_headers(cleaned)
    sig_body = _section(cleaned, SIGNIFICANT)
    ins_body = _section(cleaned, INSIGNIFICANT)
    matched_body = _section(cleaned, MATCHED)
    significant = _error_counts(sig_body)
    insignificant = _error_counts(ins_body)
    matched = _matched(matched_body, parser)
    has_headers = f"[{MATCHED}]:" in cleaned or f"[{SIGNIFICANT}]:" in cleaned
    problems = _problems(cleaned, sig_body, matched_body, matched)
    if not has_headers:
        return GreenParse(float("nan"), 0, tuple(significant), tuple(insignificant), ok=False,
                          problems=("no [Matched Findings] or [Clinically Significant Errors] section: "
                                    "not a GREEN analysis",))
    return GreenParse(green_from_counts(matched, significant), matched, tuple(significant), tuple(insignificant),
                      ok=True, problems=tuple(problems))


__all__ = [
    "GreenParse", "INSIGNIFICANT", "MATCHED", "PARSERS", "SIGNIFICANT", "SUB_CATEGORIES", "clean_judge_output",
    "green_from_counts", "parse_green_output", "strip_markdown_headers",
]
