"""Speed of the significance engine against its anchors, timed in one run.

1. Paired bootstrap of BLEU, 1,000 resamples, ~3,039 cases, 2 systems: ours (``compare_statistics`` on
   ``bleu_sacre`` statistics) vs ``sacrebleu.significance.PairedTest(test_type="bs")``. Reported end to
   end (statistics + test) and for the test alone (sacreBLEU's statistics extraction timed separately
   and subtracted). The p-values must agree.
2. Approximate randomization, BLEU + ROUGE-1, 200 reports, 2 systems: ours (10,000 trials, statistics
   included) vs a RadEval-style loop that swaps the texts per trial and recomputes both metrics from
   scratch (``sacrebleu.corpus_bleu`` and ``rouge_score``), timed on a few trials and scaled per trial.
3. The headline: 5,000 resamples × 3,039 cases × 6 metrics × 5 systems, bootstrap, from statistics.

Run from the repository root::

    .venv/bin/python benchmarks/perf/significance.py

Everything is synthetic and seeded; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import logging
import random
import time
from collections.abc import Callable

import numpy as np

WORDS = ("no pleural effusion pneumothorax the heart size is normal mild centrilobular emphysema upper lower "
         "lobes nodule right left lobe mediastinal hilar lymphadenopathy airways patent small hiatal hernia "
         "degenerative changes thoracic spine consolidation coronary artery calcifications bilateral dependent "
         "atelectasis thyroid gland unremarkable mm cm there are seen ground glass opacity scarring").split()


def synthetic_corpus(n: int, n_systems: int, seed: int = 0, step: float = 0.1) -> tuple[list[str], list[list[str]]]:
    """``n`` reference reports and ``n_systems`` hypotheses lists of increasing quality (seeded).

    System ``k`` keeps each reference word with probability ``0.45 + step·k`` and replaces it otherwise.
    """
    rng = np.random.default_rng(seed)
    refs, systems = [], [[] for _ in range(n_systems)]
    for _ in range(n):
        sentences = [list(rng.choice(WORDS, size=int(rng.integers(4, 12)))) for _ in range(int(rng.integers(2, 6)))]
        ref = [w for s in sentences for w in s + ["."]]
        refs.append(" ".join(ref))
        for k in range(n_systems):
            keep = rng.random(len(ref)) < 0.45 + step * k
            systems[k].append(" ".join(w if kk else str(rng.choice(WORDS)) for w, kk in zip(ref, keep)))
    return refs, systems


def best_of(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """Fastest wall time of ``repeat`` runs, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_sacrebleu(n: int, n_systems: int) -> None:
    from sacrebleu.metrics import BLEU
    from sacrebleu.significance import PairedTest

    from radeval.metrics import get_metric
    from radeval.stats.compare import compare_statistics

    refs, systems = synthetic_corpus(n, n_systems, seed=1, step=0.002)  # close races: p-values vary
    names = [f"sys{k}" for k in range(n_systems)]
    print(f"[1] paired bootstrap, BLEU (13a), B=1000, N={n}, {n_systems} systems (1 baseline)")

    def theirs():
        return PairedTest(list(zip(names, systems)), {"BLEU": BLEU()}, [refs], test_type="bs", n_samples=1000)()

    def their_stats():
        bleu = BLEU()
        return [bleu._extract_corpus_statistics(h, [refs]) for h in systems]

    metric = get_metric("bleu_sacre")

    def our_stats():
        return np.stack([metric.statistics(refs, h) for h in systems])

    t_theirs, (_, scores) = best_of(theirs, 2)
    t_their_stats, _ = best_of(their_stats, 2)
    t_our_stats, stats = best_of(our_stats, 2)
    t_ours, res = best_of(lambda: compare_statistics({"bleu": stats}, {"bleu": metric}, names, resamples=1000,
                                                     ci="sacrebleu", correction="none"), 5)
    p_theirs = [r.p_value for r in scores["BLEU"][1:]]
    p_ours = [float(p) for p in res.table.p.iloc[1:]]
    test_theirs = t_theirs - t_their_stats
    print(f"    sacrebleu PairedTest end to end   {t_theirs:8.3f} s  (statistics {t_their_stats:.3f} s, "
          f"test {test_theirs:.3f} s)")
    print(f"    ours statistics + test            {t_our_stats + t_ours:8.3f} s  (statistics {t_our_stats:.3f} s, "
          f"test {t_ours:.3f} s)")
    print(f"    ratio test only                   {test_theirs / t_ours:8.1f}x")
    print(f"    ratio sacrebleu end to end / ours from cached statistics  {t_theirs / t_ours:8.1f}x")
    print(f"    ratio end to end (both compute statistics)               {t_theirs / (t_our_stats + t_ours):8.1f}x")
    print(f"    p-values equal: {p_theirs == p_ours}  ({p_ours})")


