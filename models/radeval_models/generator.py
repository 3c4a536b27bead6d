"""The base class of the bundled report generators: config, input checks, parameter counts, save/load.

A generator is an ``nn.Module`` holding a language model (``self.lm``), its tokenizer and whatever maps an image
embedding into the LLM. Subclasses define:

* ``config_class`` — a dataclass of settings (always with ``llm``, ``embedding_dim``, ``n_logits``);
* ``use_logits`` / ``train_llm`` — whether diagnostic logits join the input and whether the LLM is trained;
* :meth:`build` — the modules, from a config and an LLM module (real weights or the meta device);
* :meth:`collate` — tokenised training tensors for a micro-batch;
* :meth:`forward` — ``{"loss_sum", "n_tokens"}`` over the report tokens (the training loop normalises);
* :meth:`decode` — token ids for a batch of conditioning vectors under
  :class:`~radeval_models.beam_search.DecodeSettings`.

Decoding settings default to the config's fields of the same names (``num_beams``, ``repetition_penalty``, ...) when
the config has them (R2GenGPT's published beam search), else to greedy decoding; ``generate(batch, decoding=...)``
overrides them per call (:meth:`GeneratorModel.decode_settings`).

Every subclass is a :class:`radeval.registry.TrainableGenerator` with ``training = "loop"``: ``radeval_models.train`` trains
it with the shared gradient loop.

Frozen LLMs stay in ``eval()`` even while the generator trains, have ``requires_grad=False`` and are not saved: the
checkpoint records their spec and a fingerprint of their embedding matrix, checked on load.
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from radeval_models.beam_search import DecodeSettings
from radeval_models.checkpoint import load_checkpoint_tensors, read_checkpoint_config, save_checkpoint
from radeval_models.llm import hidden_size, llm_from_config, load_llm, load_llm_config, prepare_tokenizer
from radeval.errors import InputError
from radeval.registry import GenerationBatch

LLM_SUBDIR = "llm"


@dataclass(frozen=True)
class ParameterCounts:
    """Trainable and total parameter counts of a generator (tied weights counted once)."""

    trainable: int
    total: int

    def as_dict(self) -> dict[str, int]:
        """``{"trainable": int, "total": int}``."""
        return {"trainable": self.trainable, "total": self.total}


def count_parameters(module: nn.Module) -> ParameterCounts:
    """Count a module's parameters; works on the meta device (no memory is touched)."""
    params = list(module.parameters())  # deduplicates tied parameters
    return ParameterCounts(sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params))


def embedding_fingerprint(lm: nn.Module) -> str:
    """A short hash of the LLM's input-embedding matrix (first 64 rows), to tell one set of frozen weights from another."""
    weight = lm.get_input_embeddings().weight
    if weight.device.type == "meta":
        return ""
    rows = weight[:64].detach().to("cpu", torch.float32).contiguous().numpy()
    return hashlib.sha256(rows.tobytes()).hexdigest()[:16]


def config_from_mapping(config_class: type, values: Mapping[str, Any], *, source: str) -> Any:
    """Build a config dataclass from a mapping, naming unknown keys."""
    names = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise InputError(f"{source}: unknown setting(s) {unknown} for {config_class.__name__}; "
                         f"known: {sorted(names)}")
    return config_class(**dict(values))


def prior_width(model_cls: type, config: Mapping[str, Any]) -> int | None:
    """How many diagnostic priors a generator class with this config takes (``None``: it takes none).

    Example:
        >>> from radeval_models.rad3d_prefix import Rad3dPrefixV2, Rad3dPrefixV3
        >>> prior_width(Rad3dPrefixV3, {}), prior_width(Rad3dPrefixV3, {"n_logits": 21}), prior_width(Rad3dPrefixV2, {})
        (18, 21, None)
    """
    if not getattr(model_cls, "use_logits", False):
        return None
    if "n_logits" in config:
        return int(config["n_logits"])
    defaults = {f.name: f.default for f in dataclasses.fields(model_cls.config_class)}
    return int(defaults["n_logits"])


