"""The suite's ``findings_lm`` section: the offline demo's stand-in report LLM, and the systems that use it.

A system whose config says ``llm: findings-lm`` is built on the stand-in of :mod:`radeval_models.findings_lm` (a
demo-only reconstruction, see there): a small LLaMA pretrained on ``Findings: <labels>.`` + report texts of fresh
phantoms. The section sets its size and training; the corpus is drawn like the suite's phantom dataset (same
report options) with the dataset's seed + :data:`CORPUS_SEED_OFFSET`, so no evaluated report is in it. Built once
(cached in ``$RADEVAL_HOME/llm``) before the systems train; each using system then gets the built spec
(``findings-lm-<key>``), which is part of its training cache key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from radeval.schema import Context, Integer, Number, Problems, key, parse_section

if TYPE_CHECKING:  # suite.py imports this module
    from radeval.bench.manifest import Manifest
    from radeval.bench.suite import Suite
    from radeval.bench.system_spec import SystemSpec

#: What a system's ``config.llm`` says to use the stand-in.
FINDINGS_LM = "findings-lm"

#: The stand-in's corpus is drawn with the dataset's seed + this (the encoder's extra phantoms use 1_000_003).
CORPUS_SEED_OFFSET = 2_000_003


@dataclass(frozen=True)
class FindingsLMSpec:
    """The ``findings_lm`` section: fields of :class:`radeval_models.findings_lm.FindingsLMConfig`; a key left out
    (``None``) takes that class's default."""

    reports: int | None = key(None, Integer(low=2))
    hidden_size: int | None = key(None, Integer(low=8))
    num_layers: int | None = key(None, Integer(low=1))
    num_heads: int | None = key(None, Integer(low=1))
    vocab_size: int | None = key(None, Integer(low=300))
    steps: int | None = key(None, Integer(low=1))
    batch_size: int | None = key(None, Integer(low=1))
    lr: float | None = key(None, Number(low=0.0))
    seed: int | None = key(None, Integer(low=0))

    @classmethod
    def from_section(cls, raw: Any, problems: Problems, context: Context,
                     where: str = "findings_lm") -> FindingsLMSpec:
        """Parse the section (every problem goes to ``problems``).

        Example:
            >>> FindingsLMSpec.from_section({"steps": 10}, Problems("s"), Context(Path("."))).steps
            10
        """
        return cls(**parse_section(cls, raw, problems, where, context))

    def settings(self, *, dataset_seed: int, report_options: dict[str, Any]) -> dict[str, Any]:
        """Keyword arguments of ``FindingsLMConfig`` for a dataset drawn with ``dataset_seed``.

        Example:
            >>> FindingsLMSpec().settings(dataset_seed=0, report_options={"negation_rate": 0.1})["corpus_seed"]
            2000003
        """
        given = {name: value for name, value in asdict(self).items() if value is not None}
        return {**given, "corpus_seed": dataset_seed + CORPUS_SEED_OFFSET,
                "corpus_options": dict(report_options)}


def uses_findings_lm(config: dict[str, Any] | None) -> bool:
    """Whether a system config asks for the stand-in (``llm: findings-lm``)."""
    return bool(config) and config.get("llm") == FINDINGS_LM


def ensure_findings_lm(suite: Suite, manifest: Manifest, *, quiet: bool = False) -> str | None:
    """Build (or find cached) the stand-in if a system of ``suite`` uses it; its LLM spec, else ``None``.

    Records the build (spec, settings, corpus seed, size, loss) under ``findings_lm`` in the run manifest.
    """
    if not any(uses_findings_lm(s.config) for s in suite.systems if s.kind == "train"):
        return None
    from radeval_models.findings_lm import (FindingsLMConfig, build_findings_lm, findings_lm_meta, findings_lm_spec,
                                            is_built)

    from radeval.bench.dataset import phantom_options
    from radeval.data.phantom_corpus import REPORT_OPTIONS

    spec_section = suite.findings_lm or FindingsLMSpec()
    options = {k: v for k, v in phantom_options(suite.dataset).items() if k in REPORT_OPTIONS}
    config = FindingsLMConfig(**spec_section.settings(dataset_seed=suite.dataset.seed, report_options=options))
    manifest.cached["findings_lm"] = is_built(findings_lm_spec(config))
    with manifest.stage("findings_lm"):
        spec = build_findings_lm(config, progress=not quiet)
    meta = findings_lm_meta(spec)
    manifest.extra["findings_lm"] = {k: meta[k] for k in ("spec", "config", "n_texts", "parameters",
                                                            "loss_first", "loss_last20_mean", "provenance")}
    return spec


def with_llm(system: SystemSpec, spec: str | None) -> SystemSpec:
    """``system`` with ``llm: findings-lm`` replaced by the built ``spec`` (unchanged otherwise)."""
    if spec is None or not uses_findings_lm(system.config):
        return system
    return dataclasses.replace(system, config={**system.config, "llm": spec})


__all__ = ["CORPUS_SEED_OFFSET", "FINDINGS_LM", "FindingsLMSpec", "ensure_findings_lm", "uses_findings_lm",
           "with_llm"]
