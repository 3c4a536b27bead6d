"""CT imaging front-end speed and memory: CT-CLIP preprocessing vs a naive scipy zoom; CT-ViT forward on CPU.

1. Preprocessing one 512 x 512 x 300 int16 chest volume (a phantom chest at 0.7 x 0.7 x 1.25 mm, stored with
   intercept -1024) into CT-CLIP's (1, 240, 480, 480) input:
   ours = :func:`radeval.data.preprocess.preprocess_array`; anchor = the naive route, float64 HU array,
   clip, ``scipy.ndimage.zoom(order=1)`` to the target spacing, /1000, then centre crop/pad. Each side runs in
   its own fresh process; peak memory is the peak RSS increase during the call over the RSS just before it
   (input already loaded; Linux VmHWM reset with clear_refs). Ratios are ours / anchor.
2. CT-ViT + latent forward at full size (1, 1, 240, 480, 480), random weights, seconds per volume.
3. The demo's extra pretraining phantoms (``embed.pretrain_extra_phantoms``; textured, negation rate 0.1, drawn,
   written, read and preprocessed to the small CT-ViT's input): ours = chunks drawn in one spawned process per
   usable core; anchor = the same chunks drawn one after another in this process. Prints both times, the ratio and
   whether the arrays are identical.

Run from the repository root::

    .venv/bin/python benchmarks/perf/imaging.py [--repeats 3] [--threads 2] [--skip-encoder] [--extra-phantoms 600]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

SHAPE = (512, 512, 300)
SPACING = (0.7, 0.7, 1.25)


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _peak_mib() -> float:
    """The process's peak RSS since the last :func:`_reset_peak` (Linux VmHWM)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    """Reset the peak-RSS high-water mark to the current RSS (Linux ``clear_refs`` 5)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def make_volume(path: Path) -> None:
    """A phantom chest of SHAPE voxels at SPACING mm, stored as int16 = HU + 1024."""
    from radeval.data.phantom import synthesize_chest

    hu, _ = synthesize_chest({"Pleural effusion": 1, "Cardiomegaly": 1, "Lung nodule": 1},
                             np.random.default_rng(0), shape=SHAPE, spacing=SPACING, noise_hu=15.0)
    np.save(path, np.rint(hu + 1024).astype(np.int16))


