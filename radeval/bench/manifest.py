"""The run manifest: versions, signatures, seeds and per-stage timings of one benchmark run."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from radeval.version import __version__

_PACKAGES = ("numpy", "pandas", "scipy", "sacrebleu", "rouge-score", "pycocoevalcap", "torch", "transformers",
             "accelerate", "bert-score", "safetensors")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that can change numbers (absent ones omitted)."""
    out = {"python": platform.python_version(), "radeval-ct": __version__}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def content_hash(obj: Any) -> str:
    """A short SHA-256 of a JSON-serialisable object (sorted keys); used to key cached stages."""
    blob = json.dumps(obj, sort_keys=True, default=str, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


@dataclass
class Manifest:
    """Collects what a run did; written as ``manifest.json``."""

    suite: str
    suite_hash: str
    timings: dict[str, float] = field(default_factory=dict)
    cached: dict[str, bool] = field(default_factory=dict)
    signatures: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a stage (accumulates if entered twice)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 3)

    def to_json(self) -> str:
        """The manifest as pretty JSON."""
        body = {"suite": self.suite, "suite_hash": self.suite_hash, "versions": package_versions(),
                "argv": sys.argv, "signatures": self.signatures, "timings_s": self.timings,
                "cached_stages": self.cached, **self.extra}
        return json.dumps(body, indent=2, sort_keys=False, default=str)
