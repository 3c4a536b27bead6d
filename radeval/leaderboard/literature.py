"""Published numbers of CT report generators, shown in leaderboards as "reported in the literature".

These are copied from the papers' tables as summarised in our model notes; they were NOT reproduced by
radeval and their metric implementations and text normalisation are unknown, so they are never mixed
into the measured table. Systems whose numbers are not in our sources are listed with that statement
rather than with invented values.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PublishedResult:
    """One system's published numbers on one dataset."""

    system: str
    source: str
    scores: dict[str, float] = field(default_factory=dict)
    note: str = ""


#: Column order of the literature table (the papers' metric names).
LITERATURE_METRICS: tuple[str, ...] = ("Avg-BLEU", "METEOR", "ROUGE-L", "BERTScore", "GREEN", "Label macro-F1")

LITERATURE: dict[str, tuple[PublishedResult, ...]] = {
    "ct-rate": (
        PublishedResult("RAD3D-Prefix (V-3, LLaMA-3.2-1B)", "Sharma et al., arXiv 2606.17213",
                        {"Avg-BLEU": 0.3637, "METEOR": 0.4694, "ROUGE-L": 0.4190, "BERTScore": 0.8883,
                         "GREEN": 0.5488}),
        PublishedResult("R2GenGPT (LLaMA-3.2-1B)", "as reported by Sharma et al., arXiv 2606.17213",
                        {"Avg-BLEU": 0.2902, "METEOR": 0.3762, "ROUGE-L": 0.3468, "BERTScore": 0.8751,
                         "GREEN": 0.4120}),
        PublishedResult("R2GenGPT (7B)", "as reported by Sharma et al., arXiv 2606.17213",
                        {"Avg-BLEU": 0.3523, "METEOR": 0.4509, "ROUGE-L": 0.4038, "BERTScore": 0.8886,
                         "GREEN": 0.5041}),
        PublishedResult("CT2Rep", "as reported by Sharma et al., arXiv 2606.17213", {"GREEN": 0.5247},
                        "only GREEN is available in our sources"),
        PublishedResult("Ker-VLJEPA-3B", "arXiv 2603.23308", {"Label macro-F1": 0.429},
                        "2,984 validation volumes, RadBERT labeller; the 0.448 figure tunes thresholds on the "
                        "evaluation set"),
        PublishedResult("E3D-GPT", "—", {}, "numbers not available in our sources; add them from the paper"),
        PublishedResult("CT-AGRG", "—", {}, "numbers not available in our sources; add them from the paper"),
    ),
    "inspect": (
        PublishedResult("RAD3D-Prefix / R2GenGPT / CT2Rep / E3D-GPT / CT-AGRG", "—", {},
                        "INSPECT numbers are not available in our sources; add them from the papers"),
    ),
}


def literature_for(dataset: str) -> tuple[PublishedResult, ...]:
    """Published results for ``ct-rate`` or ``inspect`` (empty for anything else)."""
    return LITERATURE.get(dataset, ())
