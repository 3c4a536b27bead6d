"""Command-line spellings of the reader-study analysis options, parsed for :func:`radeval_reader_study.analysis.analyze`."""

from __future__ import annotations

from radeval.errors import InputError
from radeval.stats.pair_names import parse_pairs

#: The roles of the paper's reader-study comparisons (V-3 against the baseline and against V-2).
PAPER_ROLES: tuple[str, ...] = ("v3", "v2", "baseline")


def parse_paper_roles(text: str) -> dict[str, str]:
    """``v3=NAME,v2=NAME,baseline=NAME`` as a role -> system mapping.

    Raises:
        InputError: an unknown role or an empty name.

    Example:
        >>> parse_paper_roles("v3=ours, baseline=base")
        {'v3': 'ours', 'baseline': 'base'}
    """
    roles: dict[str, str] = {}
    for item in text.split(","):
        role, sep, name = item.partition("=")
        if not sep or role.strip() not in PAPER_ROLES or not name.strip():
            raise InputError(f"--paper-roles {item!r}: expected v3=NAME, v2=NAME or baseline=NAME")
        roles[role.strip()] = name.strip()
    return roles


__all__ = ["PAPER_ROLES", "parse_pairs", "parse_paper_roles"]
