"""The reader-study figure: mean rating with its 95% CI per system, one panel per criterion."""

from __future__ import annotations

from pathlib import Path

from radeval_reader_study.analysis import StudyAnalysis


def plot_means(analysis: StudyAnalysis, path: str | Path, *, dpi: int = 150) -> Path:
    """Draw the means plot to a PNG file and return its path."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from radeval.paths import atomic_write_bytes

    rubric = analysis.rubric
    criteria = rubric.criteria
    fig, axes = plt.subplots(1, len(criteria), figsize=(3.2 + 1.1 * len(analysis.systems) * len(criteria), 3.6),
                             squeeze=False, sharey=True)
    s = analysis.summary
    for ax, crit in zip(axes[0], criteria, strict=True):
        rows = s[s["criterion"] == crit.id].set_index("system").reindex(list(analysis.systems))
        x = range(len(rows))
        means = rows["mean"].to_numpy()
        err = [means - rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy() - means]
        colors = ["#7f8c9a" if name == analysis.baseline else "#1f5fa8" for name in rows.index]
        ax.bar(x, means - rubric.minimum, bottom=rubric.minimum, color=colors, alpha=0.35, width=0.6)
        ax.errorbar(x, means, yerr=err, fmt="o", color="#1c2430", capsize=4)
        ax.set_xticks(list(x), list(rows.index), rotation=20, ha="right")
        ax.set_title(crit.name, fontsize=10)
        ax.set_ylim(rubric.minimum - 0.2, rubric.maximum + 0.2)
        ax.set_yticks(list(rubric.values))
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel(f"mean rating ({int(round(100 * analysis.settings.get('confidence', 0.95)))}% CI)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    out = Path(path)
    atomic_write_bytes(out, buf.getvalue())
    return out
