"""GREEN judge back-ends behind one interface: a local transformers causal LM, or an OpenAI-compatible
completions endpoint (vLLM, TGI, llama.cpp server ...).

Both take GREEN prompts (the filled template), wrap them in GREEN's chat format, decode greedily and
return, per prompt, the judge's text after the last ``<|assistant|>`` marker — or the reason it
could not answer. One failed prompt never stops the others.

Chat wrap (GREEN's Jinja template with a human turn and an empty assistant turn, rendered as HF does)::

    "<|user|>\\n" + prompt + EOS + "\\n<|assistant|>\\n" + EOS + "\\n<|assistant|>\\n"

Token ids are ``[BOS] + tokens(wrapped)[: max_length - 2] + [EOS]`` (the GREEN tokenizer is loaded with
``add_eos_token=True``), and generation stops at ``max_length`` tokens *including* the left-padded
prompt, as in GREEN.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from radeval.errors import InputError, MissingDependencyError
from radeval.weights import local_weights_tag

DEFAULT_JUDGE = "StanfordAIMI/GREEN-radllama2-7b"

#: Repository names of the released GREEN judges (case-insensitive); any other judge is "GREEN-style".
GREEN_CHECKPOINTS: frozenset[str] = frozenset(name.lower() for name in (
    "GREEN-radllama2-7b", "GREEN-RadLlama2-7b", "GREEN-Mistral-7b", "GREEN-Llama2-7b", "GREEN-Phi2",
    "GREEN-RadPhi2", "GREEN-Phi-3", "GREEN-Gemma-2b-MM",
))

ASSISTANT = "<|assistant|>"


def is_green_checkpoint(model_id: str | None) -> bool:
    """Whether ``model_id`` names a released GREEN judge (``StanfordAIMI/GREEN-...``)."""
    if not model_id:
        return False
    return model_id.rstrip("/").rsplit("/", 1)[-1].lower() in GREEN_CHECKPOINTS


def wrap_chat(prompt: str, *, eos_token: str = "</s>") -> str:
    """GREEN's chat rendering of one prompt (human turn, empty assistant turn, generation prompt)."""
    return f"<|user|>\n{prompt}{eos_token}\n{ASSISTANT}\n{eos_token}\n{ASSISTANT}\n"


def after_last_assistant(text: str) -> str:
    """The text after the last ``<|assistant|>`` marker (all of it when there is none)."""
    return text.split(ASSISTANT)[-1]


@dataclass(frozen=True)
class JudgeReply:
    """One judge answer: ``text`` on success, else ``error`` (why the judge gave no answer)."""

    text: str | None
    error: str | None = None


#: Called as each prompt finishes: ``(prompt index, reply)``.
OnReply = Callable[[int, JudgeReply], None]


class Judge(Protocol):
    """What :class:`radeval.metrics.green.Green` needs from a judge back-end."""

    def identity(self) -> dict[str, str]:
        """Every setting that changes the judge's answers (goes into signatures and store keys)."""

    @property
    def model_id(self) -> str:
        """The judge model's id (decides GREEN vs GREEN-style)."""

    def evaluate(self, prompts: Sequence[str], *, on_reply: OnReply | None = None) -> list[JudgeReply]:
        """One reply per GREEN prompt, in order."""


def _batches(n: int, size: int) -> list[range]:
    return [range(start, min(start + size, n)) for start in range(0, n, size)]


