"""The report's parts, each declared once: its letter, title, template and the code it lists.

The document, the context and the PDF iterate over these; an experiment belongs to a
part by its `part` letter (experiments/definitions.py) and a finding by its own
(experiments/claims.py). Adding a part is a definition here, its experiments, and its
template.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    letter: str
    title: str
    template: str  # in templates/
    listings: tuple[tuple[str, str], ...] = ()  # (module, entry point) whose code the part shows, besides its trainer's


PARTS: tuple[Part, ...] = (
    Part("A", "Low-level TensorFlow on Fashion-MNIST", "part_a.html.j2"),
    Part("B", "Keras on notMNIST", "part_b.html.j2"),
    Part("C", "Batch normalisation", "part_c.html.j2", (("experiments.batchnorm", "batch_norm"),)),
)
