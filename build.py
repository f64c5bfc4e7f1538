#!/usr/bin/env python3
"""The one entry point: `python build.py --help`."""

import os
import sys

if __name__ == "__main__":
    # WeasyPrint's font subsetting iterates over sets, whose order follows Python's
    # per-process hash seed; a fixed seed makes the same inputs give the same PDF bytes.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])

    from dlreport.cli import main

    sys.exit(main())
