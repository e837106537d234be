"""SVG-LP on BAIR robot pushing (64×64, RGB), 2 -> 10 frames, conditioned on the action (4-d)
and end-effector position (3-d) of every frame: the conditional VAE of the lab report, with a
learned prior.

    python -m vgen.main --config=configs/svg_lp_bair.py --workdir=runs/svg_lp_bair
    --config=configs/svg_lp_bair.py:tiny    # test-sized

Sources: edenton/svg README (BAIR command: VGG, g_dim 128, z_dim 64, β 1e-4, 2 past / 10
future, 3 channels) and train_svg_lp.py defaults (lr 2e-3, Adam β1 0.9, batch 100, rnn_size 256,
predictor 2 layers, posterior and prior 1 layer, 300 epochs of 600 steps); generate_svg_lp.py
evaluates 28 predicted frames (also the SRVP protocol), in `eval.predict_frames`.
The lab report: condition = action + position concatenated into the predictor input (cond_dim
7); cyclical KL annealing with 3 cycles, ratio 0.5 (here on top of SVG's β); teacher forcing
ratio 1.0 for 11 epochs, then down linearly to 0 by the last epoch (decay 1 / (niter - 11 - 1)).
Sampling needs the future condition: `sample` takes context = {"video", "cond"}.
"""

from vgen import config_lib
from vgen.methods import svg

EPOCHS = 300


def get_config(arg: str | None = None):
    args = config_lib.parse_arg(arg, tiny=False)
    config = svg.default_config()
    config_lib.set_data(
        config,
        "bair",
        data_dir="~/tensorflow_datasets",
        resolution=64,
        context_frames=2,
        predict_frames=10,
    )

    config.model.prior = "learned"
    config.model.arch = "vgg"
    config.model.channels = 64
    config.model.g_dim = 128
    config.model.z_dim = 64
    config.model.rnn_size = 256
    config.model.cond_dim = 7

    config.optim.model.lr = 2e-3
    config.train.beta = 1e-4
    config.train.batch_size = 100
    config.train.steps_per_epoch = 600
    config.train.num_steps = EPOCHS * 600
    config.train.kl_schedule = "cyclical"
    config.train.kl_cycles = 3
    config.train.kl_ratio = 0.5
    config.train.tf_init = 1.0
    config.train.tf_start = 11
    config.train.tf_decay = 1.0 / (EPOCHS - 11 - 1)
    config.train.tf_lower_bound = 0.0
    config.train.checkpoint_every = 5000
    config.train.log_every = 600
    config.train.sample_every = 6000

    # Scored on 2 -> 28 (the SVG / SRVP BAIR protocol); trained on data.predict_frames. The 256
    # clips are the whole test split, each 30-frame episode once, as in SVG's and SRVP's tests.
    config.eval.predict_frames = 28
    config.eval.num_clips = 256
    config.eval.num_samples = 100

    # LPIPS (AlexNet) per step and FVD next to PSNR and SSIM, as SRVP's evaluation reports them.
    config.eval.lpips = "alexnet"
    config.eval.fvd = True
    config.eval.psnr_per_channel = True  # SRVP's PSNR: per channel, averaged
    config.eval.fvd_window = 0  # SRVP embeds whole clips (context and prediction) in one I3D pass

    if args.tiny:  # BAIR frames are 64×64 only
        config.eval.lpips, config.eval.fvd = "", False  # test-sized: no perceptual scores
        config_lib.shrink(
            config,
            data=dict(predict_frames=3),
            model=svg.TINY_MODEL,
            train=dict(batch_size=2, steps_per_epoch=1, tf_start=1, tf_decay=0.5),
            eval=dict(predict_frames=3, num_clips=2, num_samples=2),
        )
    return config
