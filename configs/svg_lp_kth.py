"""SVG-LP on KTH at 64×64 (Denton & Fergus 2018), trained 10 -> 10 frames.

    python -m vgen.main --config=configs/svg_lp_kth.py --workdir=runs/svg_lp_kth
    --config=configs/svg_lp_kth.py:tiny    # test-sized
KTH must be prepared first (see README, "Datasets").

Sources: edenton/svg README (the 64×64 KTH command: VGG, g_dim 128, z_dim 24, β 1e-6, lr 8e-4,
10 past / 10 future, 1 channel; it is given for SVG-FP, and the same settings are used here for
SVG-LP); train_svg_lp.py defaults (rnn_size 256, predictor 2 layers, posterior and prior 1 layer,
Adam β1 0.9, batch 100, 300 epochs of 600 steps). Evaluation: 30 predicted frames after 10 (the
SRVP protocol, Franceschi et al. 2020), in `eval.predict_frames`.
"""

from vgen import config_lib
from vgen.methods import svg


def get_config(arg: str | None = None):
    args = config_lib.parse_arg(arg, tiny=False)
    config = svg.default_config()
    config_lib.set_data(
        config,
        "kth",
        data_dir="~/tensorflow_datasets",
        resolution=64,
        context_frames=10,
        predict_frames=10,  # training length (SVG n_future)
        test_clips="srvp",  # SRVP's 1,000 test clips (preprocessing/kth/make_test_set.py)
    )

    config.model.prior = "learned"
    config.model.arch = "vgg"
    config.model.channels = 64
    config.model.g_dim = 128
    config.model.z_dim = 24
    config.model.rnn_size = 256

    config.optim.model.lr = 8e-4
    config.train.beta = 1e-6
    config.train.batch_size = 100
    config.train.steps_per_epoch = 600
    config.train.num_steps = 300 * 600
    config.train.checkpoint_every = 5000
    config.train.log_every = 600
    config.train.sample_every = 6000

    # The SRVP protocol: its 1,000 fixed test clips (data.test_clips), 10 -> 30, best of 100.
    config.eval.predict_frames = 30
    config.eval.num_clips = 1000
    config.eval.num_samples = 100

    # LPIPS (AlexNet) per step and FVD next to PSNR and SSIM, as SRVP's evaluation reports them.
    config.eval.lpips = "alexnet"
    config.eval.fvd = True
    config.eval.psnr_per_channel = True  # SRVP's PSNR: per channel, averaged
    config.eval.fvd_window = 0  # SRVP embeds whole clips (context and prediction) in one I3D pass

    if args.tiny:
        config.eval.lpips, config.eval.fvd = "", False  # test-sized: no perceptual scores
        config.data.test_clips = "seeded"  # test-sized data lack most of SRVP's test videos
        config_lib.shrink(
            config,
            data=dict(resolution=16, context_frames=2, predict_frames=3),
            model=svg.TINY_MODEL,
            train=dict(batch_size=2, steps_per_epoch=1),
            eval=dict(predict_frames=3, num_clips=2, num_samples=2),
        )
    return config
