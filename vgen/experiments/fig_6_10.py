"""Thesis Fig. 6.10 for several FF-GAN runs side by side: the discriminator's accuracy during
training, on training data, validation data and the generator's samples, plus each run's speed
and (where `--mode eval` has run) its object-aware and motion-class scores.

    python -m vgen.experiments.fig_6_10 --runs=default=runs/a,correlation=runs/b --out=fig.png

Used to compare the FF-GAN discriminators (`model.disc_inverse_flow`, thesis 6.3.4). Reads each
run's TensorBoard scalars (d_acc_train_data, d_acc_samples: the training batches, logged every
`train.log_every` steps; d_acc_val_data, d_acc_val_samples: held-out clips and free-running
samples, every `train.sample_every`) and <run>/eval/results.json. Prints one table and writes
the figure (one panel per run, the thesis's three curves and the validation samples' one).
"""

import json
import os
import sys
from collections.abc import Sequence

import numpy as np

CURVES = {  # tag: the thesis's legend
    "d_acc_train_data": "train data accuracy",
    "d_acc_val_data": "valid data accuracy",
    "d_acc_samples": "train sample accuracy",
    "d_acc_val_samples": "valid sample accuracy (free-running)",
}


def run_summary(workdir: str) -> dict:
    """{curves: {tag: (steps, values)}, steps_per_sec, final: {tag: value}, eval: results}."""
    from vgen.tb_events import read_events

    scalars = read_events(workdir).get("scalars", {})
    curves = {}
    for tag in CURVES:
        if tag in scalars:
            steps = sorted(scalars[tag])
            curves[tag] = (np.array(steps), np.array([scalars[tag][s] for s in steps]))
    speed = list(scalars.get("steps_per_sec", {}).values())
    results_path = os.path.join(workdir, "eval", "results.json")
    results = json.load(open(results_path)) if os.path.isfile(results_path) else {}
    return {
        "curves": curves,
        "steps_per_sec": float(np.median(speed)) if speed else float("nan"),
        "final": {tag: float(v[-1]) for tag, (_, v) in curves.items()},
        "eval": results,
    }


def _last(results: dict, *path: str) -> float:
    """The last predicted step's value at results[path...] (a per-step list), or nan."""
    for key in path:
        if not isinstance(results, dict) or key not in results:
            return float("nan")
        results = results[key]
    return float(results[-1]) if isinstance(results, list) else float(results)


def format_table(summaries: dict[str, dict]) -> str:
    cols = [
        ("steps/s", lambda s: s["steps_per_sec"]),
        *[
            (tag.replace("d_acc_", "acc "), lambda s, t=tag: s["final"].get(t, np.nan))
            for tag in CURVES
        ],
        ("PSNR best", lambda s: _last(s["eval"], "psnr", "best")),
        ("obj PSNR best", lambda s: _last(s["eval"], "object_psnr", "best")),
        ("pos err mean", lambda s: _last(s["eval"], "position_error", "mean")),
        ("motion class", lambda s: _last(s["eval"], "motion_class", "accuracy", "best")),
    ]
    width = max(len(name) for name, _ in cols) + 2
    lines = [f"{'run':<14}" + "".join(f"{name:>{width}}" for name, _ in cols)]
    for name, summary in summaries.items():
        lines.append(f"{name:<14}" + "".join(f"{get(summary):>{width}.3f}" for _, get in cols))
    return "\n".join(lines)


def plot(summaries: dict[str, dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(summaries), figsize=(4.5 * len(summaries), 3.4), sharey=True)
    for ax, (name, summary) in zip(np.atleast_1d(axes), summaries.items(), strict=True):
        for tag, label in CURVES.items():
            if tag in summary["curves"]:
                steps, values = summary["curves"][tag]
                ax.plot(
                    steps, values, marker="." if tag.startswith("d_acc_val") else None, label=label
                )
        ax.set_title(f"{name} ({summary['steps_per_sec']:.2f} steps/s)")
        ax.set_xlabel("step")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("discriminator accuracy")
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> None:
    # argparse, not absl flags: importing this module defines no global flag (tests import it
    # beside other experiments)
    from vgen.errors import ArgumentParser

    parser = ArgumentParser(prog="vgen.experiments.fig_6_10", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="", help="name=workdir pairs, the baseline first")
    parser.add_argument("--out", default="", help="the figure's path (.png)")
    args = parser.parse_args(argv)
    runs = [r for r in args.runs.split(",") if r]
    pairs = [r.split("=", 1) for r in runs]
    bad = [r for r, p in zip(runs, pairs, strict=True) if len(p) != 2 or not os.path.isdir(p[1])]
    if not pairs or not args.out or bad:
        why = f"not name=existing-workdir: {bad}" if bad else "--runs and --out are required"
        print(f"vgen: error: {why}", file=sys.stderr)
        sys.exit(2)
    summaries = {name: run_summary(workdir) for name, workdir in pairs}
    plot(summaries, args.out)
    print(format_table(summaries))
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