def naive_scipy(stored: np.ndarray) -> np.ndarray:
    """The anchor: float64 HU volume, clip, scipy.ndimage.zoom (linear), scale, crop/pad, (1, Z, X, Y)."""
    from scipy.ndimage import zoom

    from radeval.data.preprocess import PreprocessConfig, resampled_size

    cfg = PreprocessConfig()
    hu = stored.astype(np.float64) - 1024.0
    np.clip(hu, -1000, 1000, out=hu)
    size = [resampled_size(n, s, t) for n, s, t in zip(hu.shape, SPACING, cfg.spacing)]
    res = zoom(hu, [m / n for m, n in zip(size, hu.shape)], order=1) / 1000.0
    out = np.full(cfg.shape, -1.0)
    src, dst = [], []
    for n, t in zip(res.shape, cfg.shape):
        keep = min(n, t)
        src.append(slice(max((n - t) // 2, 0), max((n - t) // 2, 0) + keep))
        dst.append(slice((t - n) // 2 if n < t else 0, ((t - n) // 2 if n < t else 0) + keep))
    out[tuple(dst)] = res[tuple(src)]
    return out.transpose(2, 0, 1)[None].astype(np.float32)


def _run(which: str, path: str, threads: int, repeats: int, queue: mp.Queue) -> None:
    import torch

    torch.set_num_threads(threads)
    from radeval.data.preprocess import preprocess_array

    stored = np.asfortranarray(np.load(path))  # (X, Y, Z) in the memory layout nibabel and SimpleITK return
    if which == "ours":
        preprocess_array(stored[:64, :64, :32], SPACING, intercept=-1024.0)  # warm-up (imports, allocator)
    times, peaks = [], []
    for _ in range(repeats):
        before = _rss_mib()
        _reset_peak()
        start = time.perf_counter()
        out = preprocess_array(stored, SPACING, intercept=-1024.0) if which == "ours" else naive_scipy(stored)
        times.append(time.perf_counter() - start)
        peaks.append(_peak_mib() - before)
        summary = (float(out.mean()), float((out == -1).mean()), out.shape)
        del out
    queue.put({"which": which, "best_s": min(times), "times": times, "peak_increase_mib": max(peaks),
               "mean": summary[0], "frac_pad": summary[1], "shape": summary[2]})


def _measure(which: str, path: Path, threads: int, repeats: int) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(which, str(path), threads, repeats, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def encoder_forward(threads: int) -> dict:
    """Seconds for one full-size CT-ViT + latent forward (after one warm-up pass) and the peak RSS."""
    import torch

    from radeval_models.ctclip.config import CTViTConfig
    from radeval_models.ctclip.encoder import CTClipImageEncoder

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    enc = CTClipImageEncoder(CTViTConfig.ctclip()).eval()
    x = torch.randn(1, 1, 240, 480, 480)
    _reset_peak()
    times = []
    with torch.inference_mode():
        for _ in range(2):
            start = time.perf_counter()
            enc(x)
            times.append(time.perf_counter() - start)
    return {"threads": threads, "warmup_s": times[0], "seconds_per_volume": times[1], "peak_rss_mib": _peak_mib()}  # weights + activations


def extra_phantoms(n: int) -> dict:
    """Seconds to produce ``n`` extra pretraining phantoms in parallel chunks vs in this process, same run."""
    from radeval_models.ctclip.embed import EmbedConfig, _extra_volumes
    from radeval_models.ctclip.extra_phantoms import ExtraPhantoms
    from radeval_models.ctclip.pretrain import EncoderPretrainConfig

    extra = ExtraPhantoms(n=n, seed=1_000_003, options={"labels": "ct-rate", "negation_rate": 0.1, "textured": True})
    cfg = EmbedConfig(encoder="small", pretrain=EncoderPretrainConfig(epochs=1), pretrain_extra=extra)
    start = time.perf_counter()
    ours = _extra_volumes(extra, cfg)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    anchor = _extra_volumes(extra, cfg, workers=1)
    anchor_s = time.perf_counter() - start
    return {"n": n, "chunks": len(extra.chunks()), "ours_s": ours_s, "anchor_s": anchor_s,
            "identical": bool(np.array_equal(ours[0], anchor[0]) and np.array_equal(ours[1], anchor[1]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-encoder", action="store_true")
    parser.add_argument("--extra-phantoms", type=int, default=600, help="0 skips the extra-phantom timing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "volume.npy"
        make_volume(path)
        ours = _measure("ours", path, args.threads, args.repeats)
        anchor = _measure("anchor", path, args.threads, 1)
    print(f"preprocess 512x512x300 int16 @ {SPACING} mm -> {ours['shape']}, torch threads {args.threads}")
    print(f"  ours  : best {ours['best_s']:.2f} s of {[round(t, 2) for t in ours['times']]}, "
          f"peak +{ours['peak_increase_mib']:.0f} MiB, mean {ours['mean']:.5f}, pad/air fraction {ours['frac_pad']:.4f}")
    print(f"  anchor: {anchor['best_s']:.2f} s (scipy.ndimage.zoom order=1, float64), "
          f"peak +{anchor['peak_increase_mib']:.0f} MiB, mean {anchor['mean']:.5f}")
    print(f"  ratio ours/anchor: time {ours['best_s'] / anchor['best_s']:.3f}x, "
          f"peak memory {ours['peak_increase_mib'] / anchor['peak_increase_mib']:.3f}x")
    if not args.skip_encoder:
        for threads in sorted({1, args.threads}):
            res = encoder_forward(threads)
            print(f"CT-ViT + latent forward (1, 1, 240, 480, 480), {threads} thread(s): "
                  f"{res['seconds_per_volume']:.1f} s/volume (warm-up {res['warmup_s']:.1f} s), "
                  f"process peak RSS {res['peak_rss_mib']:.0f} MiB")
    if args.extra_phantoms:
        res = extra_phantoms(args.extra_phantoms)
        print(f"extra pretraining phantoms, {res['n']} in {res['chunks']} chunks: parallel {res['ours_s']:.1f} s, "
              f"one process {res['anchor_s']:.1f} s, ratio ours/anchor {res['ours_s'] / res['anchor_s']:.3f}x, "
              f"identical arrays {res['identical']}")
    print(json.dumps({"ours": ours, "anchor": anchor}, default=str))


if __name__ == "__main__":
    main()
