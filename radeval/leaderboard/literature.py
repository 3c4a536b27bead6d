"""Published numbers of CT report generators, shown in leaderboards as "reported in the literature".

Every number the RAD3D-Prefix paper (Sharma et al., "Revisiting LLM Adaptation for 3D CT Report Generation",
arXiv 2606.17213) reports in its Tables 1, 2, 3, 4, 7 and 8 is here, with its table and dataset, under the paper's
metric names. They were NOT reproduced by radeval; the papers' metric implementations and text normalisation are not
all known, so they are never mixed into the measured table. A cell reads "not available" only where the paper has
no number for that system (on that dataset, in the tables the row cites).

Where the paper's tables disagree about one system, each table keeps its own row: RAD3D-Prefix (V-3, LLaMA-3.2-1B)
on CT-RATE has Avg. ROUGE (1-2) 0.4256 / ROUGE-L 0.4190 / BERTScore-F1 0.8883 in Table 2 but 0.4716 / 0.4256 /
0.8894 in Table 4 (and BERTScore-F1 0.8894 in Table 3); V-1 on LLaMA-3.2-1B differs between Tables 1 and 4. The
text dump lost some table headers; the column of each number was read from the paper's prose (e.g. §4.2 quotes the
Table 1 gains in Avg. BLEU, METEOR, Avg. ROUGE (1-2), ROUGE-L and BERTScore-F1, which fix Table 1's columns; §4.4's
23.22% / 53.36% GREEN gains fix Table 4's GREEN column).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

#: What a cell shows where the paper has no number.
NOT_AVAILABLE = "not available"

#: The RAD3D-Prefix paper, as cited in the source column.
RAD3D_PAPER = "Sharma et al., arXiv 2606.17213"


@dataclass(frozen=True)
class PublishedResult:
    """One system's published numbers on one dataset, from the named table(s).

    Attributes:
        system: the system as the paper names it (method, LLM).
        source: the paper and its table(s), e.g. ``"Sharma et al., arXiv 2606.17213, Tables 2 and 7"``.
        scores: the paper's metric name -> value (0-1 scale, as printed).
        note: caveats (reported from another paper, table disagreements, parameter counts).
        dataset: ``ct-rate`` or ``inspect``.
        tables: the tables the numbers come from.
    """

    system: str
    source: str
    scores: dict[str, float] = field(default_factory=dict)
    note: str = ""
    dataset: str = ""
    tables: tuple[str, ...] = ()

    def display(self, metric: str, fmt: Callable[[float], str] = lambda v: f"{v:.4f}") -> str:
        """The cell of ``metric``: the formatted number, or :data:`NOT_AVAILABLE`.

        Example:
            >>> r = PublishedResult("x", "y", {"GREEN": 0.5})
            >>> r.display("GREEN"), r.display("METEOR")
            ('0.5000', 'not available')
        """
        return fmt(self.scores[metric]) if metric in self.scores else NOT_AVAILABLE


#: Column order of the literature table: the papers' metric names.
LITERATURE_METRICS: tuple[str, ...] = (
    "Avg. BLEU", "BLEU-4", "METEOR", "Avg. ROUGE (1-2)", "ROUGE-1", "ROUGE-L", "BERTScore-F1", "GREEN",
    "F1-RadGraph", "RaTEScore", "Label macro-F1",
)

#: Table 1 and Table 2/4/8 metric columns, in the paper's order.
_NLG = ("Avg. BLEU", "METEOR", "Avg. ROUGE (1-2)", "ROUGE-L", "BERTScore-F1")
_NLG_GREEN = (*_NLG, "GREEN")
_TABLE3 = ("BLEU-4", "METEOR", "ROUGE-1", "BERTScore-F1", "GREEN")
_TABLE7 = ("F1-RadGraph", "RaTEScore")
_TABLE8 = ("Avg. BLEU", "METEOR", "ROUGE-L", "BERTScore-F1", "GREEN", "F1-RadGraph", "RaTEScore")


def _row(system: str, dataset: str, tables: tuple[str, ...], columns: tuple[str, ...],
         values: tuple[float | None, ...], note: str = "", *, more: dict[str, float] | None = None,
         source: str = RAD3D_PAPER) -> PublishedResult:
    if len(columns) != len(values):  # pragma: no cover - a typo in the tables below
        raise ValueError(f"{system}: {len(columns)} columns, {len(values)} values")
    scores = {c: float(v) for c, v in zip(columns, values) if v is not None}
    scores.update(more or {})
    label = "Table" if len(tables) == 1 else "Tables"
    return PublishedResult(system, f"{source}, {label} {' and '.join(tables)}", scores, note, dataset, tables)


_T1_NOTE = "Table 1: baseline vs V-1 with the LLM fine-tuned"
_CT_RATE: tuple[PublishedResult, ...] = (
    # Table 1 (CT-RATE): clip-text-decoder baseline vs V-1 across four LLMs.
    _row("Baseline (clip-text-decoder, DistilGPT2)", "ct-rate", ("1",), _NLG, (0.2660, 0.4205, 0.4416, 0.4166, 0.8832),
         _T1_NOTE),
    _row("RAD3D-Prefix V-1 (DistilGPT2)", "ct-rate", ("1",), _NLG, (0.2925, 0.4271, 0.4501, 0.4281, 0.8925), _T1_NOTE),
    _row("Baseline (clip-text-decoder, GPT2)", "ct-rate", ("1",), _NLG, (0.2476, 0.4013, 0.4380, 0.4014, 0.8810),
         _T1_NOTE),
    _row("RAD3D-Prefix V-1 (GPT2)", "ct-rate", ("1",), _NLG, (0.3065, 0.4366, 0.4684, 0.4315, 0.8932), _T1_NOTE),
    _row("Baseline (clip-text-decoder, GPT2-Medium)", "ct-rate", ("1",), _NLG,
         (0.2658, 0.4321, 0.4676, 0.4314, 0.8858), _T1_NOTE),
    _row("RAD3D-Prefix V-1 (GPT2-Medium)", "ct-rate", ("1",), _NLG, (0.3037, 0.4351, 0.4672, 0.4313, 0.8931),
         _T1_NOTE),
    _row("Baseline (clip-text-decoder, LLaMA-3.2-1B)", "ct-rate", ("1",), _NLG,
         (0.2637, 0.4335, 0.4677, 0.4363, 0.8864), _T1_NOTE),
    _row("RAD3D-Prefix V-1 (LLaMA-3.2-1B)", "ct-rate", ("1",), _NLG, (0.3427, 0.4467, 0.4638, 0.4062, 0.8891),
         _T1_NOTE + "; Table 4 gives other V-1 numbers (row below)"),
    # Table 2 (CT-RATE) with Table 7 (F1-RadGraph, RaTEScore) and Table 8 (linear projector comparison).
    _row("Baseline (clip-text-decoder, BioGPT-Large, 1.6B)", "ct-rate", ("2",), _NLG_GREEN,
         (None, None, None, None, 0.6932, None), "the paper reports only BERTScore-F1 (the model overfitted)"),
    _row("R2GenGPT (BioGPT-Large, 1.6B)", "ct-rate", ("2", "7"), (*_NLG_GREEN, *_TABLE7),
         (0.0611, 0.1385, 0.1241, 0.1284, 0.7622, 0.0254, 0.0208, 0.3338), "trained by the RAD3D-Prefix authors"),
    _row("R2GenGPT (LLaMA-3.2-1B-Instruct, 1B)", "ct-rate", ("2", "7", "8"), (*_NLG_GREEN, *_TABLE7),
         (0.2902, 0.3762, 0.39485, 0.3468, 0.8751, 0.4120, 0.2310, 0.6370),
         "trained by the RAD3D-Prefix authors; Table 8 repeats these numbers"),
    _row("R2GenGPT (LLaMA-2-7b-chat-hf, 7B)", "ct-rate", ("2", "7"), (*_NLG_GREEN, *_TABLE7),
         (0.3523, 0.4509, 0.4640, 0.4038, 0.8886, 0.5041, 0.2783, 0.6746), "trained by the RAD3D-Prefix authors"),
    _row("RAD3D-Prefix (V-3, LLaMA-3.2-1B)", "ct-rate", ("2", "7"), (*_NLG_GREEN, *_TABLE7),
         (0.3637, 0.4694, 0.4256, 0.4190, 0.8883, 0.5488, 0.2884, 0.6830),
         "Table 2's Avg. ROUGE (1-2), ROUGE-L and BERTScore-F1 differ from Table 4's V-3 row"),
    _row("RAD3D-Prefix (V-3, DeepSeek-R1-Distill-LLaMA-8B)", "ct-rate", ("2",), _NLG_GREEN,
         (0.3405, 0.4459, 0.4704, 0.4339, 0.8909, 0.5443)),
    _row("RAD3D-Prefix, linear projector (LLaMA-3.2-1B)", "ct-rate", ("8",), _TABLE8,
         (0.3165, 0.4161, 0.3824, 0.8714, 0.4826, 0.2559, 0.6435), "the transformer mapper replaced by a linear layer"),
    # Table 3 (CT-RATE): 3D report generators; daggered rows are the other papers' own numbers.
    _row("E3D-GPT", "ct-rate", ("3",), _TABLE3, (None, 0.4179, 0.5260, 0.8797, None),
         "reported in the E3D-GPT paper (no public code); BLEU-4 and GREEN not reported"),
    _row("CT-AGRG", "ct-rate", ("3",), _TABLE3, (0.1720, 0.1960, None, 0.8670, None),
         "reported in the CT-AGRG paper (no public code); ROUGE-1 and GREEN not reported"),
    _row("CT2Rep", "ct-rate", ("3",), _TABLE3, (0.3212, 0.4543, 0.5899, 0.8929, 0.5247)),
    _row("RAD3D-Prefix (V-3, LLaMA-3.2-1B)", "ct-rate", ("3",), _TABLE3, (0.2779, 0.4694, 0.5780, 0.8894, 0.5488)),
    # Table 4 (ablation, CT-RATE); trainable parameters in the note.
    _row("RAD3D-Prefix V-1 (image prefix, LLM fine-tuned)", "ct-rate", ("4",), _NLG_GREEN,
         (0.3315, 0.4456, 0.4402, 0.3646, 0.8826, 0.4454), "1.51B trainable parameters"),
    _row("RAD3D-Prefix V-2 (image prefix, LLM frozen)", "ct-rate", ("4",), _NLG_GREEN,
         (0.3543, 0.4604, 0.4677, 0.4190, 0.8883, 0.5428), "279.09M trainable parameters"),
    _row("RAD3D-Prefix V-3 (image prefix + diagnostic priors, LLM frozen)", "ct-rate", ("4",), _NLG_GREEN,
         (0.3637, 0.4694, 0.4716, 0.4256, 0.8894, 0.5488), "279.46M trainable parameters"),
    # Another paper, kept from our earlier notes.
    PublishedResult("Ker-VLJEPA-3B", "arXiv 2603.23308", {"Label macro-F1": 0.429},
                    "2,984 validation volumes, RadBERT labeller; the 0.448 figure tunes thresholds on the "
                    "evaluation set", "ct-rate", ()),
)

_INSPECT: tuple[PublishedResult, ...] = (
    _row("CT2Rep", "inspect", ("3",), _TABLE3, (5.74e-06, 0.1207, 0.1892, 0.8629, 0.2219),
         "run on INSPECT by the RAD3D-Prefix authors"),
    _row("RAD3D-Prefix (V-3, LLaMA-3.2-1B)", "inspect", ("3",), _TABLE3, (0.0344, 0.2122, 0.2268, 0.8670, 0.2400)),
    _row("RAD3D-Prefix V-1 (image prefix, LLM fine-tuned)", "inspect", ("4",), _NLG_GREEN,
         (0.0984, 0.2473, 0.1586, 0.1747, 0.8505, 0.1565), "1.51B trainable parameters"),
    _row("RAD3D-Prefix V-2 (image prefix, LLM frozen)", "inspect", ("4",), _NLG_GREEN,
         (0.0579, 0.2028, 0.1810, 0.2189, 0.8659, 0.2355), "279.09M trainable parameters"),
    _row("RAD3D-Prefix V-3 (image prefix + diagnostic priors, LLM frozen)", "inspect", ("4",), _NLG_GREEN,
         (0.0657, 0.2122, 0.1889, 0.2268, 0.8670, 0.2400), "279.46M trainable parameters"),
)

LITERATURE: dict[str, tuple[PublishedResult, ...]] = {"ct-rate": _CT_RATE, "inspect": _INSPECT}


def literature_for(dataset: str) -> tuple[PublishedResult, ...]:
    """Published results for ``ct-rate`` or ``inspect`` (empty for anything else).

    Example:
        >>> [r.scores["GREEN"] for r in literature_for("inspect") if r.system == "CT2Rep"]
        [0.2219]
    """
    return LITERATURE.get(dataset, ())
