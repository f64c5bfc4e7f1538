"""Stage 2, runs: each experiment × seed as a run spec under a cache key that covers
everything that can change its result (`keys`, `source`), its result taken from the store
(`store`) or trained (`runner` decides, an `executor` trains it through `training.run_spec`,
in this process or on a Ray cluster (`cluster`), resumable through `checkpoints`), and the
machine it ran on."""