# -- local transformers judge ------------------------------------------------------------------------
class LocalJudge:
    """A transformers causal LM run in this process: batched, left-padded, greedy.

    Args:
        model: hub id (resolved offline via :func:`radeval.weights.resolve`) or local directory.
        checkpoint: the id of the weights in a local ``model`` directory (for labelling and signatures).
        batch_size: prompts per ``generate`` call (GREEN: 8).
        dtype: ``"auto"`` (float16 on GPU as GREEN does, float32 on CPU), ``"float16"``, ``"bfloat16"``
            or ``"float32"``. Precision changes answers, so it is part of the identity.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...; default CUDA if available.
        max_length: prompt plus answer, in tokens (GREEN: 2048).
        trust_remote_code: passed to ``from_pretrained`` (off unless you trust the checkpoint).
        progress: show a progress bar (None: only on a terminal).
    """

    def __init__(self, model: str = DEFAULT_JUDGE, *, checkpoint: str | None = None, batch_size: int = 8,
                 dtype: str = "auto", device: str | None = None, max_length: int = 2048,
                 trust_remote_code: bool = False, progress: bool | None = None) -> None:
        if int(batch_size) < 1:
            raise InputError(f"green: batch_size must be >= 1, got {batch_size}")
        if dtype not in ("auto", "float16", "bfloat16", "float32"):
            raise InputError(f"green: dtype must be auto, float16, bfloat16 or float32, got {dtype!r}")
        self.model = str(model)
        self.checkpoint = checkpoint
        self.batch_size = int(batch_size)
        self.device = device
        self.max_length = int(max_length)
        self.trust_remote_code = bool(trust_remote_code)
        self.progress = progress
        self.dtype = self._resolve_dtype(dtype)
        self._lm: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _resolve_dtype(self, dtype: str) -> str:
        if dtype != "auto":
            return dtype
        if self.device is not None:
            return "float16" if self.device.startswith("cuda") else "float32"
        try:
            import torch
        except ImportError:
            return "float32"
        return "float16" if torch.cuda.is_available() else "float32"

    @property
    def model_id(self) -> str:
        if self.checkpoint:
            return self.checkpoint
        path = Path(self.model).expanduser()
        return local_weights_tag(path) if path.exists() else self.model

    def identity(self) -> dict[str, str]:
        return {"judge": self.model_id, "backend": "hf", "dtype": self.dtype, "maxlen": str(self.max_length),
                "decode": "greedy"}

    def load(self) -> tuple[Any, Any]:
        """Tokenizer and model, loaded on first use (weights resolved offline; fails fast if missing)."""
        with self._lock:
            if self._lm is None:
                try:
                    import torch
                    from transformers import AutoModelForCausalLM, AutoTokenizer
                except ImportError as exc:
                    raise MissingDependencyError(
                        f"green's local judge needs torch and transformers; run `pip install radeval-ct[metrics]` "
                        f"({exc})") from None
                from radeval.weights import resolve

                local = resolve(self.model, metric="green")
                tokenizer = AutoTokenizer.from_pretrained(str(local), use_fast=True, padding_side="left",
                                                          trust_remote_code=self.trust_remote_code)
                if tokenizer.eos_token_id is None:
                    raise InputError(f"green: the judge tokenizer at {local} has no EOS token")
                tokenizer.pad_token = tokenizer.eos_token
                device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
                lm = AutoModelForCausalLM.from_pretrained(str(local), dtype=getattr(torch, self.dtype),
                                                          trust_remote_code=self.trust_remote_code)
                lm.to(device)
                lm.eval()
                self._tokenizer, self._lm = tokenizer, lm
            return self._tokenizer, self._lm

    def encode(self, prompt: str) -> list[int]:
        """Token ids of one wrapped prompt: BOS, the wrapped text (cut on the right), EOS."""
        tokenizer, _ = self.load()
        return encode_wrapped(tokenizer, prompt, max_length=self.max_length)

    def evaluate(self, prompts: Sequence[str], *, on_reply: OnReply | None = None) -> list[JudgeReply]:
        import torch
        from tqdm.auto import tqdm

        tokenizer, lm = self.load()
        replies: list[JudgeReply | None] = [None] * len(prompts)

        def done(i: int, reply: JudgeReply) -> None:
            replies[i] = reply
            if on_reply is not None:
                on_reply(i, reply)

        encoded: dict[int, list[int]] = {}
        for i, prompt in enumerate(prompts):
            ids = encode_wrapped(tokenizer, prompt, max_length=self.max_length)
            if len(ids) >= self.max_length:
                done(i, JudgeReply(None, f"prompt fills the judge's {self.max_length}-token window; "
                                         f"no room for an answer"))
            else:
                encoded[i] = ids
        order = list(encoded)
        bar = tqdm(total=len(order), desc="GREEN judge", unit="report",
                   disable=None if self.progress is None else not self.progress)
        for rows in _batches(len(order), self.batch_size):
            idx = [order[r] for r in rows]
            replies_here: list[JudgeReply]
            try:
                replies_here = [JudgeReply(t) for t in self._generate(tokenizer, lm, [encoded[i] for i in idx], torch)]
            except Exception as batch_exc:  # isolate: one by one, so one bad prompt loses only itself
                if len(idx) == 1:
                    replies_here = [JudgeReply(None, f"generation failed: {type(batch_exc).__name__}: {batch_exc}")]
                else:
                    replies_here = [self._generate_one(tokenizer, lm, encoded[i], torch) for i in idx]
            for i, reply in zip(idx, replies_here):
                done(i, reply)
            bar.update(len(idx))
        bar.close()
        return [r if r is not None else JudgeReply(None, "no reply") for r in replies]

    def _generate_one(self, tokenizer: Any, lm: Any, ids: list[int], torch: Any) -> JudgeReply:
        try:
            return JudgeReply(self._generate(tokenizer, lm, [ids], torch)[0])
        except Exception as exc:  # recorded for this prompt; the others go on
            return JudgeReply(None, f"generation failed: {type(exc).__name__}: {exc}")

    def _generate(self, tokenizer: Any, lm: Any, batch: list[list[int]], torch: Any) -> list[str]:
        pad = tokenizer.pad_token_id
        rows, masks = left_pad(batch, pad)
        input_ids = torch.tensor(rows, dtype=torch.long)
        mask = torch.tensor(masks, dtype=torch.long)
        device = next(lm.parameters()).device
        with torch.inference_mode():
            out = lm.generate(input_ids=input_ids.to(device), attention_mask=mask.to(device),
                              eos_token_id=tokenizer.eos_token_id, pad_token_id=pad, do_sample=False,
                              max_length=self.max_length, temperature=None, top_p=None, top_k=None)
        decoded = tokenizer.batch_decode(out, skip_special_tokens=True)
        return [after_last_assistant(text) for text in decoded]


