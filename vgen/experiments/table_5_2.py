"""Thesis Table 5.2: the Dynamics classifiers' train and validation error, next to the thesis's.

    python -m vgen.experiments.table_5_2 --outdir=runs/table_5_2 [--steps=N] [--archs=a,b]
    python -m vgen.experiments.table_5_2 --outdir=/tmp/t --tiny     # test-sized

Trains `configs/classifier_dynamics.py` once per architecture (each in <outdir>/<arch>, resumed
if already there), scores it with `--mode eval`'s classification evaluator and prints the table;
<outdir>/table_5_2.json holds it. The thesis's errors are on its train and validation sets
("trained one or two times ... no hyperparameter search"). Two-stream is the temporal stream
alone, as the thesis's row; its optical flows are computed once and cached
(`vgen.data.optical_flow`; ~2 min for the 50,000 training clips on a 2-core CPU).
"""

import json
import os
import sys
from collections.abc import Sequence

from absl import app, flags

from vgen import config_lib
from vgen.errors import VgenError
from vgen.nn.classifier_nets import ARCHS

# Table 5.2, classification error in % (train, validation).
THESIS = {
    "two_stream": ("Two-Streams", 90.0, 88.0),
    "relation": ("RelationNetwork", 0.2, 74.0),
    "convlstm": ("ConvLSTM", 0.2, 72.0),
    "conv3d": ("Conv3D", 0.3, 40.0),
    "conv3d_convlstm": ("Conv3D + ConvLSTM", 0.3, 36.0),
}

FLAGS = flags.FLAGS
flags.DEFINE_string("outdir", None, "Where each architecture's run and table_5_2.json go.")
flags.DEFINE_list("archs", list(ARCHS), f"Architectures to train, of {', '.join(ARCHS)}.")
flags.DEFINE_integer("steps", 0, "Training steps per architecture (0: the config's).")
flags.DEFINE_boolean("tiny", False, "The config's :tiny variant (tests).")


def run_arch(arch: str, outdir: str, steps: int, tiny: bool) -> dict:
    """Trains (or resumes) and scores one architecture; its errors in %."""
    from vgen import evaluate, train  # TensorFlow (via TFDS) loads only once the flags are good

    config = config_lib.load_config_file(
        config_lib.config_path("classifier_dynamics.py"), "tiny" if tiny else None
    )
    config.model.arch = arch
    if steps:
        config.train.num_steps = steps
    workdir = os.path.join(outdir, arch)
    train.train_and_evaluate(config, workdir)
    errors = evaluate.evaluate(config, workdir)["classification"]["error"]
    return {split: 100.0 * e for split, e in errors.items()}


def format_table(ours: dict[str, dict]) -> str:
    """The thesis's rows in its order, with our train / val / test errors where we ran one."""
    lines = [
        f"{'model':<20}{'thesis train':>13}{'thesis val':>11}{'train':>8}{'val':>8}{'test':>8}"
    ]
    for arch, (name, train_err, val_err) in THESIS.items():
        row = ours.get(arch)
        cells = [f"{row[s]:>8.1f}" for s in ("train", "val", "test")] if row else [f"{'—':>8}"] * 3
        lines.append(f"{name:<20}{train_err:>13.1f}{val_err:>11.1f}" + "".join(cells))
    return "\n".join(lines)


def main(argv: Sequence[str]) -> None:
    del argv
    unknown = sorted(set(FLAGS.archs) - set(ARCHS))
    if not FLAGS.outdir or unknown:
        why = "--outdir is required" if not FLAGS.outdir else f"unknown --archs {unknown}"
        print(f"vgen: error: {why}; architectures: {', '.join(ARCHS)}", file=sys.stderr)
        sys.exit(2)
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # as vgen.main: no oneDNN notice
    ours = {}
    try:
        for arch in FLAGS.archs:
            ours[arch] = run_arch(arch, FLAGS.outdir, FLAGS.steps, FLAGS.tiny)
    except VgenError as e:
        print(f"vgen: error: {e}", file=sys.stderr)
        sys.exit(2)
    table = format_table(ours)
    with open(os.path.join(FLAGS.outdir, "table_5_2.json"), "w") as f:
        json.dump({"ours_percent": ours, "thesis_percent": THESIS}, f, indent=2)
    print("Classification error (%) on Dynamics (thesis Table 5.2 | this run)")
    print(table)


if __name__ == "__main__":
    app.run(main)
