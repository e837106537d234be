"""Method-II (the multimodal VAE with a discriminator per modality and the reconstruction in its
features) on the embedded Dynamics data: configs/mvae1_dynamics.py plus the discriminators.

    python -m vgen.main --config=configs/mvae2_dynamics.py --workdir=runs/mvae2_dynamics
    --config=configs/mvae2_dynamics.py:tiny    # test-sized

The feature log-likelihood is summed over the discriminator's features (VAE-GAN's L_like), so
the KL is not down-weighted: β = 1, annealed from 0 as in Method-I.
"""

import os

from vgen import config_lib


def get_config(arg: str | None = None):
    here = os.path.dirname(os.path.abspath(__file__))
    config = config_lib.load_config_file(os.path.join(here, "mvae1_dynamics.py"), arg)
    config.model.reconstruction = "discriminator"
    config.model.disc_channels = 8
    config.model.disc_hidden = 128
    config.train.beta = 1.0
    if config_lib.parse_arg(arg, tiny=False).tiny:  # on top of the Method-I file's :tiny
        tiny_disc = dict(disc_channels=2, disc_num_down=2, disc_hidden=4, like_layer=2)
        config_lib.update(config.model, "model", tiny_disc)
    return config
