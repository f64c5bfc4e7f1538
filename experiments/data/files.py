"""This study's data files as they are published: where each lives under the data directory,
what it must contain, and where it is published — declared once, and read without NumPy, so
that planning a build (which names every run's data by these declarations) stays light.
`datasets` reads and verifies the files themselves.
"""

from __future__ import annotations

from dlreport.data.files import DataFile

LETTERS = "ABCDEFGHIJ"


def _fashion(name: str, sha256: str) -> DataFile:
    return DataFile("fashion-mnist", name, sha256)


FASHION_MNIST = {
    "train-images": _fashion("train-images-idx3-ubyte.gz", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train-labels": _fashion("train-labels-idx1-ubyte.gz", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "test-images": _fashion("t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "test-labels": _fashion("t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}

NOTMNIST_SMALL = DataFile("notmnist", "notMNIST_small.tar.gz", "506f397d4bda48fd0598d978dfca30c69abb1fb1563776f10fe1ae4a9df0aa3a")
# No checksum of notMNIST_large's content has been published; it is verified by
# structure (ten letter folders, >= 500,000 members) and its digest is recorded.
NOTMNIST_LARGE = DataFile("notmnist", "notMNIST_large.tar.gz", None)
NOTMNIST_LARGE_MIN_MEMBERS = 500_000

# Where each file is published, and where else a system may keep a copy. Neither changes
# what a file holds (its content is verified), so neither enters a run's key.
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_NOTMNIST_URL = "http://yaroslavvb.com/upload/notMNIST/"
PUBLISHED = {
    **{f.label: _FASHION_URL + f.name for f in FASHION_MNIST.values()},
    **{f.label: _NOTMNIST_URL + f.name for f in (NOTMNIST_SMALL, NOTMNIST_LARGE)},
}
SYSTEM_DIRS = {"fashion-mnist": ("/usr/share/datasets/fashion-mnist",)}
