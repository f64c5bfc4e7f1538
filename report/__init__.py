"""Literate build tool: regenerates the deep-learning study as an HTML and PDF report.

Data flows one way, and each stage is a subpackage that imports only earlier ones:

    experiments/ (definitions, networks, findings, trainers)
    -> data/      verified datasets, the arrays one run trains on
    -> runs/      cache keys, the results store, training (cache or train)
    -> facts/     the tidy table of results, facts, statistics, judged findings
    -> builds/    build records, the ledger, diff, status, pruning
    -> document/  context, figures, equations, listings, HTML, PDF
    -> pipeline (the build as a few named steps), cli (the command line), serve (the live preview)

Shared plumbing without a stage: `errors`, `fsutil` (atomic writes), `lock`, `cachedir`.
"""

from pathlib import Path


def _project() -> Path:
    """The project a build works on: the checkout this package lies in, or, for a copy
    installed elsewhere (site-packages), the folder the command is run in."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "templates").is_dir() else Path.cwd()


ROOT = _project()  # experiments/, templates/, frozen/; build/ and .cache/ are made here


API = ("results", "findings", "record", "log")  # report.results() etc.: see `report.api`


def __getattr__(name: str):
    """The notebook API (`report.api`), imported on first use: the command line never pays
    for pandas."""
    if name in API:
        from report import api

        return getattr(api, name)
    raise AttributeError(f"module 'report' has no attribute {name!r}")
