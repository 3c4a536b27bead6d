"""Speed of radeval's lexical metrics against pycocoevalcap's scorers, timed in the same run.

3,000 synthetic radiology-like report pairs of about 60 words. For each metric both sides compute the
corpus score *and* the per-sample scores from raw strings:

- BLEU-1..4 (one statistics pass)      vs pycocoevalcap ``Bleu(4).compute_score``
- ROUGE-L, coco convention             vs pycocoevalcap ``Rouge().compute_score``
- CIDEr-D                              vs pycocoevalcap ``Cider().compute_score``
- ROUGE-1/2/L, rouge-score convention  vs pycocoevalcap ``Rouge`` (target) and ``rouge_score`` (for reference)
- METEOR 1.5, including the JVM start  vs pycocoevalcap ``Meteor()`` + ``compute_score``

Ratios are ours / anchor (below 1 = we are faster). Cheap metrics take the best of ``--repeats`` runs.

Usage:
    .venv/bin/python benchmarks/perf/lexical.py [--n 3000] [--repeats 3] [--no-meteor | --meteor-only]
                                                [--meteor-repeats 2]
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from collections.abc import Callable

WORDS = (
    "no pleural effusion pneumothorax heart size is normal mild moderate emphysema in the upper lower lobes "
    "there a mm nodule right left lobe lymphadenopathy mediastinal consolidation atelectasis base trachea "
    "midline aorta calcified ground-glass opacity bronchial wall thickening liver hypodense lesion of "
    "coronary artery calcifications stable hiatal hernia degenerative changes thoracic spine"
).split()


def make_pairs(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` seeded (ref, hyp) pairs of ~60 words with punctuation and case changes."""
    rng = random.Random(seed)
    refs, hyps = [], []
    for _ in range(n):
        ref = [rng.choice(WORDS) for _ in range(rng.randint(60, 80))]
        for i in range(8, len(ref), rng.randint(8, 14)):
            ref[i] += "."
        hyp = [w for w in ref if rng.random() > 0.15]
        for i in range(len(hyp)):
            r = rng.random()
            if r < 0.12:
                hyp[i] = rng.choice(WORDS)
            elif r < 0.15:
                hyp[i] = hyp[i].capitalize()
        refs.append(" ".join(ref))
        hyps.append(" ".join(hyp))
    return refs, hyps


def best_of(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def report(label: str, ours: float, anchor: float, anchor_name: str) -> None:
    print(f"{label:<34} ours {ours:8.3f} s   {anchor_name:<22} {anchor:8.3f} s   ratio {ours / anchor:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-meteor", action="store_true")
    parser.add_argument("--meteor-only", action="store_true")
    parser.add_argument("--meteor-repeats", type=int, default=1,
                        help="runs of each METEOR side, alternating which goes first; the best is kept")
    args = parser.parse_args()

    refs, hyps = make_pairs(args.n)
    gts = {str(i): [r] for i, r in enumerate(refs)}
    res = {str(i): [h] for i, h in enumerate(hyps)}
    words = sum(len(h.split()) for h in hyps) / len(hyps)
    print(f"{args.n} pairs, {words:.1f} words per hypothesis on average")
    if not args.meteor_only:
        cheap(args, refs, hyps, gts, res)
    if not args.no_meteor:
        meteor(args, refs, hyps, gts, res)


def cheap(args: argparse.Namespace, refs: list[str], hyps: list[str], gts: dict, res: dict) -> None:
    """BLEU, ROUGE and CIDEr against pycocoevalcap (and rouge_score)."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge
    from rouge_score.rouge_scorer import RougeScorer

    from radeval.metrics.bleu import CocoBleu
    from radeval.metrics.cider import CiderD
    from radeval.metrics.rouge import rougeL
    from radeval.metrics.rouge_coco import CocoRougeL

    def ours_bleu() -> None:
        stats = CocoBleu(4).statistics(refs, hyps)
        for n in range(1, 5):
            m = CocoBleu(n)
            m.aggregate(stats.sum(axis=0))
            m.sample_scores(stats)

    def ours_mean(metric) -> Callable[[], None]:
        def run() -> None:
            stats = metric.statistics(refs, hyps)
            metric.aggregate(stats.sum(axis=0))
            metric.sample_scores(stats)
        return run

    def rouge_score_all() -> None:
        scorer = RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
        for r, h in zip(refs, hyps):
            scorer.score(r, h)

    rows = [
        ("BLEU-1..4 (coco)", ours_bleu, lambda: Bleu(4).compute_score(gts, res, verbose=0), "pycoco Bleu(4)"),
        ("ROUGE-L (coco, beta 1.2)", ours_mean(CocoRougeL()), lambda: Rouge().compute_score(gts, res), "pycoco Rouge"),
        ("CIDEr-D", ours_mean(CiderD()), lambda: Cider().compute_score(gts, res), "pycoco Cider"),
    ]
    total_ours = total_anchor = 0.0
    for label, ours, anchor, anchor_name in rows:
        t_anchor = best_of(anchor, args.repeats)
        t_ours = best_of(ours, args.repeats)
        total_ours += t_ours
        total_anchor += t_anchor
        report(label, t_ours, t_anchor, anchor_name)
    report("BLEU + ROUGE-L + CIDEr-D", total_ours, total_anchor, "pycoco (same three)")

    t_rouge_ours = best_of(ours_mean(rougeL()), args.repeats)
    report("ROUGE-1/2/L (rouge-score conv.)", t_rouge_ours, best_of(lambda: Rouge().compute_score(gts, res),
                                                                    args.repeats), "pycoco Rouge")
    report("ROUGE-1/2/L (rouge-score conv.)", t_rouge_ours, best_of(rouge_score_all, 1), "rouge_score")


def meteor(args: argparse.Namespace, refs: list[str], hyps: list[str], gts: dict, res: dict) -> None:
    """METEOR through one JVM each, JVM start included."""
    if shutil.which("java") is None:
        print("METEOR skipped: no java on PATH")
        return
    from pycocoevalcap.meteor.meteor import Meteor as CocoMeteor

    from radeval.metrics.meteor import Meteor

    def anchor_meteor() -> None:
        oracle = CocoMeteor()
        oracle.compute_score(gts, res)
        del oracle

    def ours_meteor() -> None:
        with Meteor() as m:
            stats = m.statistics(refs, hyps)
            m.aggregate(stats.sum(axis=0))
            m.sample_scores(stats)

    t_anchor = t_ours = float("inf")
    for i in range(args.meteor_repeats):
        order = [(anchor_meteor, "anchor"), (ours_meteor, "ours")]
        for fn, side in (order if i % 2 == 0 else order[::-1]):
            t = best_of(fn, 1)
            if side == "anchor":
                t_anchor = min(t_anchor, t)
            else:
                t_ours = min(t_ours, t)
    report("METEOR 1.5 (incl. JVM start)", t_ours, t_anchor, "pycoco Meteor")


if __name__ == "__main__":
    main()
