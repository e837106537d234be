"""SVG-FP on KTH at 64×64 (Denton & Fergus 2018): the fixed prior N(0, I), as the edenton/svg
README's 64×64 KTH command (train_svg_fp.py). Everything else is configs/svg_lp_kth.py.

    python -m vgen.main --config=configs/svg_fp_kth.py --workdir=runs/svg_fp_kth
    --config=configs/svg_fp_kth.py:tiny    # test-sized
"""

import os

from vgen import config_lib


def get_config(arg: str | None = None):
    here = os.path.dirname(os.path.abspath(__file__))
    config = config_lib.load_config_file(os.path.join(here, "svg_lp_kth.py"), arg)
    config.model.prior = "fixed"
    return config