def bench_radeval_ar(n: int, naive_trials: int) -> None:
    import sacrebleu
    from rouge_score import rouge_scorer

    from radeval.metrics import get_metric
    from radeval.stats.compare import compare_statistics

    refs, (base, system) = synthetic_corpus(n, 2, seed=2)
    scorer = rouge_scorer.RougeScorer(["rouge1"])
    print(f"[2] approximate randomization, BLEU + ROUGE-1, N={n}, 2 systems")

    def bleu(hyps: list[str]) -> float:
        return sacrebleu.corpus_bleu(hyps, [refs]).score

    def rouge1(hyps: list[str]) -> float:
        return float(np.mean([scorer.score(r, h)["rouge1"].fmeasure for r, h in zip(refs, hyps)]))

    def naive(trials: int) -> dict[str, float]:
        """RadEval-style: per trial, swap texts with one shared RNG, recompute each metric, count >=, no +1."""
        rnd = random.Random(12345)
        out = {}
        for name, fn in (("bleu", bleu), ("rouge1", rouge1)):
            observed = abs(fn(system) - fn(base))
            count = 0
            for _ in range(trials):
                a, b = [], []
                for x, y in zip(base, system):
                    if rnd.random() < 0.5:
                        a.append(y)
                        b.append(x)
                    else:
                        a.append(x)
                        b.append(y)
                count += abs(fn(a) - fn(b)) >= observed
            out[name] = count / trials
        return out

    t_naive, _ = best_of(lambda: naive(naive_trials), 1)
    per_trial_naive = t_naive / naive_trials
    metrics = {"bleu": get_metric("bleu_sacre"), "rouge1": get_metric("rouge1")}

    def ours():
        stats = {name: np.stack([m.statistics(refs, h) for h in (base, system)]) for name, m in metrics.items()}
        return compare_statistics(stats, metrics, ["base", "sys"], test="ar", resamples=10000, ci_resamples=0)

    t_ours, res = best_of(ours, 3)
    per_trial_ours = t_ours / 10000
    print(f"    RadEval-style loop ({naive_trials} trials)      {t_naive:8.3f} s  -> {per_trial_naive * 1e3:9.3f} ms/trial, "
          f"10,000 trials ≈ {per_trial_naive * 10000 / 60:.1f} min")
    print(f"    ours (10,000 trials, with statistics)  {t_ours:8.3f} s  -> {per_trial_ours * 1e3:9.5f} ms/trial")
    print(f"    ratio per trial                        {per_trial_naive / per_trial_ours:8.0f}x")
    print(f"    ours p: {dict(zip(res.table.metric[res.table.system == 'sys'], res.table.p[res.table.system == 'sys']))}")


def bench_headline(n: int) -> None:
    from radeval.metrics import get_metric
    from radeval.stats.compare import compare_statistics

    # six metrics with six different statistics layouts (10 + 10 + 4 + 2 + 2 + 23 columns per system)
    names = ["bleu_sacre", "bleu4", "rougeL", "rougeL_coco", "cider", "meteor"]
    refs, systems = synthetic_corpus(n, 5, seed=3)
    metrics = {name: get_metric(name) for name in names}
    t0 = time.perf_counter()
    stats = {name: np.stack([m.statistics(refs, h) for h in systems]) for name, m in metrics.items()}
    t_stats = time.perf_counter() - t0
    sys_names = [f"sys{k}" for k in range(5)]
    print(f"[3] bootstrap B=5000, N={n}, {len(names)} metrics x 5 systems (statistics computed once: {t_stats:.1f} s)")
    width = sum(stats[name].shape[2] for name in names)
    print(f"    {width} statistics columns per system, {5 * width} in all")
    for ci in ("percentile", "bca"):
        t, res = best_of(lambda: compare_statistics(stats, metrics, sys_names, resamples=5000, ci=ci), 3)
        print(f"    ci={ci:<10}  {t:7.3f} s  (target <= 2 s)  rows={len(res.table)}")
    t, _ = best_of(lambda: compare_statistics(stats, metrics, sys_names, test="ar", resamples=10000), 3)
    print(f"    AR R=10000 + 5000-resample CIs  {t:7.3f} s")


def bench_large(n: int) -> None:
    """Memory stays bounded: N = 100,000 cases, B = 5,000, 3 systems, BLEU-layout counts + a mean metric."""
    import resource

    from radeval.metrics import get_metric
    from radeval.stats.compare import compare_statistics

    rng = np.random.default_rng(4)
    bleu = np.stack([np.column_stack([rng.integers(5, 40, n), rng.integers(5, 40, n), rng.integers(0, 20, (n, 4)),
                                      rng.integers(20, 40, (n, 4))]).astype(np.float64) for _ in range(3)])
    rouge = get_metric("rouge1")
    values = [rng.random(n) for _ in range(3)]
    # rouge statistics are [F_rouge1, F_rouge2, F_rougeL, 1]; one value stands for all three
    rouge_stats = np.stack([np.column_stack([v, v, v, np.ones(n)]) for v in values])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    compare_statistics({"bleu_sacre": bleu, "rouge1": rouge_stats},
                       {"bleu_sacre": get_metric("bleu_sacre"), "rouge1": rouge}, ["a", "b", "c"], resamples=5000)
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    full = 5000 * n * 8 / 2**20
    print(f"[4] N={n}, B=5000, 3 systems, 2 metrics: {elapsed:.1f} s, peak RSS {peak:.0f} MiB "
          f"(before {before:.0f} MiB; an unchunked float64 count matrix alone would be {full:.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=3039)
    parser.add_argument("--ar-cases", type=int, default=200)
    parser.add_argument("--naive-trials", type=int, default=20)
    parser.add_argument("--large", action="store_true", help="also run the N = 100,000 memory check")
    args = parser.parse_args()
    logging.getLogger("sacrebleu").setLevel(logging.ERROR)  # the synthetic text ends in " ." on purpose
    for k in (2, 5):
        bench_sacrebleu(args.cases, k)
    bench_radeval_ar(args.ar_cases, args.naive_trials)
    bench_headline(args.cases)
    if args.large:
        bench_large(100_000)


if __name__ == "__main__":
    main()
