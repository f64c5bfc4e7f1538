"""What the engine asks of a study's data (`Study.data`): the files it declares, how a run's
data are described (the spec its key hashes) and made, and the one build-wide choice a study
may leave to its user (which split of a dataset, say).

The engine owns the rest: where files are looked for and downloaded to (`files`, `fetch`,
`datasets.locate`), the decoded-array cache, the committed sample images, and the
`--data-dir` setting. A study's loaders are read by the keys like its trainers: every
definition `loader(spec)` names reaches enters the keys of the runs that read that data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from dlreport.data.datasets import DecodedCache
    from dlreport.data.files import DataFile
    from dlreport.data.rundata import RunData


LIMITS = ("n_train", "n_val")  # a data spec's counts a profile sets (`Profile.data_limits`); None: all of it


@dataclass(frozen=True)
class Choice:
    """A build-wide choice about the data, made once and remembered with the output folder."""

    option: str  # the command line's option without its dashes, and the setting's name: "data-split"
    env: str  # the environment variable that gives it
    values: tuple[str, ...]
    help: str  # what it chooses, for `--help`


class Data:
    """A study's data, as the engine reads it. The defaults suit data a study generates or a
    package ships (no files, no choice, no sample images): such a study writes `spec`,
    `loader` and `load` only; one that reads published files overrides the rest."""

    choice: Choice | None = None
    files: tuple[DataFile, ...] = ()  # every file a run may read, in a fixed order (`fetch`, verification)
    published: Mapping[str, str] = {}  # a file's label -> its published address
    system_dirs: Mapping[str, tuple[str, ...]] = {}  # a file's folder -> other places a system keeps copies

    def choose(self, given: str | None, data_dir: Path, datasets: set[str]) -> str | None:
        """The choice for a build reading `datasets` (None when none of them needs it), from
        `given` (option, environment or remembered); raises `ReportError` when it cannot be made."""
        return None

    def spec(self, dataset: str, choice: str | None, n_train: int | None, n_val: int | None) -> dict:
        """The description of a run's data that enters its key, from declarations alone (no files);
        its `sources` name the files it is read from (`fetch`)."""
        raise NotImplementedError

    def loader(self, spec: dict) -> tuple[str, str]:
        """(module, function) of the study's code that makes a spec's arrays."""
        raise NotImplementedError

    def load(self, spec: dict, data_dir: Path, cache: DecodedCache) -> RunData:
        """The arrays a spec describes, from verified files."""
        raise NotImplementedError

    def guard(self, f: DataFile, path: Path) -> None:
        """A cheap check of a found file before anything reads it whole (raises `ReportError`)."""

    def content_problem(self, f: DataFile, path: Path) -> str | None:
        """Why `path` is not a good copy of `f` (None when it is): what a download must pass."""
        return None

    def comparable(self, spec: dict) -> bool:
        """Whether runs on this data can be set beside the original's numbers."""
        return True

    def classes(self, dataset: str) -> tuple[str, ...]:
        """A dataset's class names, in label order (the sample figure's labels)."""
        raise NotImplementedError

    def sample_spec(self, dataset: str) -> dict | None:
        """The data a dataset's sample images are taken from (names the committed samples); None:
        the report shows no samples of it (its examples are not images)."""
        return None

    def sample_sources(self, dataset: str) -> tuple[DataFile, ...]:
        """The files `sample_spec(dataset)` is read from (samples are drawn only when all are at hand)."""
        return ()

    def sample_images(self, data: RunData) -> np.ndarray:
        """A run's training inputs as images (N, height, width) of grey levels 0–255."""
        raise NotImplementedError
