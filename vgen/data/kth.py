"""KTH human actions (Schüldt et al. 2004), read from a TFDS dataset the user prepares.

KTH cannot be downloaded by the code (no network at run time): the user fetches the six zip
files once and builds the TFDS dataset `kth/<resolution>` into `config.data.data_dir`.
"""

import os

import ml_collections

from vgen.errors import DatasetNotFoundError

KTH_URL = "https://www.csc.kth.se/cvap/actions/"
ACTIONS = ("boxing", "handclapping", "handwaving", "jogging", "running", "walking")


def prepared_dir(data_dir: str, resolution: int) -> str:
    """Where the prepared TFDS dataset lives: <data_dir>/kth/<resolution>."""
    return os.path.join(os.path.expanduser(data_dir), "kth", str(resolution))


class KTHSource:
    """Random training clips and fixed evaluation clips of prepared KTH."""

    def __init__(self, config: ml_collections.ConfigDict):
        self.config = config
        path = prepared_dir(config.data.data_dir or "~/tensorflow_datasets", config.data.resolution)
        if not os.path.isdir(path):
            zips = ", ".join(f"{a}.zip" for a in ACTIONS)
            raise DatasetNotFoundError(
                f"KTH is not prepared: no dataset at {path}.\n"
                f"  1. Download the six action archives ({zips}) from {KTH_URL}\n"
                f"  2. Build the TFDS dataset from them: "
                f"python -m vgen.data.prepare kth --manual_dir=<folder with the zips> "
                f"--data_dir={config.data.data_dir or '~/tensorflow_datasets'}\n"
                "     (that KTH builder is not part of this version of vgen yet; Dynamics "
                "(configs/quickstart.py) runs without any download.)\n"
                "  3. Point config.data.data_dir at that data_dir."
            )
        raise DatasetNotFoundError(
            f"found {path}, but reading prepared KTH is not part of this version of vgen yet"
        )
