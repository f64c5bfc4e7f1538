"""What a run's data is, as plain data: the notMNIST split chosen, and the data spec that
enters a run's cache key — computed from the declarations alone, without the files and
without NumPy, so that planning and `status` stay light. `splits` makes the arrays.
"""

from __future__ import annotations

import os
from pathlib import Path

from dlreport.data.files import find_file
from dlreport.errors import ReportError
from experiments.data import files

ORIGINAL, SUBSTITUTE = SPLITS = ("original", "substitute")
SPLIT_ENV = "REPORT_NOTMNIST_SPLIT"
ORIGINAL_TRAIN_PER_LETTER = 20_000
SUBSTITUTE_TEST_FRACTION = 0.15

def choose_split(cli_value: str | None, data_dir: Path) -> str:
    """The notMNIST split, chosen explicitly; without notMNIST_large and without a choice, stop."""
    value = cli_value or os.environ.get(SPLIT_ENV)
    if value:
        if value not in SPLITS:
            raise ReportError(f"unknown notMNIST split {value!r}: choose one of {', '.join(SPLITS)}")
        return value
    if find_file(files.NOTMNIST_LARGE, data_dir):
        return "original"
    raise ReportError(
        f"notMNIST_large.tar.gz is not in {data_dir / 'notmnist'}: put it there for the original split, "
        f"or choose the substitute split of notMNIST_small with --notmnist-split substitute "
        f"(or {SPLIT_ENV}=substitute)"
    )


def data_spec(dataset: str, split: str | None, n_train: int | None, n_val: int | None) -> dict:
    """The description of a run's data that enters its cache key.

    It names the sources by their declared content checksums, so it can be computed
    without the data files (a fresh clone renders cached results with no data at all).
    """
    if dataset == "fashion-mnist":
        sources = {f.name: f.content_sha256 for f in files.FASHION_MNIST.values()}
        return {"dataset": dataset, "sources": sources, "n_train": n_train, "n_val": n_val}
    if dataset == "notmnist":
        sources = {files.NOTMNIST_SMALL.name: files.NOTMNIST_SMALL.content_sha256}
        spec = {"dataset": dataset, "split": split, "n_train": n_train, "n_val": n_val}
        if split == "original":
            sources[files.NOTMNIST_LARGE.name] = "unpublished: verified by structure"
            spec["train_per_letter"] = ORIGINAL_TRAIN_PER_LETTER
        else:
            spec["test_fraction"] = SUBSTITUTE_TEST_FRACTION
        spec["sources"] = sources
        return spec
    raise ReportError(f"unknown dataset {dataset!r}")


def loader_name(spec: dict) -> str:
    """The function of this module that makes a data spec's arrays: its code, and only its
    code, enters the keys of the runs that read that data (`keys.code_definitions`)."""
    if spec["dataset"] == "fashion-mnist":
        return "fashion_mnist_data"
    return "notmnist_original_data" if spec["split"] == "original" else "notmnist_substitute_data"
