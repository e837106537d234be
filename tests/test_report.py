"""vgen.report: a run's scores next to the published SRVP / SVG-LP figures."""

import json

import pytest
from helpers import load_config

from vgen import evaluate, report


def _results(**overrides) -> dict:
    results = {
        "step": 7,
        "num_clips": 1000,
        "num_samples": 100,
        "protocol": dict(report.PUBLISHED["kth"]["protocol"], split="test"),
        "psnr": {"best": [30.0, 26.0], "mean": [25.0, 24.0]},
        "ssim": {"best": [0.9, 0.8]},
        "lpips": {"best": [0.05, 0.07]},
        "fvd": {"best": 100.0, "random": 321.4},
    }
    results.update(overrides)
    return results


def test_run_scores_average_the_best_over_steps():
    scores = report.run_scores(_results())
    assert scores == pytest.approx({"psnr": 28.0, "ssim": 0.85, "lpips": 0.06, "fvd": 321.4})
    assert report.run_scores({"psnr": {"best": [20.0]}})["lpips"] is None


def test_report_table_and_protocol_differences():
    text = report.format_report(_results())
    assert "28.0000" not in text and "28.00" in text and "28.06" in text and "29.69" in text
    assert "321" in text and "377" in text
    assert "as published" in text
    text = report.format_report(_results(num_samples=20, protocol={"dataset": "kth"}))
    assert "num_samples: 20 here, 100 published" in text
    assert "test_clips: 'not recorded' here, 'srvp' published" in text


@pytest.mark.parametrize(
    "protocol, message",
    [
        ({"dataset": "dynamics"}, "no published numbers for dataset 'dynamics'"),
        ({"dataset": "moving_mnist", "stochastic": False}, "Stochastic Moving MNIST only"),
    ],
)
def test_unpublished_datasets_are_a_clear_error(protocol, message):
    with pytest.raises(report.ReportError, match=message):
        report.format_report(_results(protocol=protocol))


@pytest.mark.parametrize(
    "config_name, dataset",
    [("svg_lp_kth", "kth"), ("svg_lp_bair", "bair"), ("svg_lp_smmnist", "smmnist")],
)
def test_srvp_protocol_configs_match_the_published_protocol(config_name, dataset):
    """The configs that claim SRVP's protocol score it: every published setting, and its clip
    and sample counts."""
    config = evaluate.eval_config(load_config(config_name))
    results = {
        "num_clips": config.eval.num_clips,
        "num_samples": config.eval.num_samples,
        "protocol": evaluate.protocol(config),
    }
    assert report.differences(results, report.PUBLISHED[dataset]) == []


def test_main_reads_a_workdir_and_fails_in_one_line(tmp_path, capsys):
    assert report.main([f"--workdir={tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "score the run first with --mode eval" in err
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "results.json").write_text("{not json")
    assert report.main([f"--workdir={tmp_path}"]) == 2
    assert "cannot read" in capsys.readouterr().err
    (tmp_path / "eval" / "results.json").write_text(json.dumps(_results()))
    assert report.main([f"--workdir={tmp_path}"]) == 0
    assert "SVG-LP" in capsys.readouterr().out
