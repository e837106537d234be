"""Test setup: run JAX on the CPU, quietly, and make the repo root importable."""

import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("VGEN_EXECUTABLES", "off")  # why: tests/helpers.py env()
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from vgen import xla_flags  # noqa: E402

# The XLA:CPU options that vgen.main sets, so that the golden losses are checked under them.
xla_flags.apply()
