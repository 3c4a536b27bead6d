"""Finding a split's embedding file and report file inside a dataset directory.

``radeval train --data DIR --split train`` looks for the embeddings at ``DIR/<split>.safetensors`` or
``DIR/embeddings/<split>.safetensors`` and for the reports at ``DIR/<split>.jsonl``, ``DIR/reports/<split>.jsonl``,
``DIR/<split>.csv`` or ``DIR/reports/<split>.csv`` (first match wins).
"""

from __future__ import annotations

from pathlib import Path

from radeval.errors import InputError


def _first(candidates: list[Path], what: str, data_dir: Path) -> Path:
    for path in candidates:
        if path.is_file():
            return path
    tried = ", ".join(str(p.relative_to(data_dir)) for p in candidates)
    raise InputError(f"{data_dir}: no {what} file (tried {tried})")


def split_embeddings(data_dir: str | Path, split: str) -> Path:
    """The embedding file of ``split`` in ``data_dir``; raises naming the paths tried."""
    root = Path(data_dir)
    if not root.is_dir():
        raise InputError(f"{root}: dataset directory not found")
    return _first([root / f"{split}.safetensors", root / "embeddings" / f"{split}.safetensors"], "embedding", root)


def split_reports(data_dir: str | Path, split: str) -> Path:
    """The report file of ``split`` in ``data_dir``; raises naming the paths tried."""
    root = Path(data_dir)
    if not root.is_dir():
        raise InputError(f"{root}: dataset directory not found")
    names = [f"{split}.jsonl", f"reports/{split}.jsonl", f"{split}.csv", f"reports/{split}.csv"]
    return _first([root / n for n in names], "report", root)
