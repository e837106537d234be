"""SVG-FP on KTH at 64×64 (Denton & Fergus 2018): the fixed prior N(0, I), as the edenton/svg
README's 64×64 KTH command (train_svg_fp.py). Everything else is configs/svg_lp_kth.py.

    python -m vgen.main --config=configs/svg_fp_kth.py --workdir=runs/svg_fp_kth
    --config=configs/svg_fp_kth.py:tiny    # test-sized
"""

import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "svg_lp_kth", os.path.join(os.path.dirname(os.path.abspath(__file__)), "svg_lp_kth.py")
)
_lp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_lp)


def get_config(arg: str | None = None):
    return _lp.get_config(arg, prior="fixed")
