"""vgen.xla_flags: the XLA:CPU options vgen.main sets, and how a user keeps their own."""

import os

from vgen import xla_flags


def test_apply_adds_the_options_once():
    env = {}
    assert xla_flags.apply(env) == list(xla_flags.CPU_FLAGS)
    assert env["XLA_FLAGS"] == " ".join(xla_flags.CPU_FLAGS)
    assert xla_flags.apply(env) == []  # already there: nothing added twice
    assert env["XLA_FLAGS"] == " ".join(xla_flags.CPU_FLAGS)


def test_a_users_own_value_wins_and_other_flags_stay():
    own = "--xla_force_host_platform_device_count=4 --xla_cpu_experimental_xnn_fusion_type="
    env = {"XLA_FLAGS": own}
    assert xla_flags.apply(env) == [xla_flags.CPU_FLAGS[0]]
    assert env["XLA_FLAGS"] == f"{own} {xla_flags.CPU_FLAGS[0]}"


def test_off_leaves_xla_flags_alone():
    env = {"VGEN_XLA_CPU_FLAGS": "off", "XLA_FLAGS": "--xla_dump_to=/tmp/x"}
    assert xla_flags.apply(env) == []
    assert env["XLA_FLAGS"] == "--xla_dump_to=/tmp/x"


def test_the_test_process_runs_with_them():
    # tests/conftest.py applies them, so the golden losses are checked under vgen.main's options.
    for flag in xla_flags.CPU_FLAGS:
        assert flag.split("=")[0] in os.environ["XLA_FLAGS"]
