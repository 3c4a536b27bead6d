"""Exceptions raised by radeval; each names the offending item (case id, file, field, metric)."""

from __future__ import annotations


class RadevalError(Exception):
    """Base class of every error radeval raises on user input or environment problems."""


class InputError(RadevalError, ValueError):
    """Bad user input: a file, row, case id or field that cannot be used as given."""


class AlignmentError(InputError):
    """References and hypotheses (or two systems) do not cover the same case ids.

    Attributes:
        missing: ids present in the references but absent from the hypotheses.
        extra: ids present in the hypotheses but absent from the references.
        duplicates: ids that occur more than once on either side.
    """

    def __init__(self, message: str, *, missing: list[str] | None = None,
                 extra: list[str] | None = None, duplicates: list[str] | None = None) -> None:
        super().__init__(message)
        self.missing = list(missing or [])
        self.extra = list(extra or [])
        self.duplicates = list(duplicates or [])


class UnknownNameError(RadevalError, KeyError):
    """A metric, model or option name that is not registered; the message lists close matches."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain sentence
        return str(self.args[0]) if self.args else ""


class MissingWeightsError(RadevalError, RuntimeError):
    """Model weights are not available offline; the message names the model id and the fetch command."""


class MissingDependencyError(RadevalError, ImportError):
    """An optional dependency is not installed; the message names the pip extra that provides it."""


class SampleError(RadevalError):
    """One sample failed inside a batch; carries the case id so the rest of the batch can continue."""

    def __init__(self, case_id: str, message: str) -> None:
        super().__init__(f"case {case_id!r}: {message}")
        self.case_id = case_id
        self.reason = message
