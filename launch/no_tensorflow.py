"""`python -m vgen.main` on a machine without TensorFlow (a bare GPU image, say).

    python launch/no_tensorflow.py --config=configs/svg_lp_dynamics.py --workdir=runs/x

clu's metric writers import TensorFlow for their TensorBoard writer; vgen needs TensorFlow for
nothing else on Dynamics, Moving MNIST and MNIST. Here clu gets a TensorBoard writer that cannot
be built and every run logs its metrics only (no event files); checkpoints, samples, eval and
results.json are as with `vgen.main`.
"""

import runpy
import sys
import types


def without_tensorboard_writer() -> None:
    """Makes clu.metric_writers importable without TensorFlow, with logging-only writers."""
    stub = types.ModuleType("clu.metric_writers.summary_writer")

    class SummaryWriter:  # what clu's create_default_writer would build with TensorFlow
        def __init__(self, *args, **kwargs):
            raise RuntimeError("TensorBoard writer needs tensorflow, which is not installed")

    stub.SummaryWriter = SummaryWriter
    sys.modules["clu.metric_writers.summary_writer"] = stub
    from clu import metric_writers

    create = metric_writers.create_default_writer

    def logging_writer(logdir=None, *, just_logging=False, **kwargs):
        return create(logdir, just_logging=True, **kwargs)

    metric_writers.create_default_writer = logging_writer


if __name__ == "__main__":
    without_tensorboard_writer()
    runpy.run_module("vgen.main", run_name="__main__", alter_sys=True)
