"""Literate build tool: regenerates the deep-learning study as an HTML and PDF report.

Data flows one way through the modules of this package:

    experiments/definitions  ->  keys + store (cached runs)  ->  runner (training)
    ->  analysis (computed facts)  ->  figures  ->  context  ->  render (HTML, PDF)

`pipeline.build` strings the stages together; `cli` is the command line around it.
"""
