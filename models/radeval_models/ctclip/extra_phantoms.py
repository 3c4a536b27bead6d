"""Extra phantom volumes for the demo's encoder pretraining (``embed.pretrain_extra_phantoms``), never evaluated.

A *demo-only reconstruction* (issue 15 item 3): the demo's 126 training volumes are memorised by the small CT-ViT
before it learns a finding that sits at a different place in every patient. Phantoms are free, so the pretraining
may also see ``n`` freshly drawn phantom volumes: a whole phantom dataset (every split) drawn with the suite
dataset's own phantom options and a *different* seed, written to a temporary folder, read and preprocessed exactly
like the dataset's volumes, and deleted. They are not part of the dataset: no evaluation (or training) case is
among them, and nothing but the encoder pretraining reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radeval.data.phantom import PHANTOM_OPTIONS  # the options an extra-phantom set may carry
from radeval.errors import InputError


@dataclass(frozen=True)
class ExtraPhantoms:
    """What the extra pretraining volumes are: ``n`` phantom volumes drawn with ``seed`` and ``options``.

    Attributes:
        n: number of volumes (>= 2: a phantom dataset has two splits; all of them are used).
        seed: the phantom seed; must differ from the evaluated dataset's (the caller's guarantee, checked by the
            suite validation).
        options: keyword options of :func:`radeval.data.phantom.make_phantom_dataset` (those of the suite's
            dataset, so the extra volumes look like its volumes).

    Example:
        >>> ExtraPhantoms(n=4, seed=7, options={"textured": True}).to_dict()
        {'n': 4, 'seed': 7, 'options': {'textured': True}}
    """

    n: int
    seed: int
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.n < 2:
            raise InputError(f"extra pretraining phantoms: n={self.n}; a phantom set needs at least 2 volumes")
        unknown = sorted(set(self.options) - set(PHANTOM_OPTIONS))
        if unknown:
            raise InputError(f"extra pretraining phantoms: unknown phantom option(s) {unknown}; "
                             f"expected some of {list(PHANTOM_OPTIONS)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples as lists): what keys the pretraining cache."""
        return {"n": int(self.n), "seed": int(self.seed),
                "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in sorted(self.options.items())}}


def draw_extra_phantoms(extra: ExtraPhantoms, dest: str | Path) -> Path:
    """Write the extra phantom set into ``dest`` and return its dataset folder (CT-RATE layout, every split).

    Args:
        extra: :class:`ExtraPhantoms`.
        dest: an empty (or new) folder; the caller deletes it after reading.

    Returns:
        The dataset folder (``dest/dataset``).

    Example:
        >>> import tempfile
        >>> root = draw_extra_phantoms(ExtraPhantoms(n=2, seed=5, options={"shape": (16, 16, 12)}), tempfile.mkdtemp())
        >>> root.name
        'dataset'
    """
    from radeval.data.phantom import make_phantom_dataset

    options = dict(extra.options)
    if "shape" in options:
        options["shape"] = tuple(options["shape"])
    return make_phantom_dataset(dest, n=extra.n, seed=extra.seed, **options)


__all__ = ["ExtraPhantoms", "PHANTOM_OPTIONS", "draw_extra_phantoms"]
