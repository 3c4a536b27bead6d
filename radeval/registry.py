"""One generic name registry, and the two registries built from it: report generators and metrics.

Entries are objects or lazy ``"module:attr"`` strings, imported on first lookup, so listing names
never imports a heavy backend. Report generators are also discovered through the ``radeval.models``
entry-point group, which is how the bundled ``models`` package and third-party plugins register.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import numpy as np

from radeval.errors import InputError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """A thread-safe mapping alias -> object, with lazy ``"module:attr"`` entries and entry points.

    Args:
        kind: what the registry holds ("metric", "report generator"), used in error messages.
        entry_point_group: an ``importlib.metadata`` entry-point group scanned on first lookup.

    Example:
        >>> r = Registry("widget")
        >>> @r.register("spanner")
        ... class Spanner: ...
        >>> r.get("spanner").__name__
        'Spanner'
        >>> r.get("spaner")
        Traceback (most recent call last):
        ...
        radeval.errors.UnknownNameError: unknown widget 'spaner'; did you mean: 'spanner'? Available: spanner
    """

    def __init__(self, kind: str, *, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._entries: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._entry_points_loaded = entry_point_group is None
        self._frozen = False

    def register(self, name: str, *aliases: str, obj: Any = None, replace: bool = False) -> Any:
        """Register ``obj`` (or decorate a class/function) under ``name`` and ``aliases``.

        ``obj`` may be a ``"module:attr"`` string, imported on first :meth:`get`.

        Raises:
            ValueError: the name is already taken (unless ``replace``), or the registry is frozen.
        """

        def add(target: Any) -> Any:
            with self._lock:
                if self._frozen:
                    raise ValueError(f"the {self.kind} registry is frozen; cannot add {name!r}")
                for alias in (name, *aliases):
                    if alias in self._entries and not replace and self._entries[alias] is not target:
                        raise ValueError(f"{self.kind} {alias!r} is already registered")
                    self._entries[alias] = target
            return target

        return add(obj) if obj is not None else add

    def freeze(self) -> None:
        """Refuse further registrations."""
        self._frozen = True

    def _load_entry_points(self) -> None:
        with self._lock:
            if self._entry_points_loaded:
                return
            self._entry_points_loaded = True
            for ep in metadata.entry_points(group=self.entry_point_group or ""):
                self._entries.setdefault(ep.name, ep.value)

    def names(self) -> list[str]:
        """All registered names (including entry points), sorted."""
        self._load_entry_points()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T:
        """Return the object registered as ``name``, importing it if registered lazily.

        Raises:
            UnknownNameError: with close matches and the list of available names.
        """
        self._load_entry_points()
        with self._lock:
            if name not in self._entries:
                raise UnknownNameError(self._miss_message(name))
            entry = self._entries[name]
            if isinstance(entry, str):
                module_name, _, attr = entry.partition(":")
                module = importlib.import_module(module_name)
                entry = module
                for part in attr.split("."):
                    entry = getattr(entry, part)
                self._entries[name] = entry
            return entry

    def _miss_message(self, name: str) -> str:
        names = sorted(self._entries)
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        hint = f"; did you mean: {', '.join(repr(c) for c in close)}?" if close else ""
        return f"unknown {self.kind} {name!r}{hint} Available: {', '.join(names) or '(none)'}"


# ---------------------------------------------------------------------------------------------
# Report generators
# ---------------------------------------------------------------------------------------------


@dataclass
class GenerationBatch:
    """What a report generator receives: case ids with their image embeddings and optional logits.

    Attributes:
        case_ids: one id per case.
        embeddings: ``(n, d)`` float array (CT-CLIP latent or any image embedding).
        logits: ``(n, n_labels)`` diagnostic logits (needed by RAD3D-Prefix V-3), or ``None``.
        volumes: preprocessed volumes for end-to-end models, or ``None``.
        extra: anything else a plug-in generator needs.
        slab_tokens: ``(n, n_slabs, dim)`` CT-CLIP slab tokens (needed by CT2Rep and Ker-VLJEPA), or ``None``.
    """

    case_ids: Sequence[str]
    embeddings: np.ndarray | Any
    logits: np.ndarray | Any | None = None
    volumes: Any | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    slab_tokens: np.ndarray | Any | None = None

    def __len__(self) -> int:
        return len(self.case_ids)


@runtime_checkable
class ReportGenerator(Protocol):
    """The contract every report generator fulfils (see ``models`` for the bundled ones)."""

    name: str

    def generate(self, batch: GenerationBatch) -> list[str]:
        """Return one report per case of ``batch``, in order."""
        ...

    def save_pretrained(self, directory: str | Path) -> None:
        """Write safetensors weights and a JSON config into ``directory``."""
        ...

    @classmethod
    def from_pretrained(cls, directory: str | Path, **kwargs: Any) -> "ReportGenerator":
        """Load a generator saved with :meth:`save_pretrained`."""
        ...


#: How a :class:`TrainableGenerator` learns (its ``training`` attribute).
TRAINING_MODES = ("fit", "loop")


@runtime_checkable
class TrainableGenerator(ReportGenerator, Protocol):
    """A report generator that ``radeval train`` and the ``train:`` systems of a suite can train.

    ``radeval_models.train.train_generator`` looks the name up, checks this protocol (instead of probing for methods), turns
    the user's settings into ``config_class`` with :meth:`parse_config` (``embedding_dim``/``n_logits`` default to
    the training data's when the config has them), then trains according to ``training``:

    * ``"fit"`` — the class has ``fit(case_ids, embeddings, reports, config) -> ReportGenerator``: learning is one
      call with no optimiser (the nearest-neighbour ``dummy``); the result is saved with ``save_pretrained``.
    * ``"loop"`` — the class is trained by the shared gradient loop (``radeval_models.train``): it is a
      ``radeval_models.generator.GeneratorModel`` (``from_config``, ``collate``, ``forward`` returning ``loss_sum`` and
      ``n_tokens``, ``conditioning``, ``parameter_counts``), checkpointed each epoch and resumable.

    Attributes:
        name: the registry name (recorded in checkpoints).
        config_class: the dataclass of the generator's settings; its fields are the keys a suite system's
            ``config:`` mapping may use (see :func:`generator_config_fields`).
        training: ``"fit"`` or ``"loop"``.

    Example:
        >>> class Echo:
        ...     name, config_class, training = "echo", dict, "fit"
        ...     def generate(self, batch): return list(batch.case_ids)
        ...     def save_pretrained(self, directory): ...
        ...     @classmethod
        ...     def from_pretrained(cls, directory, **kwargs): return cls()
        ...     @classmethod
        ...     def parse_config(cls, values=None, **overrides): return {**dict(values or {}), **overrides}
        >>> isinstance(Echo, TrainableGenerator), isinstance(Echo, ReportGenerator)
        (True, True)
    """

    name: str
    config_class: type
    training: str

    @classmethod
    def parse_config(cls, values: Any = None, **overrides: Any) -> Any:
        """The ``config_class`` instance for a mapping (or instance) of settings, naming unknown keys."""
        ...


#: Report generators: the bundled ``models`` package and plug-ins register through entry points.
generators: Registry[Any] = Registry("report generator", entry_point_group="radeval.models")


def register_generator(name: str, *aliases: str) -> Callable[[T], T]:
    """Class decorator registering a :class:`ReportGenerator` under ``name``."""
    return generators.register(name, *aliases)


def get_generator(name: str) -> Any:
    """Return the generator class registered as ``name`` (entry points load on first use)."""
    return generators.get(name)


def trainable_generator(name: str) -> TrainableGenerator:
    """The generator class registered as ``name``, checked to be a :class:`TrainableGenerator`.

    Raises:
        UnknownNameError: ``name`` is not registered.
        InputError: the generator has no training interface, or an unknown ``training`` mode.

    Example:
        >>> trainable_generator("dummy").training
        'fit'
    """
    cls = get_generator(name)
    if not isinstance(cls, TrainableGenerator):
        missing = [m for m in ("name", "config_class", "training", "parse_config", "generate", "save_pretrained",
                               "from_pretrained") if not hasattr(cls, m)]
        raise InputError(f"report generator {name!r} cannot be trained here: it is not a TrainableGenerator "
                         f"(missing {', '.join(missing)}); train it with its own tools and use a 'checkpoint:'")
    if cls.training not in TRAINING_MODES:
        raise InputError(f"report generator {name!r}: training mode {cls.training!r}, expected one of "
                         f"{list(TRAINING_MODES)}")
    return cls


def generator_config_fields(name: str) -> tuple[str, ...]:
    """The setting names of the trainable generator ``name`` (its ``config_class`` fields, in order).

    Raises:
        UnknownNameError: ``name`` is not registered.
        InputError: it is not a :class:`TrainableGenerator` or its ``config_class`` is not a dataclass.

    Example:
        >>> generator_config_fields("dummy")
        ('embedding_dim',)
    """
    config_class = trainable_generator(name).config_class
    if not dataclasses.is_dataclass(config_class):
        raise InputError(f"report generator {name!r}: config_class {config_class!r} is not a dataclass")
    return tuple(f.name for f in dataclasses.fields(config_class))


#: Metrics: factories ``(**options) -> Metric``; the built-ins are listed lazily in radeval.metrics.
metrics: Registry[Callable[..., Any]] = Registry("metric", entry_point_group="radeval.metrics")


def register_metric(name: str, *aliases: str) -> Callable[[T], T]:
    """Decorator registering a metric factory (a Metric subclass or a function returning one)."""
    return metrics.register(name, *aliases)
