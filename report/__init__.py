"""dlreport: a literate build tool that regenerates a deep-learning study as an HTML and PDF report.

The engine knows no study: a study's own package declares a `study.Study` (named in its
project's `pyproject.toml`, found by `project`), and everything about the study comes
through it. Data flows one way, and each stage is a subpackage that imports only earlier ones:

    project, study, claims   where the project is and what its study declares
    -> data/        a study's data files found, verified, fetched; the arrays one run trains on
    -> frameworks/  which libraries key, start and describe a run (TensorFlow, NumPy)
    -> runs/        cache keys, the results store, training (cache or train)
    -> facts/       the tidy table of results, facts, statistics, judged findings
    -> builds/      build records, the ledger, diff, status, pruning
    -> document/    context, figures, equations, listings, HTML, PDF
    -> pipeline (the build as a few named steps), cli (the command line), serve (the live preview)

Shared plumbing without a stage: `errors`, `fsutil` (atomic writes), `lock`, `cachedir`.
"""

API = ("results", "findings", "record", "log")  # dlreport.results() etc.: see `dlreport.api`


def __getattr__(name: str):
    """`ROOT`, the working directory's project folder (`project.current`: found on first use,
    so that importing the engine outside a project fails nowhere), and the notebook API
    (`dlreport.api`), imported on first use: the command line never pays for pandas."""
    if name == "ROOT":
        from dlreport import project

        return project.current().root
    if name in API:
        from dlreport import api

        return getattr(api, name)
    raise AttributeError(f"module 'dlreport' has no attribute {name!r}")
