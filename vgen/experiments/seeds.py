"""Several runs of one config (e.g. its training seeds), scored together.

python -m vgen.experiments.seeds RUN [RUN ...]

Reads each <RUN>/eval/results.json (written by `--mode eval`) and prints, per predicted step,
mean ± std over the runs (ddof=0) of every per-step score the runs share: the best and mean
sample and each baseline (copy_last, mean_context; background where the source has one).
Then, per run, whether it meets the object-aware bar (issue 12): the best sample beats every
baseline (copy_last, background, and mean_context in results that have it) at every predicted
step in full-frame PSNR and in object-region PSNR, and the mean position error at the last
predicted step is below copy-last's.
"""

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from vgen.errors import ArgumentParser
from vgen.evaluators.prediction import CURVES  # the per-step scores: {name: (label, cell format)}

KINDS = ("best", "mean", "copy_last", "background", "mean_context")
BASELINES = KINDS[2:]


def load(run: str) -> dict[str, Any]:
    """<run>/eval/results.json; a clear error where it is missing."""
    path = os.path.join(run, "eval", "results.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: not found (score the run with --mode=eval first)")
    with open(path) as f:
        results = json.load(f)
    if "best" not in results.get("psnr", {}):
        raise ValueError(f"{path}: no per-step PSNR (not the results of a video predictor)")
    return results


def across(results: Sequence[dict[str, Any]]) -> dict[str, dict[str, tuple[np.ndarray, ...]]]:
    """{score: {kind: (mean [T], std [T])}} over the runs, for the scores and kinds all share."""
    steps = {len(r["psnr"]["best"]) for r in results}
    if len(steps) != 1:
        raise ValueError(f"the runs predict different numbers of steps: {sorted(steps)}")
    out = {}
    for score in CURVES:
        if not all(score in r for r in results):
            continue
        kinds = [k for k in KINDS if all(k in r[score] for r in results)]
        values = {k: np.array([r[score][k] for r in results], np.float64) for k in kinds}
        out[score] = {k: (v.mean(0), v.std(0)) for k, v in values.items()}
    return out


def shortfalls(results: dict[str, Any]) -> list[str]:
    """Where one run misses the object-aware bar (empty: it meets it). The run's results must
    hold the object scores and the background baseline."""
    missed = []
    for score in ("psnr", "object_psnr"):
        s = results[score]
        baselines = [k for k in BASELINES if k in s]
        for t, best in enumerate(s["best"]):
            for baseline in baselines:
                if not best > s[baseline][t]:
                    missed.append(
                        f"{score} step {t + 1}: best {best:.2f} <= {baseline} {s[baseline][t]:.2f}"
                    )
    error = results["position_error"]
    if not error["mean"][-1] < error["copy_last"][-1]:
        missed.append(
            f"position_error last step: mean {error['mean'][-1]:.2f} >= "
            f"copy_last {error['copy_last'][-1]:.2f}"
        )
    return missed


def format_report(runs: Sequence[str], results: Sequence[dict[str, Any]]) -> str:
    table = across(results)
    steps = len(results[0]["psnr"]["best"])
    lines = [f"{len(runs)} runs; mean ± std over runs (ddof=0); columns: predicted step"]
    lines.append("| score | " + " | ".join(str(t + 1) for t in range(steps)) + " |")
    lines.append("|---" * (steps + 1) + "|")
    for score, kinds in table.items():
        form = CURVES[score][1]
        for kind, (mean, std) in kinds.items():
            cells = [f"{form.format(m)} ± {form.format(s)}" for m, s in zip(mean, std, strict=True)]
            lines.append(f"| {score} {kind} | " + " | ".join(cells) + " |")
    if all("object_psnr" in r and "background" in r["psnr"] for r in results):
        lines.append("")
        for run, r in zip(runs, results, strict=True):
            missed = shortfalls(r)
            verdict = "meets the bar" if not missed else "misses: " + "; ".join(missed)
            lines.append(f"{run} (step {r.get('step')}): {verdict}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m vgen.experiments.seeds", description=__doc__)
    parser.add_argument("runs", nargs="+", help="workdirs scored with --mode=eval")
    args = parser.parse_args(argv)
    try:
        results = [load(run) for run in args.runs]
        print(format_report(args.runs, results))
    except (OSError, ValueError) as e:
        print(f"vgen: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
