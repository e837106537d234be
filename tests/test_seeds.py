"""vgen.experiments.seeds: mean ± std over runs and the object-aware bar, on hand-built results."""

import json
import os

import numpy as np
import pytest

from vgen.experiments import seeds


def results(psnr_best, object_best, error_mean, step=100):
    """A results.json of 2 predicted steps with fixed baselines."""
    return {
        "step": step,
        "psnr": {"best": psnr_best, "mean": [20.0, 19.0], "copy_last": [25.0, 24.0],
                 "background": [26.0, 26.0]},
        "object_psnr": {"best": object_best, "mean": [15.0, 14.0], "copy_last": [17.0, 16.0],
                        "background": [16.0, 16.5]},
        "position_error": {"best": [1.0, 2.0], "mean": error_mean, "copy_last": [3.0, 6.0],
                           "background": [9.0, 9.0]},
        "object_found": {"mean": [1.0, 0.5], "copy_last": [1.0, 1.0], "background": [0.0, 0.0]},
    }  # fmt: skip


def write(tmp_path, name, r):
    os.makedirs(tmp_path / name / "eval")
    with open(tmp_path / name / "eval" / "results.json", "w") as f:
        json.dump(r, f)
    return str(tmp_path / name)


def test_across_is_mean_and_population_std_per_step():
    a = results([27.0, 28.0], [18.0, 17.0], [2.0, 5.0])
    b = results([29.0, 27.0], [18.0, 17.0], [4.0, 5.0])
    table = seeds.across([a, b])
    mean, std = table["psnr"]["best"]
    np.testing.assert_allclose(mean, [28.0, 27.5])
    np.testing.assert_allclose(std, [1.0, 0.5])
    mean, std = table["position_error"]["mean"]
    np.testing.assert_allclose(mean, [3.0, 5.0])
    np.testing.assert_allclose(std, [1.0, 0.0])
    assert "best" not in table["object_found"]  # a kind one run lacks is left out
    assert set(table["psnr"]) == {"best", "mean", "copy_last", "background"}


def test_shortfalls_name_each_missed_criterion():
    assert seeds.shortfalls(results([27.0, 27.0], [18.0, 17.0], [2.0, 5.0])) == []
    missed = seeds.shortfalls(results([27.0, 26.0], [18.0, 16.5], [2.0, 6.0]))
    assert missed == [
        "psnr step 2: best 26.00 <= background 26.00",
        "object_psnr step 2: best 16.50 <= background 16.50",
        "position_error last step: mean 6.00 >= copy_last 6.00",
    ]
    # Results with the mean of the context frames as a baseline are judged against it too.
    blurred = results([27.0, 27.0], [18.0, 17.0], [2.0, 5.0])
    blurred["object_psnr"]["mean_context"] = [17.5, 17.0]
    assert seeds.shortfalls(blurred) == ["object_psnr step 2: best 17.00 <= mean_context 17.00"]


def test_main_prints_the_table_and_verdicts(tmp_path, capsys):
    good = write(tmp_path, "s0", results([27.0, 27.0], [18.0, 17.0], [2.0, 5.0]))
    bad = write(tmp_path, "s1", results([27.0, 25.0], [18.0, 17.0], [2.0, 5.0]))
    assert seeds.main([good, bad]) == 0
    out = capsys.readouterr().out
    assert "| psnr best | 27.00 ± 0.00 | 26.00 ± 1.00 |" in out
    assert f"{good} (step 100): meets the bar" in out
    assert f"{bad} (step 100): misses: psnr step 2: best 25.00 <= copy_last 24.00" not in out
    assert f"{bad} (step 100): misses: psnr step 2: best 25.00 <= background 26.00" in out


def test_bad_input_is_one_line_error(tmp_path, capsys):
    assert seeds.main([str(tmp_path / "missing")]) == 1
    assert "--mode=eval" in capsys.readouterr().err
    run = write(tmp_path, "gaussians", {"step": 1, "modes": 20})
    assert seeds.main([run]) == 1
    assert "not the results of a video predictor" in capsys.readouterr().err
    a = write(tmp_path, "a", results([27.0, 27.0], [18.0, 17.0], [2.0, 5.0]))
    three = results([27.0, 27.0], [18.0, 17.0], [2.0, 5.0])
    three["psnr"] = {k: v + [1.0] for k, v in three["psnr"].items()}
    b = write(tmp_path, "b", three)
    assert seeds.main([a, b]) == 1
    assert "different numbers of steps" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        seeds.main([])
