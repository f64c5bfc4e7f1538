#!/usr/bin/env bash
# A venv with DVC, only for benchmarks/scale.py's side-by-side figures (DVC is not a dependency
# of the project): `benchmarks/dvc-venv.sh` then `scale.py --dvc benchmarks/.dvc-venv/bin/dvc`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv benchmarks/.dvc-venv
benchmarks/.dvc-venv/bin/pip install --quiet "dvc==3.67.1"
benchmarks/.dvc-venv/bin/dvc --version
