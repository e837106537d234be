"""VAE-GAN (Larsen et al. 2016) on frames of the embedded Dynamics data (32×32): prior samples
and reconstructions through the discriminator's learned similarity metric.

    python -m vgen.main --config=configs/vaegan_dynamics.py --workdir=runs/vaegan_dynamics
    --config=configs/vaegan_dynamics.py:tiny          # test-sized
Each step trains on one random frame of every clip. The default is sized for a CPU: a quarter of
the paper's widths, batch 32 and a few thousand steps.
"""

from vgen import config_lib
from vgen.methods import vaegan


def get_config(arg: str | None = None):
    args = config_lib.parse_arg(arg, tiny=False)
    config = vaegan.default_config()
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

    config.model.channels = 8
    config.model.z_dim = 32
    config.model.enc_hidden = 256
    config.model.disc_hidden = 128

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
                predict_frames=2,
                train_per_class=4,
                val_per_class=2,
                test_per_class=2,
            ),
            model=dict(channels=4, z_dim=4, enc_hidden=16, disc_hidden=16),
            eval=dict(num_samples=2),
        )
    return config
