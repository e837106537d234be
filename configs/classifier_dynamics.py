"""A motion classifier on the embedded Dynamics data (thesis 5.2.2, Table 5.2): 10 classes from
whole 32×32 clips of 8 frames (the predictors' 2 context + 6 predicted, so a trained classifier
reads the same clips a predictor makes).

python -m vgen.main --config=configs/classifier_dynamics.py --workdir=runs/classifier_dynamics
python -m vgen.main --config=configs/classifier_dynamics.py --config.model.arch=conv3d ...
python -m vgen.main --config=configs/classifier_dynamics.py:tiny ...   # the test-sized variant

model.arch: conv3d_convlstm (Table 5.2's best, the default), conv3d, convlstm, relation,
two_stream (on cached optical flow; model.spatial_stream=True adds the spatial stream). The
thesis's split sizes (5,000 / 500 / 500 clips per class). The step count is a first choice,
not yet measured against the thesis's table.
"""

from vgen import config_lib
from vgen.methods import classifier


def get_config(arg: str | None = None):
    args = config_lib.parse_arg(arg, tiny=False)
    config = classifier.default_config()
    config.seed = 0
    config_lib.set_data(
        config,
        "dynamics",
        resolution=32,
        context_frames=2,
        predict_frames=6,
        train_per_class=5000,
        val_per_class=500,
        test_per_class=500,
    )
    config.train.num_steps = 3000
    config.train.batch_size = 32
    config.train.checkpoint_every = 500
    config.train.log_every = 100
    config.train.sample_every = 1000
    config.eval.num_clips = 5000  # all of val and test; the first 5,000 training clips
    config.eval.batch_size = 100

    if args.tiny:
        config_lib.shrink(
            config,
            data=dict(
                resolution=16,
                predict_frames=3,
                train_per_class=8,
                val_per_class=2,
                test_per_class=2,
            ),
            model=classifier.TINY_MODEL,
            eval=dict(num_clips=20, batch_size=4),
        )
    return config
