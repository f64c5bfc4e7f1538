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