def left_pad(batch: Sequence[Sequence[int]], pad_id: int) -> tuple[list[list[int]], list[list[int]]]:
    """Left-pad token id lists to one width; returns ``(ids, attention_mask)``.

    Example:
        >>> left_pad([[5, 6, 7], [8]], 0)
        ([[5, 6, 7], [0, 0, 8]], [[1, 1, 1], [0, 0, 1]])
    """
    width = max(len(ids) for ids in batch)
    ids = [[pad_id] * (width - len(row)) + list(row) for row in batch]
    mask = [[0] * (width - len(row)) + [1] * len(row) for row in batch]
    return ids, mask


def encode_wrapped(tokenizer: Any, prompt: str, *, max_length: int) -> list[int]:
    """``[BOS] + tokens(wrap_chat(prompt))[: max_length - specials] + [EOS]`` for ``tokenizer``."""
    wrapped = wrap_chat(prompt, eos_token=tokenizer.eos_token)
    body = tokenizer(wrapped, add_special_tokens=False)["input_ids"]
    head = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    tail = [tokenizer.eos_token_id]
    room = max_length - len(head) - len(tail)
    return head + body[:room] + tail


# -- OpenAI-compatible completions endpoint ----------------------------------------------------------
class EndpointError(Exception):
    """One request to the judge endpoint failed; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class OpenAICompletionsJudge:
    """A judge served behind ``POST <base>/completions`` (OpenAI protocol), queried concurrently.

    Args:
        url: the API base, e.g. ``http://127.0.0.1:8000/v1`` (``/v1`` is added when the URL has no path).
        model: the served model name; default: the first id from ``GET <base>/models``.
        tokenizer: the judge's tokenizer (local folder or hub id, resolved offline). When given, prompts
            are sent as token ids with GREEN's BOS/EOS, and ``max_tokens`` = ``max_length`` - prompt
            tokens, exactly as the local judge. Without it the wrapped text is sent (the server adds its
            own BOS) with ``max_new_tokens`` as the answer budget.
        eos_token: EOS string used in the chat wrap when no tokenizer is given.
        max_length: prompt plus answer, in tokens (GREEN: 2048), when sending token ids.
        max_new_tokens: answer budget when sending text (default 1024).
        concurrency: requests in flight at once.
        timeout: seconds per request.
        retries: extra attempts after a timeout, connection error, HTTP 429 or 5xx.
        backoff: first wait between attempts, in seconds (doubles each time).
        api_key: sent as ``Authorization: Bearer``; default ``$OPENAI_API_KEY`` if set.
        checkpoint: the id of the served weights, if the served name is not it (for labelling).
    """

    def __init__(self, url: str, *, model: str | None = None, tokenizer: str | None = None,
                 eos_token: str = "</s>", max_length: int = 2048, max_new_tokens: int | None = None,
                 concurrency: int = 4, timeout: float = 120.0, retries: int = 2, backoff: float = 0.5,
                 api_key: str | None = None, checkpoint: str | None = None, progress: bool | None = None) -> None:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InputError(f"green: judge endpoint {url!r} is not an http(s) URL")
        if int(concurrency) < 1 or float(timeout) <= 0 or int(retries) < 0:
            raise InputError("green: concurrency must be >= 1, timeout > 0 and retries >= 0")
        base = url.rstrip("/")
        if base.endswith("/completions"):
            base = base[: -len("/completions")]
        if not parsed.path.strip("/"):
            base += "/v1"
        self.base = base
        self.served_model = model
        self.tokenizer_name = tokenizer
        self.eos_token = eos_token
        self.max_length = int(max_length)
        self.max_new_tokens = int(max_new_tokens) if max_new_tokens is not None else 1024
        self.concurrency = int(concurrency)
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.checkpoint = checkpoint
        self.progress = progress
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """``checkpoint``, else the served model name (asked from ``GET <base>/models`` when not given).

        Raises:
            InputError: the name is not given and the endpoint cannot tell it.
        """
        if self.checkpoint:
            return self.checkpoint
        try:
            return self._model_name()
        except EndpointError as exc:
            raise InputError(f"green: cannot learn the judge's model name from {self.base}/models ({exc}); "
                             f"pass green.model=<served name>") from None

    def identity(self) -> dict[str, str]:
        out = {"judge": self.model_id, "backend": "openai-completions", "decode": "greedy"}
        if self.tokenizer_name:
            out.update(send="ids", maxlen=str(self.max_length))
        else:
            out.update(send="text", eos=self.eos_token, max_new=str(self.max_new_tokens))
        return out

    # -- HTTP --------------------------------------------------------------------------------
    def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            snippet = exc.read()[:200].decode("utf-8", "replace")
            retryable = exc.code == 429 or exc.code >= 500
            raise EndpointError(f"HTTP {exc.code} from {self.base + path}: {snippet}", retryable=retryable) from None
        except (TimeoutError, urllib.error.URLError, ConnectionError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            kind = "timed out" if isinstance(reason, TimeoutError) or "timed out" in str(reason) else "failed"
            raise EndpointError(f"request to {self.base + path} {kind} ({reason})", retryable=True) from None
        try:
            decoded = json.loads(body)
        except ValueError:
            raise EndpointError(f"{self.base + path} answered with non-JSON: {body[:120]!r}", retryable=False) from None
        if not isinstance(decoded, dict):
            raise EndpointError(f"{self.base + path} answered with a JSON {type(decoded).__name__}", retryable=False)
        return decoded

    def _with_retries(self, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        attempt = 0
        while True:
            try:
                return call()
            except EndpointError as exc:
                if not exc.retryable or attempt >= self.retries:
                    suffix = f" (after {attempt + 1} attempts)" if attempt else ""
                    raise EndpointError(f"{exc}{suffix}", retryable=False) from None
                time.sleep(self.backoff * (2 ** attempt))
                attempt += 1

    def _model_name(self) -> str:
        with self._lock:
            if self.served_model is None:
                listing = self._with_retries(lambda: self._request("GET", "/models"))
                data = listing.get("data") or []
                if not data or not isinstance(data[0], dict) or "id" not in data[0]:
                    raise InputError(f"green: {self.base}/models lists no model; pass green.model=<served name>")
                self.served_model = str(data[0]["id"])
            return self.served_model

    def _tok(self) -> Any:
        with self._lock:
            if self._tokenizer is None and self.tokenizer_name:
                from transformers import AutoTokenizer

                from radeval.weights import resolve

                self._tokenizer = AutoTokenizer.from_pretrained(str(resolve(self.tokenizer_name, metric="green")),
                                                                use_fast=True)
            return self._tokenizer

    def _payload(self, prompt: str, model: str) -> dict[str, Any]:
        tokenizer = self._tok()
        if tokenizer is not None:
            ids = encode_wrapped(tokenizer, prompt, max_length=self.max_length)
            budget = self.max_length - len(ids)
            if budget <= 0:
                raise EndpointError(f"prompt fills the judge's {self.max_length}-token window; no room for an "
                                    f"answer", retryable=False)
            body: Any = ids
        else:
            body, budget = wrap_chat(prompt, eos_token=self.eos_token), self.max_new_tokens
        return {"model": model, "prompt": body, "max_tokens": budget, "temperature": 0.0, "top_p": 1.0,
                "n": 1, "stream": False}

    def _one(self, prompt: str, model: str) -> JudgeReply:
        try:
            payload = self._payload(prompt, model)
            answer = self._with_retries(lambda: self._request("POST", "/completions", payload))
        except EndpointError as exc:
            return JudgeReply(None, str(exc))
        choices = answer.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict) \
                or not isinstance(choices[0].get("text"), str):
            return JudgeReply(None, f"malformed completions response: {json.dumps(answer)[:160]}")
        return JudgeReply(after_last_assistant(choices[0]["text"]))

    def evaluate(self, prompts: Sequence[str], *, on_reply: OnReply | None = None) -> list[JudgeReply]:
        from tqdm.auto import tqdm

        if not prompts:
            return []
        try:
            model = self._model_name()
        except EndpointError as exc:
            failed = JudgeReply(None, f"cannot list the endpoint's models: {exc}")
            for i in range(len(prompts)):
                if on_reply is not None:
                    on_reply(i, failed)
            return [failed] * len(prompts)
        replies: list[JudgeReply | None] = [None] * len(prompts)
        bar = tqdm(total=len(prompts), desc="GREEN judge (endpoint)", unit="report",
                   disable=None if self.progress is None else not self.progress)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = {pool.submit(self._one, prompt, model): i for i, prompt in enumerate(prompts)}
            for future in as_completed(futures):
                i = futures[future]
                replies[i] = future.result()
                if on_reply is not None:
                    on_reply(i, replies[i])
                bar.update(1)
        bar.close()
        return [r if r is not None else JudgeReply(None, "no reply") for r in replies]


def make_judge(judge: str = DEFAULT_JUDGE, **options: Any) -> LocalJudge | OpenAICompletionsJudge:
    """A judge from a spec: an ``http(s)://`` URL is an endpoint, anything else a local/hub model.

    Options not used by the chosen back-end raise ``TypeError`` naming them.
    """
    if str(judge).startswith(("http://", "https://")):
        allowed = {"model", "tokenizer", "eos_token", "max_length", "max_new_tokens", "concurrency", "timeout",
                   "retries", "backoff", "api_key", "checkpoint", "progress"}
        factory: Any = OpenAICompletionsJudge
    else:
        allowed = {"checkpoint", "batch_size", "dtype", "device", "max_length", "trust_remote_code", "progress"}
        factory = LocalJudge
    unknown = sorted(set(options) - allowed)
    if unknown:
        kind = "an endpoint judge" if factory is OpenAICompletionsJudge else "a local judge"
        raise TypeError(f"option(s) {unknown} do not apply to {kind} (allowed: {sorted(allowed)})")
    return factory(str(judge), **options)


__all__ = [
    "DEFAULT_JUDGE", "EndpointError", "GREEN_CHECKPOINTS", "Judge", "JudgeReply", "LocalJudge",
    "OpenAICompletionsJudge", "after_last_assistant", "encode_wrapped", "is_green_checkpoint", "left_pad", "make_judge",
    "wrap_chat",
]
