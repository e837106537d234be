"""A run's scores next to the published ones: `python -m vgen.report --workdir=W`.

Reads <workdir>/eval/results.json (written by `--mode eval`) and prints, for the datasets the
SRVP paper scores (Franceschi et al. 2020), the run's numbers beside SVG-LP's and SRVP's as that
paper reports them, with every way in which the run's protocol differs from the paper's.

The comparison, as SRVP's `test.py` computes it: per test clip the best of 100 samples, chosen
separately for each metric by its average over the predicted frames; PSNR per channel and then
averaged; the mean over clips and predicted frames. vgen's results.json holds the per-step mean
over clips of that best sample, so the run's figure is the mean of `<metric>.best` over steps.
FVD is the run's "random" set (one sample per clip), as the paper's FVD is of samples, not of
the best ones. The paper gives 95 % intervals over clips; results.json keeps no per-clip
values, so the run's figures come without one.
"""

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from vgen.errors import ArgumentParser

# Source: SRVP (Franceschi et al., ICML 2020), Tables for SM-MNIST, KTH and BAIR, read here as
# reproduced in SLAMP (Akan et al., ICCV 2021, Tables 1 and 4-6; numbers supplied by the SRVP
# authors) and in edouardelasalles/srvp issue #6; the SRVP paper itself was not readable
# offline. None: not reported (SRVP gives no LPIPS or FVD on SM-MNIST) or not settled (SRVP's
# own BAIR FVD is 162 in one copy and 163 in the other).
PUBLISHED: dict[str, dict[str, Any]] = {
    "kth": {
        "protocol": dict(
            dataset="kth",
            resolution=64,
            context_frames=10,
            predict_frames=30,
            test_clips="srvp",
            psnr_per_channel=True,
        ),
        "num_clips": 1000,
        "rows": {
            "SVG-LP (as SRVP reports it)": dict(psnr=28.06, ssim=0.8438, lpips=0.0923, fvd=377),
            "SRVP": dict(psnr=29.69, ssim=0.8697, lpips=0.0736, fvd=222),
        },
    },
    "bair": {
        "protocol": dict(
            dataset="bair",
            resolution=64,
            context_frames=2,
            predict_frames=28,
            psnr_per_channel=True,
        ),
        "num_clips": 256,
        "rows": {
            "SVG-LP (as SRVP reports it)": dict(psnr=18.95, ssim=0.8058, lpips=0.0609, fvd=255),
            "SRVP": dict(psnr=19.59, ssim=0.8196, lpips=0.0574, fvd=None),
        },
    },
    "smmnist": {
        "protocol": dict(
            dataset="moving_mnist",
            resolution=64,
            context_frames=5,
            predict_frames=20,
            stochastic=True,
            num_digits=2,
            psnr_per_channel=True,
        ),
        "num_clips": 5000,
        "rows": {
            "SVG-LP (as SRVP reports it)": dict(psnr=14.50, ssim=0.7090, lpips=None, fvd=None),
            "SRVP": dict(psnr=16.93, ssim=0.7799, lpips=None, fvd=None),
        },
    },
}
NUM_SAMPLES = 100
METRICS = ("psnr", "ssim", "lpips", "fvd")


class ReportError(Exception):
    """The run cannot be reported: no results, or a dataset without published numbers."""


def published_for(protocol: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The PUBLISHED entry (name, entry) of a results.json "protocol"; ReportError if none."""
    dataset = protocol.get("dataset")
    if dataset == "moving_mnist" and not protocol.get("stochastic", False):
        raise ReportError("SRVP publishes Stochastic Moving MNIST only; this run is deterministic")
    for name, entry in PUBLISHED.items():
        if entry["protocol"]["dataset"] == dataset:
            return name, entry
    known = ", ".join(e["protocol"]["dataset"] for e in PUBLISHED.values())
    raise ReportError(f"no published numbers for dataset {dataset!r}; known: {known}")


def run_scores(results: dict[str, Any]) -> dict[str, float | None]:
    """The run's figure per metric: the mean over predicted steps of `best` (FVD: "random")."""
    out = {}
    for metric in ("psnr", "ssim", "lpips"):
        best = results.get(metric, {}).get("best")
        out[metric] = sum(best) / len(best) if best else None
    out["fvd"] = results.get("fvd", {}).get("random")
    return out


def differences(results: dict[str, Any], entry: dict[str, Any]) -> list[str]:
    """Each way the run's protocol differs from the published one, as a line."""
    run = results.get("protocol", {})
    lines = [
        f"{key}: {run.get(key, 'not recorded')!r} here, {want!r} published"
        for key, want in entry["protocol"].items()
        if run.get(key) != want
    ]
    for key, want in (("num_samples", NUM_SAMPLES), ("num_clips", entry["num_clips"])):
        if results.get(key) != want:
            lines.append(f"{key}: {results.get(key)!r} here, {want!r} published")
    return lines


DIGITS = {"psnr": 2, "ssim": 4, "lpips": 4, "fvd": 0}


def _cell(value: float | None, metric: str) -> str:
    return "—" if value is None else f"{value:.{DIGITS[metric]}f}"


def format_report(results: dict[str, Any]) -> str:
    """The table (rows: this run and each published model; columns: METRICS) and the protocol
    differences, as text."""
    if "protocol" not in results:
        raise ReportError("results.json records no protocol (scored by an older vgen); score again")
    name, entry = published_for(results["protocol"])
    rows = {f"this run (step {results.get('step', '?')})": run_scores(results), **entry["rows"]}
    width = max(len(r) for r in rows)
    head = f"{name}: best of {NUM_SAMPLES} (PSNR, SSIM: higher is better; LPIPS, FVD: lower)"
    lines = [head, f"{'':{width}}  " + "  ".join(f"{m.upper():>8}" for m in METRICS)]
    for row, scores in rows.items():
        cells = "  ".join(f"{_cell(scores.get(m), m):>8}" for m in METRICS)
        lines.append(f"{row:{width}}  {cells}")
    diffs = differences(results, entry)
    if diffs:
        lines.append("Not comparable as is, the protocol differs:")
        lines += [f"  {d}" for d in diffs]
    else:
        lines.append("Protocol: as published (SRVP's test.py).")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m vgen.report", description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", required=True, help="a run scored with --mode eval")
    args = parser.parse_args(argv)
    path = os.path.join(os.path.expanduser(args.workdir), "eval", "results.json")
    try:
        if not os.path.isfile(path):
            raise ReportError(f"no {path}; score the run first with --mode eval")
        try:
            with open(path) as f:
                results = json.load(f)
        except (OSError, ValueError) as e:
            raise ReportError(f"cannot read {path}: {e}") from e
        if not isinstance(results, dict):
            raise ReportError(f"{path} is not a results object")
        print(format_report(results))
    except ReportError as e:
        print(f"vgen: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
