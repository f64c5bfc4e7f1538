"""The command line: `python build.py [build|freeze] [options]`.

User mistakes (bad options, missing data, template errors) end in one line on stderr
and exit code 2; an interrupt ends with exit code 130 and leaves cache and outputs
as they were (every write is atomic).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from report.errors import ReportError

log = logging.getLogger("report")


def parser() -> argparse.ArgumentParser:
    from experiments.profiles import PROFILES
    from report.splits import SPLIT_ENV, SPLITS

    p = argparse.ArgumentParser(
        prog="build.py",
        description="Regenerate the study's report: train (or take from cache) every experiment, "
        "draw every figure, render HTML and PDF.",
    )
    p.add_argument("command", nargs="?", default="build", choices=("build", "status", "freeze"),
                   help="build (default): build the report; status: what is cached, what is stale and why; "
                   "freeze: copy the latest build's results into frozen/")
    p.add_argument("--strict", action="store_true", help="fail the build when the runs contradict a claim of the text")
    p.add_argument("--json", action="store_true", help="status: print JSON instead of text")
    p.add_argument("--profile", default="full", help=f"one of {', '.join(PROFILES)} (default: full)")
    p.add_argument("--data-dir", help="where the datasets are (default: $REPORT_DATA_DIR, else ~/.cache/dlreport/data)")
    p.add_argument("--notmnist-split", help=f"{' or '.join(SPLITS)} (default: ${SPLIT_ENV}; required without notMNIST_large)")
    p.add_argument("--only", help="comma-separated experiment ids to build (default: all)")
    p.add_argument("--rerun", nargs="?", const="all", default="",
                   help="retrain even if cached: all experiments, or comma-separated ids")
    p.add_argument("--out", type=Path, help="output directory (default: build/)")
    p.add_argument("--cache-dir", type=Path, help="cache directory (default: .cache/)")
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    return p


def _ids(value: str | None) -> tuple[str, ...]:
    return tuple(i.strip() for i in (value or "").split(",") if i.strip())


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s", stream=sys.stderr)
    from report import datasets, pipeline

    overrides = {k: v for k, v in (("out_dir", args.out), ("cache_dir", args.cache_dir)) if v is not None}
    cfg = pipeline.BuildConfig(
        data_dir=datasets.resolve_data_dir(args.data_dir),
        profile=args.profile,
        notmnist_split=args.notmnist_split,
        only=_ids(args.only),
        rerun=frozenset(_ids(args.rerun)),
        strict=args.strict,
        **overrides,
    )
    try:
        if args.command == "status":
            from report import status

            report = pipeline.status(cfg)
            print(json.dumps(report, indent=1) if args.json else status.format_text(report))
        elif args.command == "freeze":
            copied, dropped = pipeline.freeze(cfg)
            log.info("froze %d new results into %s, dropped %d no longer used", copied, cfg.frozen_dir, dropped)
        else:
            pipeline.build(cfg)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: cache and outputs are unchanged", file=sys.stderr)
        return 130
    return 0
