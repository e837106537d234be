"""RALI on KTH at 64×64, the thesis setting (6.2.1): whole grayscale clips generated from noise.

    python -m vgen.main --config=configs/rali_kth.py --workdir=runs/rali_kth
    --config=configs/rali_kth.py:sequence   # one z_t per frame (Fig. 6.3), not one z (Fig. 6.4)
    --config=configs/rali_kth.py:tiny       # test-sized
KTH must be prepared first (see README, "Datasets").

The thesis states only the data (KTH downsampled to 64×64) and the structure (ConvLSTM encoder,
decoder and discriminator; "single" z through an MLP shared across time). Chosen here: clips of
16 frames (1 context frame for the generic sample grids + 15), convs down to 8×8, two ConvLSTM
layers of 128 features there, z of 128 per clip ("single") or 32 per frame ("sequence"), ALI's
optimiser (Adam 1e-4, β1 0.5), batch 32.
"""

from vgen import config_lib
from vgen.methods import rali


def get_config(arg: str | None = None):
    args = config_lib.parse_arg(arg, tiny=False, sequence=False)
    config = rali.default_config()
    config_lib.set_data(
        config,
        "kth",
        data_dir="~/tensorflow_datasets",
        resolution=64,
        person_split="svg",  # train persons 1-20, test 21-25
        context_frames=1,
        predict_frames=15,
    )

    m = config.model
    m.latent = "sequence" if args.sequence else "single"
    m.z_dim = 32 if args.sequence else 128
    m.num_frames = 16
    m.mlp_hidden = 256
    m.channels = 32
    m.lstm_size = 8
    m.lstm_features = 128
    m.lstm_layers = 2

    config.train.num_steps = 50_000
    config.train.batch_size = 32
    config.train.log_every = 100
    config.train.sample_every = 2000
    config.train.checkpoint_every = 2000
    config.eval.num_clips = 256
    config.eval.num_samples = 10

    if args.tiny:
        config_lib.shrink(
            config,
            data=dict(resolution=16, predict_frames=3),
            model=rali.TINY_MODEL,
            train=dict(batch_size=2),
            eval=dict(num_clips=2, num_samples=2),
        )
    return config
