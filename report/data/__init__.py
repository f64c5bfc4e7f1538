"""Stage 1, data: what the engine asks of a study's data (`interface.Data`), where data files
are looked for and downloaded to (`files`, `fetch`, `datasets`), the decoded-array cache, the
arrays one run trains on (`rundata`), and one image of each class, kept for the figures that
show the data (`samples`). Nothing here knows about runs or reports, or about any dataset."""
