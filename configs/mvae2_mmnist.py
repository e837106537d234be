"""Method-II (the multimodal VAE with a discriminator per modality and the reconstruction in its
features) on Moving MNIST: configs/mvae1_mmnist.py plus VAE-GAN's discriminators (the paper's
widths: 32 channels, 3 stride-2 layers, 512 hidden units, Dis_l = the fourth conv).

    python -m vgen.main --config=configs/mvae2_mmnist.py --workdir=runs/mvae2_mmnist
    --config=configs/mvae2_mmnist.py:tiny    # test-sized

The feature log-likelihood is summed over the discriminator's features (VAE-GAN's L_like), so
the KL is not down-weighted: β = 1, annealed from 0 as in Method-I.
"""

import os

from vgen import config_lib


def get_config(arg: str | None = None):
    here = os.path.dirname(os.path.abspath(__file__))
    config = config_lib.load_config_file(os.path.join(here, "mvae1_mmnist.py"), arg)
    config.model.reconstruction = "discriminator"
    config.train.beta = 1.0
    if config_lib.parse_arg(arg, tiny=False).tiny:  # on top of the Method-I file's :tiny
        tiny_disc = dict(disc_channels=2, disc_num_down=2, disc_hidden=4, like_layer=2)
        config_lib.update(config.model, "model", tiny_disc)
    return config
