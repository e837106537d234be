"""Errors that mean "the user asked for something wrong": printed as one clear line by main."""

import argparse
import sys


class VgenError(Exception):
    """Base class of the errors `vgen.main` reports without a traceback (exit status 2)."""


class ConfigError(VgenError):
    """A config value is unknown, missing or out of range."""


class DatasetNotFoundError(VgenError):
    """A dataset the user must prepare is not where the config says."""


class CheckpointError(VgenError):
    """No checkpoint to evaluate, or one that does not match the config."""


class NonFiniteLossError(VgenError):
    """Training produced NaN/Inf; the last good checkpoint is kept."""


class WorkdirError(VgenError):
    """The workdir cannot be used: not a directory, not writable, full, or locked by a run."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with usage errors as one `vgen: error:` line (exit status 2), as in main."""

    def error(self, message: str):
        print(f"vgen: error: {self.prog}: {message} (see --help)", file=sys.stderr)
        sys.exit(2)
