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
    config_lib.set_data(config, "dynamics")
    config.data.resolution = 32
    config.data.context_frames = 1
    config.data.predict_frames = 7  # 8 frames per clip to draw training frames from
    config.data.train_per_class = 1000
    config.data.val_per_class = 50
    config.data.test_per_class = 50

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
        config.data.resolution = 16
        config.data.predict_frames = 2
        config.data.train_per_class = 4
        config.data.val_per_class = 2
        config.data.test_per_class = 2
        config.model.channels = 4
        config.model.z_dim = 4
        config.model.embed_dim = 4
        config.train.num_steps = 4
        config.train.batch_size = 4
        config.train.log_every = 2
        config.train.sample_every = 2
        config.train.checkpoint_every = 2
        config.eval.num_clips = 4
        config.eval.num_samples = 2
        config.eval.batch_size = 2
        config.eval.sample_chunk = 2
    return config
