"""GREEN judge back-ends on real transformers models: the local judge, and an OpenAI-compatible HTTP
server on loopback that answers from a local model.

The judge model is a real ``LlamaForCausalLM`` saved with ``save_pretrained`` and loaded through the
normal path. Its weights are set by hand so that greedy decoding continues a GREEN prompt (which
ends in EOS, as GREEN's tokenizer appends one) with a fixed analysis: attention and MLP outputs are
zeroed, so each next token depends only on the current one, and the output head maps
EOS -> chunk 1 -> chunk 2 -> chunk 3 -> EOS. The analysis chunks are added tokens of a byte-level
BPE tokenizer trained on the prompt template.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from radeval.metrics.green import Green, make_prompt, prompt_template
from radeval.metrics.green_judges import LocalJudge, encode_wrapped, left_pad, wrap_chat
from radeval.metrics.green_parse import clean_judge_output, parse_green_output
from radeval.weights import local_weights_tag

ANALYSIS = ["[Explanation]:\nThe nodule is missed.\n\n",
            "[Clinically Significant Errors]:\n(b) Missing a finding present in the reference: 1. Nodule.\n\n",
            "[Matched Findings]:\n3. Effusion; heart size; emphysema.\n"]
REFUSAL = ["I cannot grade these reports."]
REFS = ["No pleural effusion. Heart size is normal.",
        "There is a 5 mm nodule in the right lower lobe. " * 6,
        "Mild emphysema.",
        "Normal study."]
HYPS = ["Small pleural effusion.", "Large right pleural effusion.", "Emphysema in the upper lobes.", "Normal."]


def build_judge(folder: Path, chain: list[str]) -> Path:
    """Save a tokenizer and a LLaMA whose greedy answer to any GREEN prompt is ``"".join(chain)``."""
    import torch
    from tokenizers import AddedToken, ByteLevelBPETokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator([prompt_template()], vocab_size=300, min_frequency=2,
                            special_tokens=["<unk>", "<s>", "</s>"])
    bpe.add_tokens([AddedToken(t, normalized=False) for t in ["<|user|>", "<|assistant|>", *chain]])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<s>", eos_token="</s>",
                                        unk_token="<unk>")
    vocab = len(tokenizer)
    hidden = (vocab + 7) // 8 * 8
    chunk_ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in chain]
    assert all(len(ids) == 1 for ids in chunk_ids)
    successor = {tokenizer.eos_token_id: chunk_ids[0][0]}
    for (a,), (b,) in zip(chunk_ids, chunk_ids[1:]):
        successor[a] = b
    successor[chunk_ids[-1][0]] = tokenizer.eos_token_id
    config = LlamaConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=8, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=4096,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.eos_token_id, tie_word_embeddings=False)
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        model.model.embed_tokens.weight.zero_()
        model.model.embed_tokens.weight[:, :vocab].copy_(torch.eye(vocab))
        model.lm_head.weight.zero_()
        for a, b in successor.items():
            model.lm_head.weight[b, a] = 1.0
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_judge(tmp_path_factory.mktemp("tiny-green-judge"), ANALYSIS)


@pytest.fixture(scope="module")
def refusing_judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_judge(tmp_path_factory.mktemp("tiny-refusing-judge"), REFUSAL)


class ModelServer(BaseHTTPRequestHandler):
    """OpenAI ``/v1/completions`` served from a local transformers model (greedy decoding)."""

    tokenizer: Any = None
    model: Any = None
    requests: list[dict[str, Any]] = []
    in_flight = 0
    max_in_flight = 0
    delay = 0.0
    lock = threading.Lock()
    model_lock = threading.Lock()

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
        self._send(200, {"object": "list", "data": [{"id": "tiny-judge", "object": "model"}]})

    def do_POST(self) -> None:  # noqa: N802
        import torch

        cls = type(self)
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with cls.lock:
            cls.requests.append(request)
            cls.in_flight += 1
            cls.max_in_flight = max(cls.max_in_flight, cls.in_flight)
        try:
            time.sleep(cls.delay)
            prompt = request["prompt"]
            if isinstance(prompt, str):  # as vLLM does for Llama tokenizers: BOS, then the text
                ids = [cls.tokenizer.bos_token_id] + cls.tokenizer(prompt, add_special_tokens=False)["input_ids"]
            else:
                ids = list(prompt)
            with cls.model_lock, torch.inference_mode():
                out = cls.model.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids),
                                         dtype=torch.long), max_new_tokens=int(request["max_tokens"]),
                                         do_sample=False, eos_token_id=cls.tokenizer.eos_token_id,
                                         pad_token_id=cls.tokenizer.eos_token_id)
            new = out[0, len(ids):]
            text = cls.tokenizer.decode(new, skip_special_tokens=True)
            finish = "stop" if len(new) and int(new[-1]) == cls.tokenizer.eos_token_id else "length"
            self._send(200, {"id": "cmpl-0", "object": "text_completion", "model": request["model"],
                             "choices": [{"index": 0, "text": text, "finish_reason": finish}]})
        finally:
            with cls.lock:
                cls.in_flight -= 1


@pytest.fixture()
def served(judge_dir: Path) -> Iterator[str]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ModelServer.tokenizer = AutoTokenizer.from_pretrained(judge_dir)
    ModelServer.model = AutoModelForCausalLM.from_pretrained(judge_dir).eval()
    ModelServer.requests, ModelServer.in_flight, ModelServer.max_in_flight, ModelServer.delay = [], 0, 0, 0.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), ModelServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


# -- local judge -------------------------------------------------------------------------------------
def test_local_judge_scores_end_to_end(judge_dir: Path) -> None:
    metric = Green(judge=str(judge_dir), batch_size=3, store=False)
    assert metric.label == f"GREEN-style (judge = {local_weights_tag(judge_dir)})"
    assert local_weights_tag(judge_dir).startswith(f"local:{judge_dir.name}#")
    assert "backend:hf|dtype:float32|maxlen:2048|decode:greedy" in metric.signature
    stats = metric.statistics(REFS, HYPS)
    np.testing.assert_array_equal(stats, [[0.75, 1.0]] * 4)
    frame = metric.details(REFS, HYPS)
    assert frame["green_analysis"][0] == "\nThe nodule is missed.\n\n" + "".join(ANALYSIS[1:])
    assert frame["Matched Findings"].tolist() == [3] * 4


def test_batched_equals_one_at_a_time(judge_dir: Path) -> None:
    batched = LocalJudge(str(judge_dir), batch_size=4).evaluate([make_prompt(r, h) for r, h in zip(REFS, HYPS)])
    single = LocalJudge(str(judge_dir), batch_size=1).evaluate([make_prompt(r, h) for r, h in zip(REFS, HYPS)])
    assert [r.text for r in batched] == [r.text for r in single]
    assert all(r.error is None for r in batched)


def test_left_padding() -> None:
    ids, mask = left_pad([[1, 2, 3], [4]], 9)
    assert ids == [[1, 2, 3], [9, 9, 4]] and mask == [[1, 1, 1], [0, 0, 1]]


def test_prompt_tokens_carry_bos_and_eos_and_are_cut_on_the_right(judge_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(judge_dir)
    prompt = make_prompt(REFS[0], HYPS[0])
    ids = encode_wrapped(tokenizer, prompt, max_length=2048)
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids[1:-1]) == wrap_chat(prompt, eos_token="</s>")
    assert wrap_chat("P") == "<|user|>\nP</s>\n<|assistant|>\n</s>\n<|assistant|>\n"
    cut = encode_wrapped(tokenizer, prompt, max_length=50)
    assert len(cut) == 50 and cut[:49] == ids[:49] and cut[-1] == tokenizer.eos_token_id


def test_prompt_longer_than_the_window_is_a_per_sample_error(judge_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(judge_dir)
    short_len = len(encode_wrapped(tokenizer, make_prompt("a", "b"), max_length=10_000))
    long_ref = " ".join(["pleural effusion"] * 150)
    metric = Green(judge=str(judge_dir), max_length=short_len + 40, store=False)
    stats = metric.statistics(["a", long_ref], ["b", "c"])
    assert stats[0, 0] == 0.75
    assert np.isnan(stats[1]).all() and "token window" in metric.last_errors[1]


def test_refusing_judge_is_reported_not_scored_zero(refusing_judge_dir: Path) -> None:
    metric = Green(judge=str(refusing_judge_dir), store=False)
    stats = metric.statistics(REFS[:2], HYPS[:2])
    assert np.isnan(stats).all()
    assert all("cannot grade" in metric.last_errors[i] for i in (0, 1))


# -- OpenAI-compatible endpoint ----------------------------------------------------------------------
def test_endpoint_with_token_ids_reproduces_the_local_judge(judge_dir: Path, served: str) -> None:
    local = Green(judge=str(judge_dir), store=False)
    remote = Green(judge=served, tokenizer=str(judge_dir), store=False, concurrency=2)
    local_out, _ = local.judge_outputs(REFS, HYPS)
    remote_out, errors = remote.judge_outputs(REFS, HYPS)
    assert not errors
    assert [clean_judge_output(t) for t in remote_out] == [clean_judge_output(t) for t in local_out]
    np.testing.assert_array_equal(remote.statistics(REFS, HYPS), local.statistics(REFS, HYPS))
    assert "backend:openai-completions" in remote.signature and "send:ids" in remote.signature
    bos, eos = ModelServer.tokenizer.bos_token_id, ModelServer.tokenizer.eos_token_id
    for request in ModelServer.requests:
        assert request["model"] == "tiny-judge" and request["temperature"] == 0.0
        assert request["prompt"][0] == bos and request["prompt"][-1] == eos
        assert request["max_tokens"] == 2048 - len(request["prompt"])


def test_endpoint_with_text_prompts_lacks_greens_eos(served: str) -> None:
    """Sent as text, the server adds only BOS; this judge then never reaches its analysis."""
    remote = Green(judge=served, model="tiny-judge", max_new_tokens=4, store=False)
    assert "send:text" in remote.signature
    stats = remote.statistics(REFS[:1], HYPS[:1])
    assert np.isnan(stats).all() and remote.last_errors[0].startswith("unparseable judge output")
    assert ModelServer.requests[0]["prompt"] == wrap_chat(make_prompt(REFS[0], HYPS[0]))
    assert ModelServer.requests[0]["max_tokens"] == 4


def test_endpoint_concurrency_is_bounded(judge_dir: Path, served: str) -> None:
    ModelServer.delay = 0.3
    refs = [f"Finding number {i}." for i in range(6)]
    hyps = [f"Candidate {i}." for i in range(6)]
    remote = Green(judge=served, tokenizer=str(judge_dir), store=False, concurrency=2)
    stats = remote.statistics(refs, hyps)
    np.testing.assert_array_equal(stats[:, 0], [0.75] * 6)
    assert ModelServer.max_in_flight == 2
    assert parse_green_output("".join(ANALYSIS)).score == 0.75


def test_unreachable_endpoint_fails_each_sample_quickly() -> None:
    start = time.perf_counter()
    metric = Green(judge="http://127.0.0.1:9/v1", model="x", retries=1, backoff=0.01, timeout=2, store=False)
    stats = metric.statistics(REFS[:2], HYPS[:2])
    assert np.isnan(stats).all()
    assert all("judge gave no answer" in metric.last_errors[i] for i in (0, 1))
    assert time.perf_counter() - start < 10


def test_served_model_name_is_learned_for_the_signature(judge_dir: Path, served: str) -> None:
    remote = Green(judge=served, tokenizer=str(judge_dir), store=False)
    assert "judge:tiny-judge|backend:openai-completions" in remote.signature
    assert remote.label == "GREEN-style (judge = tiny-judge)"


def test_endpoint_without_model_name_that_cannot_be_reached_fails_fast() -> None:
    from radeval.errors import InputError

    metric = Green(judge="http://127.0.0.1:9/v1", retries=0, timeout=2, store=False)
    with pytest.raises(InputError, match="pass green.model"):
        metric.signature
