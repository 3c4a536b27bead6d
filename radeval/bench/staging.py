"""A bench run's output set is atomic: staged in a hidden folder, swapped in, manifest written last.

:class:`OutputStage` gives the runner a staging folder ``<output_dir>/.staging-<pid>``; every output is
written there. Only when the whole set is complete does :meth:`OutputStage.commit` move it in:

1. the old ``manifest.json`` is removed first (from then on a reader knows the set is in flux);
2. each staged entry replaces its namesake (``os.replace``, atomic per entry; folders are swapped
   through a ``.old`` name), outputs of the previous run that this run did not write are removed;
3. ``manifest.json`` is written last, listing every output with its SHA-256.

A run that fails before the commit removes its staging folder and leaves the previous outputs
untouched; :func:`verify_outputs` tells a reader whether a folder holds one complete run.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import TracebackType

from radeval.paths import atomic_write_text, file_sha256

#: Top-level names a bench run may write into its output folder (the manifest last).
BENCH_OUTPUTS = ("leaderboard.md", "leaderboard.csv", "leaderboard.html", "leaderboard.json", "examples.md", "examples.html", "significance.md", "per_sample.csv",
                 "pairs.csv", "comparisons.csv", "comparisons", "forest.png", "metrics.png", "failures.txt", "reader_study", "scaling.csv",
                 "scaling.png", "label_head.csv", "manifest.json")

MANIFEST = "manifest.json"


class OutputStage:
    """Stage a run's outputs and swap them into ``output_dir`` in one step (see the module docstring).

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp()) / "run"
        >>> with OutputStage(out) as stage:
        ...     _ = (stage.dir / "leaderboard.md").write_text("# board")
        ...     files = stage.commit('{"suite": "x"}')
        >>> sorted(p.name for p in files), verify_outputs(out)
        (['leaderboard.md', 'manifest.json'], [])
    """

    def __init__(self, output_dir: str | os.PathLike[str]) -> None:
        self.output_dir = Path(output_dir)
        self.dir = self.output_dir / f".staging-{os.getpid()}"
        self.committed = False

    def __enter__(self) -> OutputStage:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.dir, ignore_errors=True)  # a leftover of a killed run with a recycled pid
        self.dir.mkdir()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)  # after a failure the previous outputs stay as they were

    def carry_over(self, name: str) -> None:
        """Copy an existing output folder (e.g. ``reader_study``, which keeps superseded packets) into the stage
        so the run updates it instead of starting from nothing."""
        source = self.output_dir / name
        if source.is_dir() and not (self.dir / name).exists():
            shutil.copytree(source, self.dir / name, symlinks=True)

    def final_path(self, staged: str | os.PathLike[str]) -> Path:
        """Where a staged path ends up after :meth:`commit`."""
        p = Path(staged)
        try:
            return self.output_dir / p.relative_to(self.dir)
        except ValueError:
            return p

    def commit(self, manifest_json: str) -> list[Path]:
        """Swap the staged outputs in and write the manifest (with the output list) last.

        Args:
            manifest_json: the run's manifest as a JSON object; ``outputs`` (name -> SHA-256) is added.

        Returns:
            The final paths of every output, the manifest last.
        """
        entries = sorted(p.name for p in self.dir.iterdir() if p.name != MANIFEST)
        (self.output_dir / MANIFEST).unlink(missing_ok=True)
        for name in entries:
            target = self.output_dir / name
            if (self.dir / name).is_dir() and target.exists():
                old = self.output_dir / f".{name}.old-{os.getpid()}"
                os.replace(target, old)
                os.replace(self.dir / name, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(self.dir / name, target)
        for name in BENCH_OUTPUTS:  # outputs of an earlier run that this run did not produce
            stale = self.output_dir / name
            if name != MANIFEST and name not in entries and (stale.exists() or stale.is_symlink()):
                shutil.rmtree(stale) if stale.is_dir() and not stale.is_symlink() else stale.unlink()
        body = json.loads(manifest_json)
        body["outputs"] = {rel: file_sha256(self.output_dir / rel) for rel in _files(self.output_dir, entries)}
        atomic_write_text(self.output_dir / MANIFEST, json.dumps(body, indent=2, default=str))
        self.committed = True
        return [self.output_dir / name for name in entries] + [self.output_dir / MANIFEST]


def _files(root: Path, entries: list[str]) -> list[str]:
    out = []
    for name in entries:
        p = root / name
        if p.is_dir():
            out += sorted(str(f.relative_to(root)) for f in p.rglob("*") if f.is_file())
        else:
            out.append(name)
    return out


def verify_outputs(output_dir: str | os.PathLike[str]) -> list[str]:
    """Problems that show a folder does not hold one complete run (empty list: it does).

    A missing manifest (a run in progress, or interrupted during the swap), a listed file that is
    absent or whose SHA-256 differs (a mix of runs) are each one line.
    """
    root = Path(output_dir)
    manifest = root / MANIFEST
    if not manifest.is_file():
        return [f"{root}: no {MANIFEST}; the outputs are incomplete (a run was interrupted or is in progress)"]
    try:
        listed = json.loads(manifest.read_text(encoding="utf-8")).get("outputs")
    except (OSError, ValueError) as exc:
        return [f"{manifest}: unreadable ({exc})"]
    if not isinstance(listed, dict):
        return [f"{manifest}: lists no outputs (written by an older radeval); cannot verify"]
    problems = []
    for rel, digest in listed.items():
        p = root / rel
        if not p.is_file():
            problems.append(f"{p}: listed in {MANIFEST} but missing")
        elif file_sha256(p) != digest:
            problems.append(f"{p}: differs from the file this run wrote (a mix of runs)")
    return problems


def suite_inputs(suite: object) -> list[Path]:
    """Every input file or folder a suite names: the suite file, references/dataset root, predictions, checkpoints."""
    dataset = getattr(suite, "dataset", None)
    paths = [getattr(suite, "path", None), getattr(dataset, "references", None), getattr(dataset, "root", None),
             getattr(getattr(suite, "embed", None), "checkpoint", None)]
    for system in getattr(suite, "systems", ()):
        paths += [getattr(system, "predictions", None), getattr(system, "checkpoint", None)]
    return [Path(p) for p in paths if p is not None]


def check_suite_output_dir(suite: object) -> Path:
    """Refuse a suite whose ``output_dir`` is a file, sits under a file, or would replace one of its inputs.

    Raises:
        InputError: naming the suite's ``output_dir`` and the input.
    """
    from radeval.output_paths import check_output_dir

    return check_output_dir(getattr(suite, "output_dir"), inputs=suite_inputs(suite), written=BENCH_OUTPUTS,
                            option=f"{getattr(suite, 'name', 'suite')}: output_dir")