def prior_settings(model_cls: type, config: Mapping[str, Any]) -> dict[str, Any] | None:
    """``{"width": n, "mode": "probability"|"logit"}`` of a prior-conditioned generator (``None`` without priors).

    Example:
        >>> from radeval_models.rad3d_prefix import Rad3dPrefixV3
        >>> prior_settings(Rad3dPrefixV3, {"n_logits": 21})
        {'width': 21, 'mode': 'probability'}
    """
    width = prior_width(model_cls, config)
    if width is None:
        return None
    defaults = {f.name: f.default for f in dataclasses.fields(model_cls.config_class)}
    return {"width": width, "mode": str(config.get("prior", defaults.get("prior", "logit")))}


def check_prior_width(label_set: Sequence[str], model_cls: type, config: Mapping[str, Any]) -> str | None:
    """A problem message when a prior-conditioned generator's width differs from the suite's label set.

    The label head fitted (or loaded) for a suite gives one prior per label of its label set, so a V-3 /
    linear RAD3D-Prefix must take exactly that many (``n_logits``). Checked at suite validation, before
    any embedding or training.

    Args:
        label_set: the suite's label names (18 CT-RATE, 21 INSPECT).
        model_cls: the generator class (its ``use_logits`` says whether it takes priors).
        config: the system's ``config`` mapping.

    Returns:
        ``None`` when they agree (or the generator takes no priors), else the problem.

    Example:
        >>> from radeval_models.rad3d_prefix import Rad3dPrefixV3
        >>> from radeval.data.labels import INSPECT_LABELS
        >>> check_prior_width(INSPECT_LABELS, Rad3dPrefixV3, {"n_logits": 21}) is None
        True
        >>> check_prior_width(INSPECT_LABELS, Rad3dPrefixV3, {})
        'takes 18 diagnostic priors (n_logits) but the label set has 21 labels; set config.n_logits: 21'
    """
    width = prior_width(model_cls, config)
    if width is None or width == len(label_set):
        return None
    return (f"takes {width} diagnostic priors (n_logits) but the label set has {len(label_set)} labels; "
            f"set config.n_logits: {len(label_set)}")


