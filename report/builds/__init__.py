"""Stage 4, builds: what each build did (`record`), the builds kept (`ledger`), what changed
between two and why, within seed noise or beyond (`changes`), what a build would train and
why (`status`), and what `prune` may delete."""
