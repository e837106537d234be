"""Evaluators run by `--mode eval`, chosen by `config.eval.evaluators` (being built)."""

EVALUATORS = {"prediction": None, "reconstruction": None, "figures": None}
