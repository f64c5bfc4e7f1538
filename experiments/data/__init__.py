"""This study's data, as the engine reads it (`dlreport.data.interface.Data`): Fashion-MNIST for
Part A and notMNIST for Parts B and C, and the choice of notMNIST split.

The declarations (`files`, read here as `catalogue`) and the specs (`specs`) are read without NumPy, so that planning and
`status` stay light; the readers (`datasets`) and the loaders (`splits`) are imported when a run's
arrays are made.
"""

from __future__ import annotations

from pathlib import Path

from dlreport.data.interface import Choice, Data
from experiments.data import files as catalogue
from experiments.data import specs

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
CLASSES = {"fashion-mnist": FASHION_CLASSES, "notmnist": tuple(catalogue.LETTERS)}
SHAPE = (28, 28)


class StudyData(Data):
    """Fashion-MNIST and notMNIST, from their published files."""

    choice = Choice("notmnist-split", specs.SPLIT_ENV, specs.SPLITS,
                    "which notMNIST split (needed once without notMNIST_large)")
    # read from the declarations when asked (a test declares stand-ins there)
    @property
    def files(self) -> tuple:
        return (*catalogue.FASHION_MNIST.values(), catalogue.NOTMNIST_SMALL, catalogue.NOTMNIST_LARGE)

    @property
    def published(self) -> dict[str, str]:
        return catalogue.PUBLISHED

    @property
    def system_dirs(self) -> dict[str, tuple[str, ...]]:
        return catalogue.SYSTEM_DIRS

    def choose(self, given: str | None, data_dir: Path, datasets: set[str]) -> str | None:
        return specs.choose_split(given, data_dir) if "notmnist" in datasets else None

    def spec(self, dataset: str, choice: str | None, n_train: int | None, n_val: int | None) -> dict:
        return specs.data_spec(dataset, choice if dataset == "notmnist" else None, n_train, n_val)

    def loader(self, spec: dict) -> tuple[str, str]:
        return f"{__name__}.splits", specs.loader_name(spec)

    def load(self, spec: dict, data_dir: Path, cache):
        from experiments.data import splits

        return splits.load_run_data(spec, data_dir, cache)

    def guard(self, f, path: Path) -> None:
        from experiments.data import datasets

        datasets.bounded(f, path)

    def content_problem(self, f, path: Path) -> str | None:
        from experiments.data import datasets

        return datasets.content_problem(f, path)

    def comparable(self, spec: dict) -> bool:
        """The original's numbers are set beside runs on its own data only (not the substitute split)."""
        return spec.get("split") != specs.SUBSTITUTE

    def classes(self, dataset: str) -> tuple[str, ...]:
        return CLASSES[dataset]

    def sample_spec(self, dataset: str) -> dict:
        """All of a dataset's training images, and for notMNIST those of the substitute split, whose
        source every machine can have and whose shuffled order shows several fonts."""
        return specs.data_spec(dataset, specs.SUBSTITUTE if dataset == "notmnist" else None, None, None)

    def sample_sources(self, dataset: str) -> tuple:
        return tuple(catalogue.FASHION_MNIST.values()) if dataset == "fashion-mnist" else (catalogue.NOTMNIST_SMALL,)

    def sample_images(self, data):
        import numpy as np

        return np.rint(data.x_train.reshape(-1, *SHAPE) * 255).astype(np.uint8)  # the inputs are grey levels / 255


DATA = StudyData()


def conditions(data_specs: list[dict]) -> frozenset[str]:
    """What a build's data allow a sub-test to need: the original split, when its runs read it."""
    from experiments.claims import ORIGINAL_SPLIT

    return frozenset({ORIGINAL_SPLIT}) if any(s.get("split") == specs.ORIGINAL for s in data_specs) else frozenset()
