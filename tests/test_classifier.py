"""The Dynamics classifiers (thesis 5.2.2): shapes, learning, the classification evaluator."""

import functools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from helpers import load_config, run_python, vgen_main

from vgen import evaluate, train
from vgen.data.optical_flow import farneback
from vgen.errors import ConfigError
from vgen.evaluators.classification import confusion
from vgen.methods import classifier
from vgen.nn.classifier_nets import ARCHS, VideoClassifier
from vgen.ops.feature_flow import neighbours


def _clips(n: int = 8, t: int = 5, r: int = 16, seed: int = 0):
    """Clips whose class is the direction a bright square moves (4 classes), on noise."""
    rng = np.random.default_rng(seed)
    video = 0.1 * rng.random((n, t, r, r, 3), np.float32)
    labels = np.arange(n) % 4
    steps = [(0, 1), (0, -1), (1, 0), (-1, 0)]
    for i, label in enumerate(labels):
        y, x = 6, 6
        for s in range(t):
            dy, dx = steps[label]
            video[i, s, y + dy * s : y + dy * s + 4, x + dx * s : x + dx * s + 4] = 1.0
    return jnp.asarray(video), jnp.asarray(labels)


@pytest.mark.parametrize("arch", [*ARCHS, "two_stream+spatial"])
def test_each_arch_gives_logits_and_learns_a_batch(arch):
    video, labels = _clips()
    spatial = arch.endswith("+spatial")
    net = VideoClassifier(
        arch=arch.split("+")[0], num_classes=4, channels=4, spatial_stream=spatial
    )
    inputs = (video, jnp.asarray(farneback(np.asarray(video)))) if "two" in arch else (video,)
    params = net.init(jax.random.key(0), *inputs)["params"]
    assert net.apply({"params": params}, *inputs).shape == (8, 4)
    tx = optax.adam(3e-3)

    @jax.jit
    def step(params, opt_state):
        loss_fn = lambda p: optax.softmax_cross_entropy_with_integer_labels(
            net.apply({"params": p}, *inputs), labels
        ).mean()
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, loss

    opt_state, losses = tx.init(params), []
    for _ in range(30):
        params, opt_state, loss = step(params, opt_state)
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0], (arch, losses[0], losses[-1])


def test_neighbours_are_the_flow_targets():
    x = jax.random.normal(jax.random.key(0), (1, 5, 5, 2))
    near = neighbours(x, 3)
    assert near.shape == (1, 5, 5, 9, 2)
    # channel (k+1)*3 + (l+1) holds x[i+k, j+l]; off the grid it is zero
    np.testing.assert_array_equal(near[0, 2, 2, 0], x[0, 1, 1])
    np.testing.assert_array_equal(near[0, 2, 2, 5], x[0, 2, 3])
    np.testing.assert_array_equal(near[0, 0, 0, 0], np.zeros(2))


def test_confusion_counts():
    matrix = confusion(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 0], [0, 1, 0]])


def test_config_errors():
    config = load_config("classifier_dynamics", "tiny")
    config.model.arch = "mlp"
    with pytest.raises(ConfigError, match="model.arch"):
        train.setup(config)


CLASSIFIER = "--config=configs/classifier_dynamics.py:tiny"


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory):
    """A tiny classifier trained for 6 steps (its workdir)."""
    workdir = tmp_path_factory.mktemp("classifier")
    proc = vgen_main(CLASSIFIER, f"--workdir={workdir}", "--config.train.num_steps=6")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


def test_evaluator_error_equals_the_classifiers_own(classifier_run):
    """--mode eval's error on each split is the error of `classify` on the same clips, and
    --mode sample is a clear error for a model that predicts no frames."""
    config = load_config("classifier_dynamics", "tiny")
    tmp_path = classifier_run
    args = (CLASSIFIER, f"--workdir={tmp_path}")
    results = evaluate.evaluate(config, str(tmp_path))["classification"]
    assert (tmp_path / "eval" / "confusion.png").is_file()
    method, source, state = train.restore_for_inference(config, str(tmp_path))
    classify = jax.jit(functools.partial(classifier.classify, config))
    for split in ("train", "val", "test"):
        clips = source.eval_clips(results["num_clips"][split], split=split)
        predicted = np.argmax(classify(state, clips), -1)
        assert results["error"][split] == pytest.approx(np.mean(predicted != clips["label"]))
    matrix = np.array(results["confusion"])
    assert matrix.sum() == results["num_clips"]["test"] and len(results["classes"]) == 10
    proc = vgen_main(*args, "--mode=sample")
    assert proc.returncode == 2 and "predicts none" in proc.stderr


def test_motion_class_score_of_a_predictor(classifier_run, tmp_path):
    """A predictor's --mode eval with eval.classifier_workdir reports how often the classifier
    recovers the class: on the real clips exactly the classifier's own accuracy on them. A
    classifier of clips of another length is a one-line error."""
    args = ("--config=configs/quickstart.py:tiny", f"--workdir={tmp_path}")
    proc = vgen_main(*args, "--config.train.num_steps=2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    config = load_config("quickstart", "tiny")
    config.eval.classifier_workdir = str(classifier_run)
    results = evaluate.evaluate(config, str(tmp_path))["motion_class"]
    assert set(results["accuracy"]) == {
        "real", "best", "random", "copy_last", "background", "mean_context"
    }  # fmt: skip
    clf_config = train.load_config(str(classifier_run))
    _, _, state = train.restore_for_inference(clf_config, str(classifier_run))
    _, source = train.setup(config)
    clips = source.eval_clips(config.eval.num_clips)
    predicted = np.argmax(classifier.classify(clf_config, state, clips), -1)
    assert results["accuracy"]["real"] == pytest.approx(np.mean(predicted == clips["label"]))
    assert results["num_clips"] == config.eval.num_clips
    proc = vgen_main(
        *args,
        "--mode=eval",
        f"--config.eval.classifier_workdir={classifier_run}",
        "--config.eval.predict_frames=4",
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "eval.classifier_workdir: the classifier reads" in proc.stderr


def test_table_5_2_command(tmp_path):
    """The Table 5.2 command trains the chosen architectures and prints them beside the thesis's
    rows; a wrong architecture is a one-line error."""
    module = ("-m", "vgen.experiments.table_5_2", f"--outdir={tmp_path}", "--tiny")
    flows = tmp_path / "flows"
    proc = run_python(*module, "--archs=conv3d,two_stream", VGEN_FLOW_CACHE=str(flows))
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {line.split("  ")[0].strip(): line for line in proc.stdout.splitlines()}
    assert "—" not in rows["Conv3D"] and rows["Conv3D"].split()[1:3] == ["0.3", "40.0"]
    assert "—" not in rows["Two-Streams"] and rows["Two-Streams"].split()[1:3] == ["90.0", "88.0"]
    assert rows["ConvLSTM"].split()[-3:] == ["—", "—", "—"]
    # two-stream's flows were cached for every split it read, in the directory given
    assert sorted(f.rsplit("-", 1)[1] for f in os.listdir(flows)) == [
        "test.npy",
        "train.npy",
        "val.npy",
    ]
    saved = json.loads((tmp_path / "table_5_2.json").read_text())
    assert set(saved["ours_percent"]) == {"conv3d", "two_stream"}
    assert set(saved["ours_percent"]["two_stream"]) == {"train", "val", "test"}
    proc = run_python(*module, "--archs=mlp")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "unknown --archs ['mlp']" in proc.stderr
