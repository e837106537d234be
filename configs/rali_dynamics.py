"""RALI on the embedded Dynamics data (32×32): whole clips generated from noise (CPU-sized).

    python -m vgen.main --config=configs/rali_dynamics.py --workdir=runs/rali_dynamics
    --config=configs/rali_dynamics.py:sequence   # one z_t per frame (Fig. 6.3)
    --config=configs/rali_dynamics.py:tiny       # test-sized (also tiny,sequence)
Clips of 8 frames (1 context frame for the generic sample grids + 7), convs down to 8×8, one
ConvLSTM layer of 32 features; z of 32 per clip ("single", the default) or 8 per frame.
3000 steps of batch 32: a few seconds a step on 2 shared CPU cores (about 2-3 hours).
"""

from vgen import config_lib
from vgen.methods import rali


def get_config(arg: str | None = None):
    args = config_lib.parse_arg(arg, tiny=False, sequence=False)
    config = rali.default_config()
    config_lib.set_data(
        config,
        "dynamics",
        resolution=32,
        context_frames=1,
        predict_frames=7,
        train_per_class=1000,
        val_per_class=50,
        test_per_class=50,
    )

    m = config.model
    m.latent = "sequence" if args.sequence else "single"
    m.z_dim = 8 if args.sequence else 32
    m.num_frames = 8
    m.mlp_hidden = 64
    m.channels = 16
    m.lstm_size = 8
    m.lstm_features = 32
    m.lstm_layers = 1

    config.train.num_steps = 3000
    config.train.batch_size = 32
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    config.eval.num_clips = 64
    config.eval.num_samples = 4

    if args.tiny:
        config_lib.shrink(
            config,
            data=dict(
                resolution=16,
                predict_frames=3,
                train_per_class=4,
                val_per_class=2,
                test_per_class=2,
            ),
            model=rali.TINY_MODEL,
            train=dict(sample_every=4),  # samples and figures once, at the end
            eval=dict(num_samples=2),
        )
    return config
