"""Stage 3, facts: the results as one tidy table (`results`), the facts read off each run's
curves (`analysis`), their summaries over seeds with scipy.stats (`stats`), and the
original's findings judged by one stated rule (`claims`). Plain data in, plain data out."""
