"""A few images of each dataset for the report's description of it: one per class, the
first training image of its class in the data the study names for its samples
(`Data.sample_spec`), so that the choice never moves.

A handful of images is a figure's input, not the dataset, and a fresh clone renders without
any data. So they are kept in a small committed store beside the frozen results,
`frozen/samples/<dataset>/<digest of the data spec>.json` (the spec names the source files
by their declared content checksums), with a checksum of their pixels; the results store
reads only `frozen/<two hex digits>/<key>.json`, a level higher. A build that has the data
takes the images from the verified arrays (`Data.load`) and stores them when the store lacks
them; a build without the data reads the store; with neither, there are no samples and the
report says so. Nothing here downloads: a figure never justifies a download.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlreport import study
from dlreport.data import files
from dlreport.digests import digest
from dlreport.errors import ReportError
from dlreport.fsutil import atomic_write_text

if TYPE_CHECKING:
    import numpy as np

    from dlreport.data.datasets import DecodedCache

log = logging.getLogger(__name__)

FORMAT = 1


@dataclass(frozen=True)
class Samples:
    """One image per class, in class order."""

    dataset: str
    images: np.ndarray  # (classes, height, width), uint8 (NumPy is imported where images are made: planning needs none)

    @property
    def classes(self) -> tuple[str, ...]:
        return study.current().data.classes(self.dataset)


def first_of_each_class(images: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """The first image of each class 0 … n_classes − 1, in class order."""
    import numpy as np

    firsts = []
    for c in range(n_classes):
        found = np.flatnonzero(labels == c)
        if not len(found):
            raise ReportError(f"no image of class {c} to show as a sample")
        firsts.append(images[found[0]])
    return np.stack(firsts).astype(np.uint8)


def spec_digest(dataset: str) -> str:
    """What names a dataset's samples: the description of the data they are taken from."""
    return digest(study.current().data.sample_spec(dataset))


class SampleStore:
    """The committed samples, one JSON file per dataset and source, checked on reading."""

    def __init__(self, frozen_dir: Path) -> None:
        self.root = frozen_dir / "samples"

    def path(self, dataset: str) -> Path:
        return self.root / dataset / f"{spec_digest(dataset)[:16]}.json"

    def stored(self) -> list[str]:
        """The stored files (a build's output depends on which there are)."""
        return sorted(str(p.relative_to(self.root)) for p in self.root.glob("*/*.json"))

    def read(self, dataset: str) -> Samples | None:
        """The stored samples, or None when absent; a damaged file is reported in one line and
        treated as absent."""
        path = self.path(dataset)
        if not path.is_file():
            return None
        import numpy as np

        data = study.current().data
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            pixels = base64.b64decode(entry["pixels"], validate=True)
            if hashlib.sha256(pixels).hexdigest() != entry["pixels_sha256"]:
                raise ValueError("pixels do not match their checksum")
            if entry["dataset"] != dataset or entry["spec"] != data.sample_spec(dataset):
                raise ValueError("not the samples of this data")
            shape = tuple(entry["shape"])
            if shape[0] != len(data.classes(dataset)):
                raise ValueError("not one image per class")
            images = np.frombuffer(pixels, np.uint8).reshape(shape)
        except (ValueError, KeyError, TypeError, OSError) as exc:
            log.warning("damaged sample file %s (%s): not used", path, exc)
            return None
        return Samples(dataset, images)

    def write(self, samples: Samples) -> None:
        import numpy as np

        pixels = np.ascontiguousarray(samples.images, np.uint8).tobytes()
        entry = {
            "format": FORMAT, "dataset": samples.dataset, "spec": study.current().data.sample_spec(samples.dataset),
            "choice": "the first training image of each class", "classes": list(samples.classes),
            "shape": list(samples.images.shape),
            "pixels": base64.b64encode(pixels).decode(), "pixels_sha256": hashlib.sha256(pixels).hexdigest(),
        }
        try:
            atomic_write_text(self.path(samples.dataset), json.dumps(entry, indent=1) + "\n")
        except OSError as exc:  # the samples are shown all the same; the next build with the data stores them
            log.warning("samples of %s not stored in %s (%s)", samples.dataset, self.root, exc.strerror or exc)


def from_data(dataset: str, data_dir: Path, cache: DecodedCache) -> Samples | None:
    """The samples taken from the verified training arrays, or None when the data files are
    not at hand (looked for first: the loaders would download a missing file)."""
    data = study.current().data
    if any(files.find_file(f, data_dir) is None for f in data.sample_sources(dataset)):
        return None
    arrays = data.load(data.sample_spec(dataset), data_dir, cache)
    images = data.sample_images(arrays)
    return Samples(dataset, first_of_each_class(images, arrays.y_train, len(data.classes(dataset))))


def samples_of(dataset: str, store: SampleStore, data_dir: Path, cache: DecodedCache) -> Samples | None:
    """A dataset's samples: from the store, else from the data (and then stored), else None.
    A data file that fails verification costs the figure, not the build: rendering from
    stored results needs no data. A dataset the study shows no samples of (`Data.sample_spec`
    None: not images, say) has none."""
    if study.current().data.sample_spec(dataset) is None:
        return None
    found = store.read(dataset)
    if found is not None:
        return found
    try:
        found = from_data(dataset, data_dir, cache)
    except ReportError as exc:
        log.warning("no sample images of %s: %s", dataset, exc)
        return None
    if found is None:
        log.info("no sample images of %s: neither its data nor %s is at hand", dataset, store.path(dataset))
        return None
    store.write(found)
    return found


def samples_for(names: set[str], frozen_dir: Path, data_dir: Path, decoded_dir: Path) -> dict[str, Samples | None]:
    """Sample images of each dataset named: stored (beside the frozen results), or taken from
    the data and stored."""
    from dlreport.data.datasets import DecodedCache

    store, decoded = SampleStore(frozen_dir), DecodedCache(decoded_dir)
    return {d: samples_of(d, store, data_dir, decoded) for d in sorted(names)}


def sample_state(names: set[str], frozen_dir: Path, data_dir: Path, decoded_dir: Path) -> dict[str, bool]:
    """Whether each dataset's sample images are at hand, as cheaply as that can be known: a
    stored file is enough (it is read when the report is rendered); without one they are
    taken from the data now, and stored."""
    store = SampleStore(frozen_dir)
    return {d: store.path(d).is_file() or samples_for({d}, frozen_dir, data_dir, decoded_dir)[d] is not None
            for d in sorted(names)}
