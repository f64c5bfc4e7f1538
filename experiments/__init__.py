"""The study's experiment definitions (`definitions`), profiles (`profiles`) and the
training code they run (`lowlevel` for Part A, `keras_models` for Part B)."""
