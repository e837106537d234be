"""FF-GAN on the embedded Dynamics data, trained long enough to carry the object (<= 60 min on a
2-core CPU): the quickstart's model and losses, trained for longer.

python -m vgen.main --config=configs/ffgan_dynamics.py --workdir=runs/ffgan_dynamics
python -m vgen.main --config=configs/ffgan_dynamics.py:tiny ...   # the test-sized variant
"""

import os

from vgen import config_lib


def get_config(arg: str | None = None):
    here = os.path.dirname(os.path.abspath(__file__))
    config = config_lib.load_config_file(os.path.join(here, "quickstart.py"), arg)
    if config_lib.parse_arg(arg, tiny=False).tiny:
        return config
    config.data.train_per_class = 5000  # the thesis's training split (5.2)
    config.train.num_steps = 6000
    config.train.checkpoint_every = 1000
    config.train.sample_every = 1000
    config.train.curriculum_every = 500
    config.eval.num_clips = 256
    config.eval.num_samples = 100  # best of 100, as SVG's evaluation
    return config