class GeneratorModel(nn.Module, metaclass=abc.ABCMeta):
    """Shared machinery of the bundled generators (see the module docstring)."""

    name: ClassVar[str] = ""
    config_class: ClassVar[type] = object
    training: ClassVar[str] = "loop"  # radeval.registry.TrainableGenerator: trained by the shared loop (radeval_models.train)
    use_logits: ClassVar[bool] = False
    use_slab_tokens: ClassVar[bool] = False  # True: the conditioning ends with the flattened (n_slabs, dim) slab tokens
    train_llm: ClassVar[bool] = False
    #: True: training runs in declared phases (:meth:`training_phases`); DDP then allows unused parameters, since a
    #: phase may leave whole modules out of the forward pass.
    curriculum: ClassVar[bool] = False
    #: The model card (markdown) that ``radeval models show NAME`` prints: what the entry is, and a table stating per
    #: component "as published" (with its source) or "reconstructed" (with the reason and the chosen value).
    #: Empty: ``models show`` prints the class docstring instead.
    card: ClassVar[str] = ""

    def __init__(self, config: Any, lm: nn.Module, tokenizer: Any = None) -> None:
        super().__init__()
        self.config = config
        self.lm = lm
        self.tokenizer = prepare_tokenizer(tokenizer) if tokenizer is not None else None
        if not self.train_llm:
            for p in self.lm.parameters():
                p.requires_grad_(False)
            self.lm.eval()
        self.build()

    # ---- to be provided by subclasses ------------------------------------------------------------------------

    @abc.abstractmethod
    def build(self) -> None:
        """Create the trainable modules (called from ``__init__`` once ``self.lm`` is set, and frozen if it is to be)."""

    @abc.abstractmethod
    def collate(self, texts: Sequence[str], conditioning: torch.Tensor) -> dict[str, torch.Tensor]:
        """Tokenise ``texts`` into the tensors :meth:`forward` takes."""

    @abc.abstractmethod
    def decode(self, conditioning: torch.Tensor, settings: DecodeSettings | None = None) -> list[list[int]]:
        """Generate token ids for each row of ``conditioning`` (``settings``: see :meth:`decode_settings`)."""

    # ---- training hooks (defaults: one phase that trains every trainable parameter, no data statistics) ------

    def fit_training_data(self, texts: Sequence[str], conditioning: torch.Tensor) -> None:
        """Fit statistics of the training data kept with the model (called once on a fresh, not a resumed, run).

        Args:
            texts: the report of every training case.
            conditioning: their ``(n, input_dim)`` conditioning tensor.
        """

    def training_phases(self, steps_per_epoch: int) -> tuple[Any, ...]:
        """The curriculum as :class:`radeval_models.train_phases.TrainingPhase` step ranges (``()``: none)."""
        return ()

    def begin_phase(self, phase: Any, *, entering: bool, texts: Sequence[str], conditioning: torch.Tensor) -> None:
        """Called by the loop when the step's phase changes.

        Args:
            phase: the :class:`~radeval_models.train_phases.TrainingPhase` now running.
            entering: ``True`` when the run crosses the phase's first step (one-time work goes here), ``False`` when
                a run resumes inside it (that work is then in the checkpoint).
            texts: the training reports.
            conditioning: their conditioning tensor.
        """

    # ---- shared ---------------------------------------------------------------------------------------------

    @property
    def input_dim(self) -> int:
        """Width of the conditioning vector: embedding dim (+ number of logits for logit-conditioned variants,
        + ``n_slabs * slab_dim`` for slab-token models)."""
        slabs = self.config.n_slabs * self.config.slab_dim if self.use_slab_tokens else 0
        return self.config.embedding_dim + (self.config.n_logits if self.use_logits else 0) + slabs

    def priors(self, logits: np.ndarray) -> np.ndarray:
        """The diagnostic priors fed to the model from the label head's raw logits (default: unchanged)."""
        return logits

    @property
    def hidden_size(self) -> int:
        """The LLM's token-embedding width."""
        return hidden_size(self.lm.config)

    def train(self, mode: bool = True) -> "GeneratorModel":
        """Switch training mode; a frozen LLM stays in ``eval()`` (no dropout in the frozen network)."""
        super().train(mode)
        if not self.train_llm:
            self.lm.eval()
        return self

    def parameter_counts(self) -> ParameterCounts:
        """Trainable and total parameters of the whole generator."""
        return count_parameters(self)

    @classmethod
    def parse_config(cls, values: Any = None, **overrides: Any) -> Any:
        """A config dataclass from a dataclass, a mapping or nothing, with keyword overrides."""
        if isinstance(values, cls.config_class):
            return dataclasses.replace(values, **overrides)
        merged = {**dict(values or {}), **overrides}
        return config_from_mapping(cls.config_class, merged, source=cls.name)

    @classmethod
    def for_meta(cls, config: Any = None, *, llm_config: Any = None, vocab_size: int | None = None
                 ) -> "GeneratorModel":
        """The generator built on the meta device from an HF config (no weights, no tokenizer): for parameter counts.

        Args:
            config: generator settings (dataclass or mapping).
            llm_config: an HF ``PretrainedConfig`` or the path of a ``config.json`` (required: the LLM's shape).
            vocab_size: only for generators with a word vocabulary of their own (e.g. ``ct2rep``); an LLM-based
                generator's vocabulary is its LLM's, so giving it is an error.

        Raises:
            InputError: no ``llm_config``, or a ``vocab_size`` for a generator whose vocabulary is its LLM's.
        """
        if vocab_size is not None:
            raise InputError(f"{cls.name} has no word vocabulary of its own (its tokenizer is the LLM's); "
                             "drop --vocab-size")
        if llm_config is None:
            raise InputError(f"{cls.name} is built around an LLM: give its HF config.json (--llm-config)")
        cfg = cls.parse_config(config)
        hf = llm_config if not isinstance(llm_config, (str, Path)) else load_llm_config(llm_config)
        hf = cls.adapt_llm_config(hf)
        with torch.device("meta"):
            return cls(cfg, llm_from_config(hf, device="meta"))

    @classmethod
    def adapt_llm_config(cls, hf_config: Any) -> Any:
        """Hook to change the LLM config before building (the baseline adds cross-attention)."""
        return hf_config

    @classmethod
    def load_language_model(cls, config: Any) -> tuple[nn.Module, Any]:
        """``(lm, tokenizer)`` for ``config.llm`` with real weights."""
        return load_llm(config.llm)

    @classmethod
    def from_config(cls, config: Any = None, **overrides: Any) -> "GeneratorModel":
        """A new, untrained generator on real LLM weights (``config.llm``); the mapper is randomly initialised."""
        cfg = cls.parse_config(config, **overrides)
        lm, tokenizer = cls.load_language_model(cfg)
        return cls(cfg, lm, tokenizer)

    def conditioning(self, case_ids: Sequence[str], embeddings: Any, logits: Any = None, *,
                     source: str = "batch", slab_tokens: Any = None) -> torch.Tensor:
        """Check a batch's inputs and return the ``(n, input_dim)`` float32 conditioning tensor.

        The tensor is ``[embedding | priors (use_logits) | flattened slab tokens (use_slab_tokens)]`` per row.

        Raises:
            InputError: wrong shape or dimension, missing logits for a logit-conditioned model, missing slab tokens for
                a slab-token model (naming the ``radeval embed`` option), NaN/inf values — naming ``source`` and the
                offending case ids.
        """
        emb = np.asarray(embeddings.detach().cpu() if isinstance(embeddings, torch.Tensor) else embeddings,
                         dtype=np.float32)
        n = len(case_ids)
        if emb.ndim != 2 or emb.shape[0] != n:
            raise InputError(f"{source}: embeddings must be (n_cases, dim) with n_cases = {n}, got {emb.shape}")
        if emb.shape[1] != self.config.embedding_dim:
            raise InputError(f"{source}: embeddings have dimension {emb.shape[1]}, but {self.name} expects "
                             f"{self.config.embedding_dim}-d embeddings")
        _check_finite(emb, case_ids, "embeddings", source)
        parts = [emb]
        if self.use_logits:
            if logits is None:
                raise InputError(f"{source}: {self.name} is conditioned on diagnostic logits, but none were given "
                                 f"(case(s) {list(case_ids[:5])}); run `radeval embed` with the label head")
            lg = np.asarray(logits.detach().cpu() if isinstance(logits, torch.Tensor) else logits, dtype=np.float32)
            if lg.ndim != 2 or lg.shape[0] != n or lg.shape[1] != self.config.n_logits:
                raise InputError(f"{source}: logits must be ({n}, {self.config.n_logits}) for {self.name}, "
                                 f"got {lg.shape}")
            _check_finite(lg, case_ids, "logits", source)
            parts.append(self.priors(lg))
        if self.use_slab_tokens:
            parts.append(self._flat_slab_tokens(case_ids, slab_tokens, source))
        return torch.from_numpy(np.concatenate(parts, axis=1))

    def _flat_slab_tokens(self, case_ids: Sequence[str], slab_tokens: Any, source: str) -> np.ndarray:
        """Checked ``(n, n_slabs * dim)`` slab tokens (``config.n_slabs`` / ``config.slab_dim`` when declared)."""
        n = len(case_ids)
        if slab_tokens is None:
            raise InputError(f"{source}: {self.name} reads CT-CLIP slab tokens, but the embedding file has none; "
                             "re-run `radeval embed --slab-tokens` (suite: `embed: {slab_tokens: true}`)")
        st = np.asarray(slab_tokens.detach().cpu() if isinstance(slab_tokens, torch.Tensor) else slab_tokens,
                        dtype=np.float32)
        want = (getattr(self.config, "n_slabs", None), getattr(self.config, "slab_dim", None))
        if st.ndim != 3 or st.shape[0] != n or any(w is not None and w != got for w, got in zip(want, st.shape[1:])):
            raise InputError(f"{source}: slab tokens must be ({n}, {want[0]}, {want[1]}) for {self.name}, "
                             f"got {st.shape}")
        _check_finite(st.reshape(n, -1), case_ids, "slab tokens", source)
        return st.reshape(n, -1)

    def decode_settings(self, decoding: DecodeSettings | Mapping[str, Any] | None = None) -> DecodeSettings:
        """The effective, resolved decoding settings of a call.

        Args:
            decoding: ``None`` (this generator's defaults: the config's fields named like :class:`DecodeSettings`
                fields, the rest greedy), a mapping of overrides of those defaults (``None`` values ignored), or a
                complete :class:`DecodeSettings`. A missing ``max_new_tokens`` is the config's.

        Returns:
            :class:`DecodeSettings` with ``max_new_tokens`` set.

        Raises:
            InputError: an unknown setting or a bad value, naming it and this generator.

        Example:
            >>> from radeval_models.r2gengpt import R2GenGPT, R2GenGPTConfig
            >>> m = R2GenGPT.__new__(R2GenGPT); m.config = R2GenGPTConfig()
            >>> s = m.decode_settings({"num_beams": 4})
            >>> s.num_beams, s.repetition_penalty, s.length_penalty, s.max_new_tokens
            (4, 2.0, 2.0, 512)
        """
        return type(self).decode_settings_for(self.config, decoding)

    @classmethod
    def decode_settings_for(cls, config: Any, decoding: DecodeSettings | Mapping[str, Any] | None = None
                            ) -> DecodeSettings:
        """:meth:`decode_settings` of a generator with ``config`` (a config dataclass), without building it."""
        defaults = cls.default_decode_settings(config)
        if isinstance(decoding, DecodeSettings):
            return decoding.resolved(defaults.max_new_tokens)
        given = {k: v for k, v in dict(decoding or {}).items() if v is not None}
        return DecodeSettings.from_mapping({**defaults.as_dict(), **given}, source=f"{cls.name} decoding")

    @classmethod
    def default_decode_settings(cls, config: Any) -> DecodeSettings:
        """The decoding defaults of a generator with ``config``: its fields named like :class:`DecodeSettings`
        fields (``max_new_tokens`` must be one), greedy for the rest. A generator with other names overrides this."""
        names = [f.name for f in dataclasses.fields(DecodeSettings)]
        base = {name: getattr(config, name) for name in names if hasattr(config, name)}
        return DecodeSettings.from_mapping(base, source=f"{cls.name} config").resolved(config.max_new_tokens)

    def generate(self, batch: GenerationBatch, *,
                 decoding: DecodeSettings | Mapping[str, Any] | None = None) -> list[str]:
        """One report per case of ``batch`` (``ReportGenerator`` protocol).

        Args:
            batch: the cases.
            decoding: decoding settings or overrides of the defaults (see :meth:`decode_settings`).
        """
        settings = self.decode_settings(decoding)
        if self.tokenizer is None:
            raise InputError(f"{self.name} was built without a tokenizer (meta device); load it with from_pretrained")
        cond = self.conditioning(batch.case_ids, batch.embeddings, batch.logits,
                                 source=str(batch.extra.get("source", "batch")), slab_tokens=batch.slab_tokens)
        if len(batch) == 0:
            return []
        return self.reports_from_conditioning(cond, settings)

    def reports_from_conditioning(self, conditioning: torch.Tensor,
                                  settings: DecodeSettings | Mapping[str, Any] | None = None) -> list[str]:
        """Decoded reports for checked ``(n, input_dim)`` conditioning rows (eval mode, no gradients), decoded
        under ``settings`` (default: the generator's own, see :meth:`decode_settings`).

        The first call on a generator also checks that the conditioning reaches the LLM
        (:meth:`check_visual_input`).
        """
        if not getattr(self, "_visual_input_checked", False):
            self.check_visual_input(conditioning)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                ids = self.decode(conditioning.to(self.device), self.decode_settings(settings))
        finally:
            self.train(was_training)
        return [self.tokenizer.decode(row, skip_special_tokens=True).strip() for row in ids]

    def check_visual_input(self, conditioning: torch.Tensor, *, text: str = "No pleural effusion.") -> None:
        """Fail unless the conditioning (image embedding, priors) changes what the LLM predicts.

        The report loss of ``text`` is computed twice in eval mode, once with ``conditioning`` and once with it
        perturbed (a fixed random shift of every entry); a model whose LLM never sees the image (e.g. an
        ``encoder_hidden_states`` argument an architecture without cross-attention silently drops) gives the same
        loss bit for bit. A design whose image path starts at zero on purpose (e.g. MRG-LLM's identity-initialised
        prompt modulation) gives equal losses too, so equal losses are followed by a second test: the gradients of the
        trainable weights for the two conditionings. If they differ, the image reaches the loss through weights that
        training will move; if they are equal as well, nothing trainable connects the image to the report. Run once
        per generator before its first training step and its first generation.

        Args:
            conditioning: ``(n, input_dim)`` rows (the first two are used).
            text: the report whose loss is compared.

        Raises:
            InputError: the loss does not depend on the conditioning, naming the generator and its LLM.
        """
        rows = conditioning[:2].to(self.device)
        noise = torch.randn(rows.shape, generator=torch.Generator().manual_seed(0)).to(rows.device, rows.dtype)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                losses = []
                for cond in (rows, rows + 1.0 + noise):
                    batch = self.collate([text] * rows.shape[0], cond)
                    batch = {k: v.to(self.device) for k, v in batch.items()}
                    losses.append(self(**batch)["loss_sum"].float())
            if torch.equal(losses[0], losses[1]):
                same = self._equal_trainable_gradients(text, (rows, rows + 1.0 + noise))
            else:
                same = False
        finally:
            self.train(was_training)
        if same:
            raise InputError(f"{self.name} (llm {getattr(self.config, 'llm', '?')!r}): the LLM's output does not "
                             "depend on the visual input (the report loss is the same for a perturbed image "
                             "embedding); the conditioning never reaches the model, so it would generate blind")
        self._visual_input_checked = True

    def _equal_trainable_gradients(self, text: str, conditionings: tuple[torch.Tensor, torch.Tensor]) -> bool:
        """Whether the report loss gives the same gradient of every trainable weight under both conditionings."""
        params = [p for p in self.parameters() if p.requires_grad]
        if not params:
            return True
        grads = []
        with torch.enable_grad():
            for cond in conditionings:
                batch = self.collate([text] * cond.shape[0], cond)
                batch = {k: v.to(self.device) for k, v in batch.items()}
                loss = self(**batch)["loss_sum"].float()
                grads.append([g if g is not None else torch.zeros_like(p)
                              for g, p in zip(torch.autograd.grad(loss, params, allow_unused=True), params)])
        return all(torch.equal(a, b) for a, b in zip(*grads))

    @property
    def device(self) -> torch.device:
        """Device of the LLM's weights."""
        return next(self.lm.parameters()).device

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """The tensors a checkpoint stores: every trainable parameter (tied weights once)."""
        return {name: p for name, p in self.named_parameters() if p.requires_grad}

    def save_pretrained(self, directory: str | Path, *, extra: Mapping[str, Any] | None = None) -> Path:
        """Write ``config.json`` + ``model.safetensors`` (+ ``llm/`` config and tokenizer if the LLM is trained)."""
        out = Path(directory)
        fields = dataclasses.asdict(self.config)
        info = {"llm_fingerprint": "" if self.train_llm else embedding_fingerprint(self.lm), **dict(extra or {})}
        save_checkpoint(out, model_type=self.name, config=fields, tensors=self.trainable_state(), extra=info)
        if self.train_llm:
            self.lm.config.save_pretrained(out / LLM_SUBDIR)
            if self.tokenizer is not None:
                self.tokenizer.save_pretrained(out / LLM_SUBDIR)
        return out

    @classmethod
    def from_pretrained(cls, directory: str | Path, **overrides: Any) -> "GeneratorModel":
        """Load a generator saved by :meth:`save_pretrained`.

        Args:
            directory: the generator directory.
            **overrides: config fields to change (e.g. ``max_new_tokens``, or ``llm`` to point a frozen-LLM model at
                another copy of the same weights).

        Raises:
            InputError: a checkpoint of another model, missing/unexpected tensors, or a frozen LLM whose weights
                differ from the ones the model was trained with — naming the file.
        """
        body = read_checkpoint_config(directory, expected_type=cls.name)
        cfg = cls.parse_config(body["config"], **overrides)
        if cls.train_llm:
            from transformers import AutoConfig, AutoTokenizer

            llm_dir = Path(directory) / LLM_SUBDIR
            hf = AutoConfig.from_pretrained(llm_dir)
            lm = llm_from_config(hf, device="cpu")
            model = cls(cfg, lm, AutoTokenizer.from_pretrained(llm_dir))
        else:
            lm, tokenizer = cls.load_language_model(cfg)
            model = cls(cfg, lm, tokenizer)
            expected = body.get("llm_fingerprint")
            if expected and expected != embedding_fingerprint(lm):
                raise InputError(f"{Path(directory) / 'config.json'}: the frozen LLM {cfg.llm!r} is not the one this "
                                 f"model was trained with (embedding fingerprint differs)")
        model.load_trainable_state(Path(directory), load_checkpoint_tensors(directory))
        return model

    @classmethod
    def from_training_data(cls, config: Any, texts: Sequence[str]) -> "GeneratorModel":
        """A new, untrained generator for a training run on ``texts`` (the training reports).

        The default ignores the texts (:meth:`from_config`); a generator with a data-derived vocabulary
        (``ct2rep``) builds it here. ``radeval_models.train`` calls this for a fresh run.
        """
        return cls.from_config(config)

    def load_trainable_state(self, directory: Path, state: Mapping[str, torch.Tensor]) -> None:
        """Load the saved trainable tensors, checking names and shapes.

        Raises:
            InputError: missing/unexpected tensors or a shape mismatch, naming ``directory/model.safetensors``.
        """
        weights = directory / "model.safetensors"
        own = self.trainable_state()
        missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        if missing or unexpected:
            raise InputError(f"{weights}: tensors do not match {self.name} (missing {missing[:5]}, "
                             f"unexpected {unexpected[:5]})")
        for name, param in own.items():
            if tuple(state[name].shape) != tuple(param.shape):
                raise InputError(f"{weights}: tensor {name!r} has shape {tuple(state[name].shape)}, expected "
                                 f"{tuple(param.shape)}")
        self.load_state_dict(dict(state), strict=False)


def _check_finite(values: np.ndarray, case_ids: Sequence[str], what: str, source: str) -> None:
    bad = np.where(~np.isfinite(values).all(axis=1))[0]
    if bad.size:
        raise InputError(f"{source}: non-finite {what} (NaN/inf) for case(s) {[case_ids[i] for i in bad[:10]]}")

