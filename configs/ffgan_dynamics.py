"""FF-GAN on the embedded Dynamics data: the quickstart's model and losses on the thesis's
training split, trained longer (4,000 steps, ~21 min on a 2-core CPU; scored on 256 clips, best of
100).

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
    config.train.num_steps = 4000  # ~21 min at 3.3 steps/s on this 2-core CPU
    config.train.checkpoint_every = 1000
    config.train.sample_every = 1000
    config.train.curriculum_every = 500
    config.eval.num_clips = 256
    config.eval.num_samples = 100  # best of 100, as SVG's evaluation
    return config
