"""ALI on frames of the embedded Dynamics data (32×32): samples, reconstructions, interpolations.

    python -m vgen.main --config=configs/ali_dynamics.py --workdir=runs/ali_dynamics
    --config=configs/ali_dynamics.py:conditional   # conditional ALI on the class label (Eq. 4.7)
    --config=configs/ali_dynamics.py:tiny          # test-sized
Each step trains on one random frame of every clip. The Dynamics class is the motion only, so
one frame says little about it: the conditional variant mostly shows the mechanics (its samples
differ by class only through where each kind of path puts the object).
"""

from vgen import config_lib
from vgen.data.dynamics import NUM_CLASSES
from vgen.methods import ali


def get_config(arg: str | None = None):
    args = config_lib.parse_arg(arg, tiny=False, conditional=False)
    config = ali.default_config()
    config_lib.set_data(
        config,
        "dynamics",
        resolution=32,
        context_frames=1,
        predict_frames=7,  # 8 frames per clip to draw training frames from
        train_per_class=1000,
        val_per_class=50,
        test_per_class=50,
    )

    config.model.channels = 32
    config.model.z_dim = 64
    config.model.num_classes = NUM_CLASSES if args.conditional else 0

    config.train.num_steps = 10_000
    config.train.batch_size = 64
    config.train.log_every = 100
    config.train.sample_every = 1000
    config.train.checkpoint_every = 1000
    config.eval.num_clips = 64
    config.eval.num_samples = 4

    if args.tiny:
        config_lib.shrink(
            config,
            data=dict(
                resolution=16,
                predict_frames=2,
                train_per_class=4,
                val_per_class=2,
                test_per_class=2,
            ),
            model=ali.TINY_MODEL,
            eval=dict(num_samples=2),
        )
    return config
