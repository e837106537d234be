"""Packaging is declared in setup.cfg; this file only adds the top-level configs/ to the package as
`vgen.configs`, so that an installed vgen (a notebook, a cluster job) finds the same config files."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["vgen", "vgen.*"]) + ["vgen.configs"],
    package_dir={"vgen.configs": "configs"},
)
