"""Where radeval keeps its single cache directory (``$RADEVAL_HOME``, default ``~/.cache/radeval``)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def radeval_home() -> Path:
    """Return the cache directory, creating it if needed.

    Returns:
        ``$RADEVAL_HOME`` if set, else ``~/.cache/radeval``.

    Example:
        >>> radeval_home().name in {"radeval", os.environ.get("RADEVAL_HOME", "radeval").rsplit("/", 1)[-1]}
        True
    """
    root = Path(os.environ.get("RADEVAL_HOME") or Path.home() / ".cache" / "radeval").expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename).

    A reader never sees a half-written file, and a crash leaves the previous version intact.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed write (target is a folder, disk full ...) leaves no temp file
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically; see :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in 4 MiB blocks (memory stays flat for multi-GB checkpoints)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
