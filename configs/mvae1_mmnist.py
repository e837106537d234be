"""Method-I (the multimodal VAE over frames x_{t-1}, x_t) on Moving MNIST, the slides' setting.

    python -m vgen.main --config=configs/mvae1_mmnist.py --workdir=runs/mvae1_mmnist
    --config=configs/mvae1_mmnist.py:tiny    # test-sized

Two digits at 64×64, 5 context -> 10 predicted frames (scored 5 -> 20 as SVG on SM-MNIST).
The slides took "model parameters similar to those used in the Wu paper": Adam 1e-3, β annealed
from 0, λ = 1, batch 100; the frame networks are SVG's DCGAN-64 (g_dim 128), z_dim 64 as the
MVAE's image experts. configs/mvae2_mmnist.py is Method-II on the same settings.
"""

from vgen import config_lib
from vgen.methods import mvae


def get_config(arg: str | None = None):
    args = config_lib.parse_arg(arg, tiny=False)
    config = mvae.default_config()
    config_lib.set_data(
        config, "moving_mnist", num_digits=2, resolution=64, context_frames=5, predict_frames=10
    )

    config.model.arch = "dcgan"
    config.model.channels = 64
    config.model.g_dim = 128
    config.model.z_dim = 64
    config.model.rnn_size = 256

    config.train.batch_size = 100
    config.train.steps_per_epoch = 600
    config.train.num_steps = 100 * 600
    config.train.checkpoint_every = 5000
    config.train.log_every = 600
    config.train.sample_every = 6000

    config.eval.predict_frames = 20
    config.eval.num_clips = 256
    config.eval.num_samples = 100

    if args.tiny:
        config_lib.shrink(
            config,
            # resolution 32: must exceed the 28×28 digits
            data=dict(resolution=32, context_frames=2, predict_frames=3),
            model=dict(channels=4, g_dim=8, z_dim=2, rnn_size=8),
            train=dict(batch_size=2, steps_per_epoch=1),
            eval=dict(predict_frames=3, num_clips=2, num_samples=2),
        )
    return config
