"""The suite's ``embed`` section: how volumes become embeddings and label logits for registry-model systems.

:func:`radeval.bench.pipeline.ensure_embeddings` reads these settings (the embedding stage of a run).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from radeval.schema import Context, FilePath, Flag, Integer, Problems, Text, key, parse_section


#: The extra pretraining phantoms (``embed.pretrain_extra_phantoms``) are drawn with the dataset's seed + this, a
#: seed no phantom dataset of a suite with a seed below it shares.
PRETRAIN_EXTRA_SEED_OFFSET = 1_000_003


@dataclass(frozen=True)
class EmbedSpec:
    """The ``embed`` section.

    Attributes:
        encoder: the CT-ViT configuration (``small`` for the offline demo, ``ctclip`` for the released one).
        checkpoint: CT-CLIP weights (``None``: the seeded random encoder).
        label_head_epochs: epochs of the 18/21-label head trained on the training split's embeddings.
        batch_size: volumes per encoder forward pass.
        label_head: released classifier-head weights (CT-CLIP's ``CT_LiPro_v2.pt``, a file), or the ``classifier/``
            folder of ``radeval classifier`` (fine-tuned last layer + classification layer; the INSPECT priors), used
            for the priors instead of a head fitted here (``None``: fit the head on the training split).
        slab_tokens: also store the CT-CLIP slab tokens (``radeval embed --slab-tokens``), which slab-token
            generators (``ct2rep``) read; suite validation refuses such a system while this is off.
        pretrain_epochs: epochs of the short label-supervised pretraining of an encoder without checkpoint on the
            training split's volumes, before embedding (0: the seeded random encoder). A demo-only reconstruction,
            not CT-CLIP's training; see :mod:`radeval_models.ctclip.pretrain`. Cached in ``$RADEVAL_HOME``.
        pretrain_extra_phantoms: of a ``phantom`` dataset with ``pretrain_epochs > 0``: the pretraining also sees
            this many freshly drawn phantom volumes (every split of a phantom dataset with the suite dataset's own
            options and a disjoint seed, :data:`PRETRAIN_EXTRA_SEED_OFFSET` + the dataset's seed), never the
            evaluation split; they are used by the pretraining only (0: none). A demo-only reconstruction.
    """

    encoder: str = key("small", Text())
    checkpoint: Path | None = key(None, FilePath("file"))
    label_head_epochs: int = key(300, Integer(low=0))
    batch_size: int = key(4, Integer(low=1))
    label_head: Path | None = key(None, FilePath("any"))
    slab_tokens: bool = key(False, Flag())
    pretrain_epochs: int = key(0, Integer(low=0))
    pretrain_extra_phantoms: int = key(0, Integer(low=0))

    def cache_settings(self) -> dict[str, Any]:
        """The settings that key the cached embeddings of a suite (``slab_tokens`` only when on,
        ``pretrain_epochs`` and ``pretrain_extra_phantoms`` only when > 0, so suites without them keep the key, and
        the cached embeddings, they had before the options existed).

        Example:
            >>> "slab_tokens" in EmbedSpec().cache_settings(), EmbedSpec(slab_tokens=True).cache_settings()["slab_tokens"]
            (False, True)
        """
        settings = asdict(self)
        if not self.slab_tokens:
            settings.pop("slab_tokens")
        if not self.pretrain_epochs:
            settings.pop("pretrain_epochs")
        if not self.pretrain_extra_phantoms:
            settings.pop("pretrain_extra_phantoms")
        return settings

    @classmethod
    def from_section(cls, raw: Any, problems: Problems, context: Context, where: str = "embed") -> EmbedSpec:
        """Parse the ``embed`` section (every problem goes to ``problems``).

        Example:
            >>> EmbedSpec.from_section({"batch_size": 2}, Problems("s"), Context(Path("."))).batch_size
            2
        """
        return cls(**parse_section(cls, raw, problems, where, context))
