"""FF-GAN on KTH, the thesis setting (6.3.3): 120×120 grayscale frames, flow applied at 30×30.

    python -m vgen.main --config=configs/ffgan_kth.py --workdir=runs/ffgan_kth
    --config=configs/ffgan_kth.py:64      # KTH at 64×64 (flow at 16×16)
    --config=configs/ffgan_kth.py:tiny    # test-sized
KTH must be prepared first (see README, "Datasets").
"""

from vgen import config_lib
from vgen.methods import ffgan


def get_config(arg: str | None = None):
    args = config_lib.parse_arg(arg, tiny=False, **{"64": False})
    config = ffgan.default_config()
    config_lib.set_data(
        config,
        "kth",
        data_dir="~/tensorflow_datasets",
        resolution=64 if args["64"] else 120,
        person_split="svg",  # train persons 1-20, test 21-25 ("mcnet": 1-16 / 17-25)
        # Thesis Fig. 6.9: two real frames, then closed loop for 5 frames, then free running.
        context_frames=2,
        predict_frames=10,
    )
    config.train.closed_loop_frames = 5

    config.model.channels = 64
    config.model.fixel_channels = 128
    config.model.flow_downsample = 4
    config.model.disc_channels = 64

    config.train.num_steps = 100_000
    config.train.batch_size = 16
    config.train.checkpoint_every = 2000
    config.train.log_every = 100
    config.train.sample_every = 2000
    config.train.curriculum_every = 5000
    config.eval.num_clips = 256
    config.eval.num_samples = 100

    # LPIPS (AlexNet) per step and FVD next to PSNR and SSIM, as SRVP's evaluation reports them.
    config.eval.lpips = "alexnet"
    config.eval.fvd = True

    if args.tiny:
        config.eval.lpips, config.eval.fvd = "", False  # test-sized: no perceptual scores
        config_lib.shrink(
            config,
            data=dict(resolution=16, predict_frames=3),
            model=ffgan.TINY_MODEL,
            train=dict(batch_size=2),
        )
    return config
