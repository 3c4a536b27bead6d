"""Extra phantom volumes for the demo's encoder pretraining (``embed.pretrain_extra_phantoms``), never evaluated.

A *demo-only reconstruction* (issue 15 item 3): the demo's 126 training volumes are memorised by the small CT-ViT
before it learns a finding that sits at a different place in every patient. Phantoms are free, so the pretraining
may also see ``n`` freshly drawn phantom volumes: a whole phantom dataset (every split) drawn with the suite
dataset's own phantom options and a *different* seed, written to a temporary folder, read and preprocessed exactly
like the dataset's volumes, and deleted. They are not part of the dataset: no evaluation (or training) case is
among them, and nothing but the encoder pretraining reads them.

The set is drawn in chunks (:meth:`ExtraPhantoms.chunks`: at most ``chunk_size`` volumes each, chunk ``j`` a
phantom dataset of its own with seed ``seed + j``), so the chunks can be drawn in parallel processes and the
volumes do not depend on how many processes drew them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radeval.data.phantom import PHANTOM_OPTIONS  # the options an extra-phantom set may carry
from radeval.errors import InputError

#: Volumes per chunk of an extra phantom set (chunks are drawn in parallel; part of the cache key).
CHUNK_SIZE = 50


@dataclass(frozen=True)
class ExtraPhantoms:
    """What the extra pretraining volumes are: ``n`` phantom volumes drawn with ``seed`` and ``options``.

    Attributes:
        n: number of volumes (>= 2: a phantom dataset has two splits; all of them are used).
        seed: the phantom seed; must differ from the evaluated dataset's (the caller's guarantee, checked by the
            suite validation).
        options: keyword options of :func:`radeval.data.phantom.make_phantom_dataset` (those of the suite's
            dataset, so the extra volumes look like its volumes).
        chunk_size: at most this many volumes per chunk (see :meth:`chunks`).

    Example:
        >>> ExtraPhantoms(n=4, seed=7, options={"textured": True}).to_dict()
        {'n': 4, 'seed': 7, 'options': {'textured': True}, 'chunk_size': 50}
    """

    n: int
    seed: int
    options: Mapping[str, Any] = field(default_factory=dict)
    chunk_size: int = CHUNK_SIZE

    def __post_init__(self) -> None:
        if self.n < 2:
            raise InputError(f"extra pretraining phantoms: n={self.n}; a phantom set needs at least 2 volumes")
        if self.chunk_size < 4:
            raise InputError(f"extra pretraining phantoms: chunk_size={self.chunk_size}; expected >= 4 "
                             f"(every chunk is a phantom set of at least 2 volumes)")
        unknown = sorted(set(self.options) - set(PHANTOM_OPTIONS))
        if unknown:
            raise InputError(f"extra pretraining phantoms: unknown phantom option(s) {unknown}; "
                             f"expected some of {list(PHANTOM_OPTIONS)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples as lists): what keys the pretraining cache."""
        return {"n": int(self.n), "seed": int(self.seed),
                "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in sorted(self.options.items())},
                "chunk_size": int(self.chunk_size)}

    def chunks(self) -> list[tuple[int, int]]:
        """``(n, seed)`` of each chunk: ``ceil(n / chunk_size)`` chunks of near-equal size (each >= 2), seeds
        ``seed, seed + 1, ...``.

        Example:
            >>> ExtraPhantoms(n=120, seed=7, chunk_size=50).chunks()
            [(40, 7), (40, 8), (40, 9)]
        """
        k = -(-self.n // self.chunk_size)
        return [(self.n // k + (1 if j < self.n % k else 0), self.seed + j) for j in range(k)]


def draw_extra_phantoms(extra: ExtraPhantoms, dest: str | Path, chunk: int = 0) -> Path:
    """Write one chunk of the extra phantom set into ``dest`` and return its dataset folder (CT-RATE layout,
    every split).

    Args:
        extra: :class:`ExtraPhantoms`.
        dest: an empty (or new) folder; the caller deletes it after reading.
        chunk: which of :meth:`ExtraPhantoms.chunks` to draw.

    Returns:
        The dataset folder (``dest/dataset``).

    Example:
        >>> import tempfile
        >>> root = draw_extra_phantoms(ExtraPhantoms(n=2, seed=5, options={"shape": (16, 16, 12)}), tempfile.mkdtemp())
        >>> root.name
        'dataset'
    """
    from radeval.data.phantom import make_phantom_dataset

    n, seed = extra.chunks()[chunk]
    options = dict(extra.options)
    if "shape" in options:
        options["shape"] = tuple(options["shape"])
    return make_phantom_dataset(dest, n=n, seed=seed, **options)


__all__ = ["CHUNK_SIZE", "ExtraPhantoms", "PHANTOM_OPTIONS", "draw_extra_phantoms"]
