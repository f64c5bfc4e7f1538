"""Stage 1, data: the study's datasets read from their published files and verified by the
checksum of their content (`datasets`), and turned into the train/validation arrays one
run trains on, deterministically (`splits`); one image of each class, kept for the figures
that show the data (`samples`). Nothing here knows about runs or reports."""
