"""The command line: `python build.py [build|status|diff|builds|prune|freeze|fetch|serve] [options]`,
each command with its own options and help (`build.py diff --help`).

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

from report import interrupts
from report.errors import ReportError, shorten, shown
from report.runs.executor import EXECUTORS, Placement

log = logging.getLogger("report")


COMMANDS = ("build", "status", "diff", "builds", "prune", "freeze", "fetch", "serve")
EXIT_CODES = """exit codes:
  0    done (for status --exit-code: nothing to train; for diff --fail-on-change: nothing changed)
  1    status --exit-code: something to train; diff --fail-on-change: something changed
  2    a mistake: bad option, bad definition or template, missing or damaged data, a download that failed
       (one line on stderr)
  130  interrupted: cache and outputs are as they were"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dlreport")
    except PackageNotFoundError:  # a checkout that was never installed: its own pyproject says
        import tomllib

        from report import ROOT

        try:
            return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):  # a copy of the code without its pyproject
            return "unknown"


class _Parser(argparse.ArgumentParser):
    """argparse with its mistakes in one line and a hint, instead of eight lines of usage."""

    def error(self, message: str) -> None:
        self.exit(2, f"error: {shorten(message, 300)} (see `{self.prog} --help`)\n")


def _whole(low: int, high: int | None = None, what: str = "") -> callable:
    """An argparse type: a whole number from `low` (to `high`), refused in one line otherwise."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{shown(text)} is not a whole number") from None
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{value}: give {what or 'a number'} {span}")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    from experiments.profiles import PROFILES
    from report.builds.ledger import DEFAULT_KEEP
    from report.data.specs import SPLIT_ENV, SPLITS

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", type=Path, help="output directory (default: build/)")
    common.add_argument("--cache-dir", type=Path, help="cache directory (default: .cache/)")
    common.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    selection = argparse.ArgumentParser(add_help=False)
    selection.add_argument("--profile", default="full", help=f"one of {', '.join(PROFILES)} (default: full)")
    selection.add_argument("--data-dir", help="where the datasets are (default: $REPORT_DATA_DIR, else ~/.cache/dlreport/data)")
    selection.add_argument("--notmnist-split",
                           help=f"{' or '.join(SPLITS)} (default: ${SPLIT_ENV}; required without notMNIST_large)")
    selection.add_argument("--only", help="comma-separated experiment ids to build (default: all)")
    selection.add_argument("--seeds", type=_whole(1, what="a number of seeds"), metavar="N",
                           help="seeds per experiment (default: the profile's, per part: full 3 for Part A, 5 for B and C)")
    selection.add_argument("--set", action="append", default=[], metavar="PATTERN.NAME=VALUE", dest="overrides",
                           help="override a hyper-parameter without editing code, for the experiments whose id matches "
                           "PATTERN (a glob): --set A1.learning_rate=3e-3, --set 'A3-*.iterations=200' (repeatable)")

    placement = argparse.ArgumentParser(add_help=False)
    placement.add_argument("--executor", choices=EXECUTORS, default="local",
                           help="where runs train: in this process (local, the default) or on a Ray cluster (ray)")
    placement.add_argument("--ray-address", metavar="HOST:PORT",
                           help="the Ray cluster to use (default: $RAY_ADDRESS; neither: start Ray on this machine)")
    placement.add_argument("--cpus-per-run", type=int, metavar="N",
                           help="CPUs (TensorFlow threads) per run (default: TensorFlow's own locally, 1 on Ray)")
    placement.add_argument("--gpus-per-run", type=float, default=0.0, metavar="N", help="GPUs per run on Ray (default 0)")

    prog = "build.py" if sys.argv[0].endswith("build.py") else "dlreport"
    p = _Parser(prog=prog, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Regenerate the study's report: train (or take from cache) every experiment, draw every "
                "figure, render HTML and PDF. Without a command, `build`.")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help: str, *parents) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, parents=[common, *parents], epilog=EXIT_CODES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    b = command("build", "build the report (the default command)", selection, placement)
    b.add_argument("--strict", action="store_true", help="fail when a finding of the original is not reproduced, "
                   "or a run is suspect")
    b.add_argument("--keep-going", action="store_true",
                   help="build everything else when a run diverges, and show that run as failed in the report")
    b.add_argument("--changes-since", metavar="BUILD",
                   help="add a 'Changes since' section comparing this build with an earlier one of the ledger")
    b.add_argument("--rerun", nargs="?", const="all", default="",
                   help="retrain even if cached: all experiments, or comma-separated ids")
    b.add_argument("--cached-only", action="store_true",
                   help="train nothing: render the runs the cache and frozen store hold, and name those missing")
    b.add_argument("--publish", action="store_true",
                   help="make a partial (--only) build the current report (by default it is only kept in the ledger)")
    s = command("status", "what is cached, what is stale and why, and how long the rest would train", selection, placement)
    s.add_argument("--json", action="store_true", help="print JSON instead of text")
    s.add_argument("--exit-code", action="store_true", help="exit with 1 when something would be trained (for CI)")
    d = command("diff", "what changed between two builds and why (default: the last two)")
    d.add_argument("builds", nargs="*", metavar="BUILD",
                   help="builds to compare, as latest, previous, a number (7 or #7) or a prefix of a build id")
    d.add_argument("--json", action="store_true", help="print JSON (same as --format json)")
    d.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="output format")
    d.add_argument("--all", action="store_true", help="also list the experiments that are the same stored runs")
    d.add_argument("--atol", action="append", default=[], metavar="[METRIC=]TOL",
                   help="absolute tolerance, for every metric or one (repeatable), e.g. --atol val_acc=0.005")
    d.add_argument("--rtol", action="append", default=[], metavar="[METRIC=]TOL",
                   help="relative tolerance, for every metric or one (repeatable)")
    d.add_argument("--fail-on-change", action="store_true",
                   help="exit with 1 when a metric changed beyond tolerance or an experiment was added or removed")
    command("builds", "list the builds kept in the ledger").add_argument("--json", action="store_true",
                                                                        help="print JSON instead of text")
    command("prune", "delete all but the last builds (never the newest of a profile), the drawings and PDF pieces none "
            "of them used, and checkpoints of stored runs").add_argument(
        "--keep", type=int, default=DEFAULT_KEEP, help=f"builds to keep (default {DEFAULT_KEEP})")
    command("freeze", "copy the latest build's results into frozen/ (intact results of finished runs only)")
    f = command("fetch", "download and verify the data files the build reads (for all its runs, stored or not)", selection)
    f.add_argument("--mirror", action="append", metavar="URL",
                   help="a mirror holding the data directory's layout (URL/fashion-mnist/..., URL/notmnist/...), tried "
                   "before the publisher (repeatable; default: $REPORT_DATA_MIRROR, addresses separated by spaces)")
    v = command("serve", "preview the report in a browser, rendered from stored results (nothing is trained) again on "
                "every template or code edit; stale runs are named in a banner", selection)
    v.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    v.add_argument("--port", type=_whole(0, 65535, "a port"), default=8000,
                   help="port to listen on (default: 8000; 0: any free port)")
    v.add_argument("--open", action="store_true", help="open the page in a browser")
    return p


def _ids(value: str | None, option: str) -> tuple[str, ...]:
    """Comma-separated experiment ids, each once; a value that names none is a mistake (it
    would otherwise mean "all")."""
    if value is None or (option == "--rerun" and value == ""):
        return ()
    ids = [i.strip() for i in value.split(",") if i.strip()]
    if not ids:
        raise ReportError(f"{option} {shown(value)} names no experiment: give comma-separated ids, e.g. {option} A1,B2")
    once = tuple(dict.fromkeys(ids))
    if len(once) < len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        log.warning("%s names %s more than once: each is built once", option, ", ".join(shown(i, 30) for i in twice))
    return once


def _placement(args: argparse.Namespace) -> Placement:
    """Where runs train; an option that only a Ray cluster reads is refused without --executor ray."""
    executor = getattr(args, "executor", "local")
    if executor != "ray":
        given = [f"--{n.replace('_', '-')}" for n in ("ray_address", "gpus_per_run") if getattr(args, n, None)]
        if given:
            raise ReportError(f"{' and '.join(given)}: only with --executor ray")
    cpus, gpus = getattr(args, "cpus_per_run", None), getattr(args, "gpus_per_run", 0.0) or 0.0
    if cpus is not None and cpus < 1:
        raise ReportError(f"--cpus-per-run {cpus}: give at least 1")
    if gpus < 0:
        raise ReportError(f"--gpus-per-run {gpus:g}: give 0 or more")
    return Placement(executor, getattr(args, "ray_address", None), cpus, gpus)


def _with_command(argv: list[str]) -> list[str]:
    """`build.py --profile quick` means `build.py build --profile quick`."""
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        return ["build", *argv]
    return argv


def console() -> None:
    """The `dlreport` command. WeasyPrint's font subsetting iterates over sets, whose order
    follows Python's hash seed: a fixed seed makes the same inputs give the same PDF bytes."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, "-m", "report.cli", *sys.argv[1:]])
    sys.exit(main())


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = parser().parse_args(_with_command(list(sys.argv[1:] if argv is None else argv)))
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s", stream=sys.stderr)
    interrupts.install()
    from report import pipeline
    from report.data import files

    try:
        paths = {k: v for k, v in (("out_dir", args.out), ("cache_dir", args.cache_dir)) if v is not None}
        cfg = pipeline.BuildConfig(
            data_dir=files.resolve_data_dir(getattr(args, "data_dir", None)),
            profile=getattr(args, "profile", "full"),
            notmnist_split=getattr(args, "notmnist_split", None),
            only=_ids(getattr(args, "only", None), "--only"),
            rerun=frozenset(_ids(getattr(args, "rerun", ""), "--rerun")),
            seeds=getattr(args, "seeds", None),
            overrides=tuple(pipeline.parse_override(o) for o in getattr(args, "overrides", [])),
            strict=getattr(args, "strict", False),
            changes_since=getattr(args, "changes_since", None),
            keep_going=getattr(args, "keep_going", False),
            publish=getattr(args, "publish", False),
            cached_only=getattr(args, "cached_only", False),
            placement=_placement(args),
            **paths,
        )
        return _run(args, cfg)
    except ReportError as exc:
        print(f"error: {shorten(str(exc), 2000)}", file=sys.stderr)  # values are cut short where they are named
        return exc.exit_code
    except BrokenPipeError:  # `diff … | head`: the reader has what it wanted, as with `git log | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a file system refusal no specific handler anticipated: still one line
        print(f"error: {exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: cache and outputs are unchanged", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace, cfg) -> int:
    from report import pipeline
    from report.builds import changes, ledger, status

    if args.command == "status":
        report = pipeline.status(cfg)
        print(json.dumps(report, indent=1) if args.json else status.format_text(report))
        if args.exit_code and any(r["state"] not in ("cached", "failed") for r in report["experiments"]):
            return 1
    elif args.command == "diff":
        if len(args.builds) > 2:
            raise ReportError("diff compares two builds: give at most OLD and NEW")
        old, new = [*args.builds, "previous", "latest"][:2] if not args.builds else [*args.builds, "latest"][:2]
        result = pipeline.diff(cfg, old, new, changes.parse_tolerances(args.atol, args.rtol))
        print(changes.FORMATS["json" if args.json else args.format](result, args.all))
        return 1 if args.fail_on_change and result["any_change"] else 0
    elif args.command == "builds":
        rows = [ledger.summary(e) for e in ledger.Ledger(cfg.out_dir).entries()]
        print(json.dumps(rows, indent=1) if args.json else ledger.format_list(rows))
    elif args.command == "prune":
        removed, drawings, checkpoints = pipeline.prune_builds(cfg, args.keep)
        log.info("removed %d build(s) from the ledger, kept the last %d", len(removed), args.keep)
        if drawings:
            log.info("removed %d figure, equation and PDF-piece file(s) no kept build used (%.1f MB)",
                     drawings[0], drawings[1] / 1e6)
        if checkpoints:
            log.info("removed %d checkpoint(s) of runs whose result is stored", checkpoints)
    elif args.command == "freeze":
        copied, dropped = pipeline.freeze(cfg)
        log.info("froze %d new results into %s, dropped %d no longer used", copied, cfg.frozen_dir, dropped)
    elif args.command == "fetch":
        fetched = pipeline.fetch(cfg, args.mirror)
        log.info("%d data file(s) in %s verified, %d of them downloaded", len(fetched), cfg.data_dir,
                 sum(how == "downloaded" for *_, how in fetched))
    elif args.command == "serve":
        from report.serve import PreviewServer

        pipeline.check_folders(cfg)
        cfg.cache.claim()  # the preview keeps its drawings there
        server = PreviewServer(cfg, args.host, args.port)
        print(f"serving the report at {server.url} (Ctrl-C stops)", flush=True)
        server.run(open_browser=args.open)
    else:
        pipeline.build(cfg)
    return 0


if __name__ == "__main__":
    console()
