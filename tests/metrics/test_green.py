"""GREEN: byte-exact prompt, parser vectors, the upstream corpus vector, stored answers, failure isolation.

The judge here is a loopback HTTP server speaking the OpenAI completions protocol that answers with
realistic, hand-written GREEN analyses (tests/fixtures/green_judge_outputs.json), so every number can be
checked exactly. The judge back-ends themselves run real transformers models in test_green_judges.py.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from radeval.cache import StatisticsCache
from radeval.cli.main import main
from radeval.errors import InputError
from radeval.metrics import get_metric
from radeval.metrics.green import (
    SUB_CATEGORIES, Green, make_prompt, parse_green_output, prompt_template, score_outputs, truncate_words,
)
from radeval.metrics.green_parse import clean_judge_output, green_from_counts
from radeval.metrics.scoring import score

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VECTORS = json.loads((FIXTURES / "green_parser_vectors.json").read_text(encoding="utf-8"))["vectors"]
CORPUS = json.loads((FIXTURES / "green_judge_outputs.json").read_text(encoding="utf-8"))
CASES = CORPUS["cases"]
GARBAGE = "I am sorry, but I cannot compare these two reports."


class CannedJudge(BaseHTTPRequestHandler):
    """Answers each prompt with the analysis of the fixture case whose candidate it contains.

    Candidates containing TRIGGER-500 always fail with HTTP 500, TRIGGER-FLAKY fails once then
    answers, TRIGGER-SLOW answers after the client's timeout, TRIGGER-GARBAGE answers with prose.
    """

    calls: list[str] = []
    seen_flaky: set[str] = set()
    lock = threading.Lock()

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, code: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": "canned-judge", "object": "model"}]})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        request = json.loads(self.rfile.read(length))
        prompt = request["prompt"]
        with self.lock:
            self.calls.append(prompt)
        candidate = prompt.split("3. Candidate Report:\n    ", 1)[1].split("\n", 1)[0]
        if "TRIGGER-500" in candidate:
            self._send(500, {"error": "internal error"})
            return
        if "TRIGGER-FLAKY" in candidate:
            with self.lock:
                first = candidate not in self.seen_flaky
                self.seen_flaky.add(candidate)
            if first:
                self._send(503, {"error": "busy"})
                return
        if "TRIGGER-SLOW" in candidate:
            time.sleep(1.5)
        text = GARBAGE
        for case in CASES:
            if case["hypothesis"] in candidate:
                text = case["output"]
        if "TRIGGER-FLAKY" in candidate:
            text = CASES[3]["output"]
        self._send(200, {"id": "cmpl-1", "object": "text_completion", "model": request["model"],
                         "choices": [{"index": 0, "text": text, "finish_reason": "stop"}]})


@pytest.fixture()
def judge_url() -> Iterator[str]:
    CannedJudge.calls = []
    CannedJudge.seen_flaky = set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), CannedJudge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def _refs_hyps() -> tuple[list[str], list[str]]:
    return [c["reference"] for c in CASES], [c["hypothesis"] for c in CASES]


# -- prompt ----------------------------------------------------------------------------------------
def test_prompt_template_is_byte_exact() -> None:
    template = prompt_template()
    assert hashlib.sha256(template.encode("utf-8")).hexdigest() == \
        "85a3b95554c1cf431bfa05db87d227116525f0586ed9c5e56232d44a5b2555ef"
    assert len(template.replace("{text1}", "").replace("{text2}", "")) == 1844
    assert template.endswith("```\n")


def test_prompt_truncates_each_report_to_300_words() -> None:
    long_ref = " ".join(f"w{i}" for i in range(400))
    prompt = make_prompt(long_ref, "  two\n\twords ")
    assert "w299" in prompt and "w300" not in prompt
    assert "\n    two words\n" in prompt
    assert truncate_words("a  b\nc", 2) == "a b"


def test_prompt_fills_placeholders_once() -> None:
    prompt = make_prompt("ref mentions {text2} literally", "HYPOTHESIS-X")
    assert "ref mentions {text2} literally" in prompt
    assert prompt.count("HYPOTHESIS-X") == 1


# -- parser ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
@pytest.mark.parametrize("parser", ["upstream", "radeval"])
def test_parser_vectors(vector: dict, parser: str) -> None:
    expected_score, expected_sig, expected_m = vector[f"expected_{parser}"]
    got = parse_green_output(vector["response"], parser=parser)
    assert got.ok
    assert got.score == pytest.approx(expected_score, abs=1e-12)
    assert list(got.significant) == expected_sig
    assert got.matched == expected_m


def test_parser_reports_what_it_cannot_read() -> None:
    by_id = {v["id"]: v["response"] for v in VECTORS}
    assert "markdown-bold" in parse_green_output(by_id["T4"]).problems[0]
    assert any("': N.'" in p for p in parse_green_output(by_id["T5"]).problems)
    assert any("blank line" in p for p in parse_green_output(by_id["T10"]).problems)
    assert any("starts with 'No'" in p for p in parse_green_output(by_id["T7"]).problems)
    assert parse_green_output(by_id["T1"]).problems == ()


def test_markdown_headers_are_unwrapped_for_green_style_judges() -> None:
    t4 = next(v for v in VECTORS if v["id"] == "T4")["response"]
    assert parse_green_output(t4).score == 0
    stripped = parse_green_output(t4, strip_markdown=True)
    assert (stripped.score, stripped.matched, stripped.problems) == (0.75, 3, ())


def test_upstream_corpus_vector() -> None:
    parsed = [parse_green_output(c["output"]) for c in CASES]
    scores = [p.score for p in parsed]
    np.testing.assert_allclose(scores, [0, 1 / 6, 1 / 3, 1 / 2, 1 / 4], rtol=0, atol=1e-15)
    assert np.mean(scores) == pytest.approx(0.25, abs=1e-15)
    assert np.std(scores) == CORPUS["std"]
    assert [list(p.significant) for p in parsed] == [c["significant"] for c in CASES]


def test_garbage_is_unparseable_not_zero() -> None:
    got = parse_green_output(GARBAGE)
    assert not got.ok and np.isnan(got.score)
    frame = score_outputs([CASES[3]["output"], GARBAGE])
    assert frame["green_score"].iloc[0] == 0.5 and np.isnan(frame["green_score"].iloc[1])
    assert frame["ok"].tolist() == [True, False]


def test_cleaning_follows_upstream() -> None:
    echoed = "<|user|>\nprompt\n<|assistant|>\n[Explanation]:\nfine\n\n[Matched Findings]:\n1. a</s><unk>"
    assert clean_judge_output(echoed) == "\nfine\n\n[Matched Findings]:\n1. a"
    template_echo = "[Explanation]:\n    <Explanation>\n first [Explanation]: second"
    assert clean_judge_output(template_echo) == "\n    <Explanation>\n first "
    assert green_from_counts(0, [0] * 6) == 0.0 and green_from_counts(2, [1, 1, 0, 0, 0, 0]) == 0.5


# -- the metric through a judge endpoint -----------------------------------------------------------
def test_green_scores_the_corpus_vector_and_summarises(judge_url: str) -> None:
    refs, hyps = _refs_hyps()
    metric = Green(judge=judge_url, checkpoint="StanfordAIMI/GREEN-radllama2-7b", retries=0)
    assert metric.label == "GREEN" and metric.strip_markdown is False
    stats = metric.statistics(refs, hyps)
    np.testing.assert_allclose(stats[:, 0], [c["score"] for c in CASES], atol=1e-15)
    assert metric.aggregate(stats.sum(axis=0)) == pytest.approx(0.25)
    summary = metric.summary(refs, hyps)
    assert (summary.mean, summary.std, summary.n, summary.n_failed) == (pytest.approx(0.25), CORPUS["std"], 5, 0)
    assert summary.accuracy[SUB_CATEGORIES[0]] == pytest.approx(1 / 5)  # only case 3 has no (a) errors
    assert summary.total_errors[SUB_CATEGORIES[1]] == 6
    assert summary.mean_matched == pytest.approx(1.0)
    assert len(CannedJudge.calls) == 5  # details/summary reuse the stored answers
    frame = metric.details(refs, hyps)
    assert frame.loc[1, SUB_CATEGORIES[2]] == 2 and frame.loc[2, "Matched Findings"] == 2
    assert frame.loc[0, "green_analysis"].startswith("\nThe candidate places")


def test_stored_answers_rescore_without_the_judge(judge_url: str, tmp_path: Path) -> None:
    refs, hyps = _refs_hyps()
    store = tmp_path / "answers.sqlite"
    first = Green(judge=judge_url, model="canned-judge", store=store).statistics(refs, hyps)
    assert len(CannedJudge.calls) == 5
    # A new object (say, a new process) with another parser re-scores from the store alone.
    again = Green(judge=judge_url, model="canned-judge", store=store, parser="radeval")
    np.testing.assert_array_equal(again.statistics(refs, hyps), first)
    assert len(CannedJudge.calls) == 5


def test_failures_are_isolated_and_named(judge_url: str) -> None:
    refs, hyps = _refs_hyps()
    refs = refs + ["Normal study.", "Normal study.", "Normal study.", "", "Normal study."]
    hyps = hyps + ["TRIGGER-500 x", "TRIGGER-SLOW x", "TRIGGER-GARBAGE x", "anything", "TRIGGER-FLAKY x"]
    metric = Green(judge=judge_url, model="canned-judge", timeout=0.5, retries=1, backoff=0.05, store=False)
    stats = metric.statistics(refs, hyps)
    np.testing.assert_allclose(stats[:5, 0], [c["score"] for c in CASES], atol=1e-15)
    assert stats[9, 0] == 0.5  # retried after a 503 and then answered
    assert np.isnan(stats[5:9]).all()
    errors = metric.last_errors
    assert "HTTP 500" in errors[5] and "after 2 attempts" in errors[5]
    assert "timed out" in errors[6]
    assert errors[7].startswith("unparseable judge output") and "cannot compare" in errors[7]
    assert errors[8] == "empty reference report"
    assert sorted(errors) == [5, 6, 7, 8]


def test_engine_reports_failures_by_case_and_caches_scores(judge_url: str, tmp_path: Path) -> None:
    refs = {f"case{i}": c["reference"] for i, c in enumerate(CASES)} | {"bad": "Normal study."}
    hyps = {f"case{i}": c["hypothesis"] for i, c in enumerate(CASES)} | {"bad": "TRIGGER-500"}
    options = {"green": {"judge": judge_url, "model": "canned-judge", "retries": 0, "store": False}}
    cache = StatisticsCache(tmp_path / "cache.sqlite")
    result = score(refs, hyps, metrics=["green"], metric_options=options, cache=cache)
    assert result.as_dict()["green"] == pytest.approx(0.25)
    assert [(f.case_id, f.reason.split(":")[0]) for f in result.failures] == [("bad", "judge gave no answer")]
    calls = len(CannedJudge.calls)
    again = score(refs, hyps, metrics=["green"], metric_options=options, cache=cache)
    assert again.as_dict()["green"] == pytest.approx(0.25)
    assert len(CannedJudge.calls) == calls + 1  # only the failed case is asked again


def test_cli_score_with_a_judge_endpoint(judge_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refs, hyps = _refs_hyps()
    (tmp_path / "refs.jsonl").write_text("".join(json.dumps({"id": f"c{i}", "text": t}) + "\n"
                                                 for i, t in enumerate(refs)), encoding="utf-8")
    (tmp_path / "hyps.jsonl").write_text("".join(json.dumps({"id": f"c{i}", "text": t}) + "\n"
                                                 for i, t in enumerate(hyps)), encoding="utf-8")
    config = tmp_path / "metrics.yaml"
    config.write_text(f"green:\n  judge: {judge_url}\n  model: canned-judge\n", encoding="utf-8")
    code = main(["score", "--refs", str(tmp_path / "refs.jsonl"), "--hyps", str(tmp_path / "hyps.jsonl"),
                 "--metrics", "green", "--metric-config", str(config), "--metric-option", "green.retries=0",
                 "--no-cache", "--json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {"green": pytest.approx(0.25)}


def test_labels_and_signatures() -> None:
    default = get_metric("green")
    assert default.label == "GREEN"
    assert default.signature.startswith("green|label:GREEN|judge:StanfordAIMI/GREEN-radllama2-7b|backend:hf|")
    assert "prompt:green-d72c195|words:300|parser:upstream|md:keep" in default.signature
    style = Green(judge="http://127.0.0.1:9/v1", model="llama3-70b")
    assert style.label == "GREEN-style (judge = llama3-70b)"
    assert "label:GREEN-style" in style.signature and "md:strip" in style.signature
    assert Green(judge="http://127.0.0.1:9/v1", model="x", parser="radeval").signature != style.signature


def test_bad_options_are_rejected() -> None:
    with pytest.raises(InputError, match="parser"):
        Green(parser="lenient")
    with pytest.raises(TypeError, match="do not apply to a local judge"):
        get_metric("green", timeout=3)
    with pytest.raises(TypeError, match="do not apply to an endpoint judge"):
        Green(judge="http://127.0.0.1:9/v1", batch_size=4)
    with pytest.raises(InputError, match="not an http"):
        Green(judge="http://")


def test_missing_default_judge_fails_fast_with_fetch_command() -> None:
    from radeval.errors import MissingWeightsError

    start = time.perf_counter()
    with pytest.raises(MissingWeightsError, match=r"StanfordAIMI/GREEN-radllama2-7b.*radeval fetch green"):
        get_metric("green", store=False).statistics(["a"], ["b"])
    assert time.perf_counter() - start < 5.0


def test_whitespace_variants_are_read_as_upstream_reads_them() -> None:
    crlf = ("[Clinically Significant Errors]:   \r\n(a) False report of a finding in the candidate: 1. x\r\n\r\n"
            "[Matched Findings]:\r\n   3. a; b; c\r\n")
    got = parse_green_output(crlf)
    assert (got.score, got.significant[0], got.matched) == (0.75, 1, 3)
    double_space = ("[Clinically Significant Errors]:\n(a)  False report:  2. x\n\n[Matched Findings]:\n2. a; b\n")
    got = parse_green_output(double_space)
    assert got.score == 1.0  # the count after ":  " is lost, as upstream loses it ...
    assert any("error count not read" in p for p in got.problems)  # ... and the loss is reported


# -- regressions -----------------------------------------------------------------------------------
def test_bold_header_with_colon_outside_the_stars_is_unwrapped() -> None:
    text = ("**[Clinically Significant Errors]**:\n(b) Missing a finding present in the reference: 1. Nodule.\n\n"
            "**[Matched Findings]**:\n3. a; b; c.\n")
    got = parse_green_output(text, strip_markdown=True)
    assert (got.score, got.matched, got.significant[1], got.problems) == (0.75, 3, 1, ())


@pytest.mark.parametrize("count", ["one", "-1", "Two"])
def test_counts_written_as_words_or_negative_are_reported(count: str) -> None:
    text = (f"[Clinically Significant Errors]:\n(b) Missing a finding present in the reference: {count}. Nodule.\n\n"
            f"[Matched Findings]:\n{count}. a; b; c.\n")
    got = parse_green_output(text)
    assert got.ok and got.score == 0 and got.matched == 0  # upstream reads nothing here ...
    assert any("error count not read" in p for p in got.problems)  # ... and the losses are reported
    assert any("matched-findings count not read" in p for p in got.problems)


def test_missing_significant_section_is_reported() -> None:
    got = parse_green_output("[Matched Findings]:\n3. a; b; c.\n")
    assert got.score == 1.0
    assert any("no [Clinically Significant Errors] section" in p for p in got.problems)


def test_truncated_http_body_fails_only_its_sample() -> None:
    import socket

    good = next(c for c in CASES)["output"]

    class Truncating(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            body = json.dumps({"data": [{"id": "m"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            prompt = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["prompt"]
            body = json.dumps({"choices": [{"text": good}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if "TRUNCATE-ME" in prompt:
                self.wfile.write(body[:20])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Truncating)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        g = Green(judge=f"http://127.0.0.1:{server.server_address[1]}/v1", model="m", store=False, retries=1,
                  backoff=0.01, progress=False)
        values = g.sample_values(["Ref one.", "Ref two."], ["Hyp one.", "TRUNCATE-ME"])
    finally:
        server.shutdown()
        server.server_close()
    assert np.isfinite(values[0]) and np.isnan(values[1])
    assert list(g.last_errors) == [1] and "IncompleteRead" in g.last_errors[1]
