"""Builds the datasets that vgen cannot download itself, from files the user fetched once.

    python -m vgen.data.prepare kth --manual_dir=DIR [--data_dir=~/tensorflow_datasets]
        [--resolution=64|120] [--skip_bad_files] [--use_sequences] [--allow_incomplete]

The first argument names the dataset (PREPARERS; "kth" for now). Prints where the dataset went
and the number of examples per split. Bad input ends with one line `vgen: error: ...` on stderr
and exit status 2, as in `vgen.main`.
"""

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Sequence

from vgen.errors import ArgumentParser, ConfigError, VgenError


def _kth_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--manual_dir",
        required=True,
        help="folder with the six KTH zips (boxing.zip, ...) or the extracted .avi files",
    )
    parser.add_argument("--resolution", type=int, choices=(64, 120), default=64)
    parser.add_argument(
        "--skip_bad_files",
        action="store_true",
        help="skip unreadable or truncated videos (listed in the dataset's metadata)",
    )
    parser.add_argument(
        "--use_sequences",
        action="store_true",
        help="one example per frame range of 00sequences.txt (in manual_dir)",
    )
    parser.add_argument(
        "--allow_incomplete",
        action="store_true",
        help="build from the videos present even if some of the 599 are missing",
    )


def _prepare_kth(args: argparse.Namespace) -> tuple[str, dict[str, int], list[str]]:
    import tensorflow_datasets as tfds

    from vgen.data.kth import Kth, missing_manual_dir

    manual_dir = os.path.expanduser(args.manual_dir)
    if not os.path.isdir(manual_dir) or not os.listdir(manual_dir):
        raise missing_manual_dir(manual_dir)
    builder = Kth(
        config=str(args.resolution),
        data_dir=args.data_dir,
        skip_bad_files=args.skip_bad_files,
        use_sequences=args.use_sequences,
        require_complete=not args.allow_incomplete,
    )
    notes = []
    if builder.is_prepared():
        built_with = (builder.info.metadata or {}).get("use_sequences")
        if built_with is not None and built_with != args.use_sequences:
            raise ConfigError(
                f"{builder.data_dir} was built with use_sequences={built_with}; delete it to "
                f"build it with use_sequences={args.use_sequences}"
            )
        notes.append(f"already prepared (delete {builder.data_dir} to build it again)")
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=manual_dir)
    )
    meta = builder.info.metadata or {}
    skipped = list(meta.get("skipped_files", []))
    notes.append(f"skipped {len(skipped)} bad file(s)")
    notes += [f"  skipped {s}" for s in skipped]
    if meta.get("missing"):
        notes.append(f"built without the missing videos: {meta['missing']}")
    sizes = {name: split.num_examples for name, split in builder.info.splits.items()}
    return os.fspath(builder.data_dir), sizes, notes


@dataclasses.dataclass(frozen=True)
class Preparer:
    """How to prepare one dataset: its flags, and a build returning (dir, split sizes, notes)."""

    help: str
    add_args: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], tuple[str, dict[str, int], list[str]]]


PREPARERS: dict[str, Preparer] = {
    "kth": Preparer("KTH human actions -> TFDS kth/<resolution>", _kth_args, _prepare_kth),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Parses `argv` (default sys.argv[1:]), builds the dataset, prints where it went."""
    parser = ArgumentParser(prog="python -m vgen.data.prepare", description=__doc__.split("\n")[0])
    datasets = parser.add_subparsers(dest="dataset", required=True, metavar="DATASET")
    for name, preparer in PREPARERS.items():
        sub = datasets.add_parser(name, help=preparer.help)
        sub.add_argument("--data_dir", default="~/tensorflow_datasets", help="TFDS data_dir")
        preparer.add_args(sub)
    args = parser.parse_args(argv)
    args.data_dir = os.path.expanduser(args.data_dir)
    try:
        path, sizes, notes = PREPARERS[args.dataset].run(args)
    except VgenError as e:
        print(f"vgen: error: {e}", file=sys.stderr)
        return 2
    print(f"{args.dataset}: prepared at {path}")
    for split, n in sizes.items():
        print(f"  {split}: {n} examples")
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
