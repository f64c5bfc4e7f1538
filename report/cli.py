"""The command line: `build.py [COMMAND] [options]` (or `dlreport …` once installed).

argparse is kept rather than click or typer: it is in the standard library (no import cost
in a no-op that must take a quarter second), and the few manners it lacks are added here —
a misspelt command or option answered with the closest one, options accepted before or
after the command, each command offered only the options it reads. Neither click nor typer
would give shell completion without a further package, so none is offered.

User mistakes (bad options, missing data, template errors) end in one line on stderr and
exit code 2; an interrupt ends with exit code 130 and leaves cache and outputs as they were.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import os
import sys
import textwrap
from pathlib import Path

from dlreport import console as console_mod
from dlreport import interrupts
from dlreport.errors import ReportError, shorten, shown
from dlreport.runs.placement import EXECUTORS, Placement

log = logging.getLogger(__name__)

COMMANDS = {  # name: what it does, in one line (the top-level help and the README's table say the same)
    "build": "train (or take from the cache) every run, judge the findings, render HTML and PDF (the default)",
    "status": "what is cached, what would train and why, and about how long it would take",
    "diff": "what changed between two builds and why (default: the latest against the last comparable one)",
    "log": "the builds kept in the ledger, newest last",
    "prune": "delete old builds, the drawings and PDF pieces no kept build used, and checkpoints of stored runs",
    "freeze": "copy the latest build's results into frozen/, for a fresh clone to render without training",
    "fetch": "download and verify the data files the build reads",
    "serve": "preview the report in a browser, rendered again on every edit (nothing is trained)",
    "config": "the settings each command uses and where each comes from",
    "init": "write a small working study into a new folder DIR, to build and then make your own",
}
ALIASES = {"builds": "log"}  # the command's former name
HELP_FLAGS = ("-h", "--help", "--version")
EXIT_CODES = """exit codes:
  0    done (status --exit-code: nothing to train; diff --fail-on-change: nothing changed)
  1    status --exit-code: something to train; diff --fail-on-change: something changed
  2    a mistake: a bad option, definition or template, missing or damaged data, a failed download
       (one line on stderr)
  130  interrupted: cache and outputs are as they were"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dlreport")
    except PackageNotFoundError:  # a checkout that was never installed: its own pyproject says
        import tomllib

        from dlreport import ROOT

        try:
            return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):  # a copy of the code without its pyproject
            return "unknown"


class _Parser(argparse.ArgumentParser):
    """argparse with its mistakes in one line, with the closest option where one is near."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)  # `--prof` is a typo to point out, not a guess to act on
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:
        if message.startswith("unrecognized arguments: "):
            message = self._unrecognised(message.removeprefix("unrecognized arguments: ").split())
        self.exit(2, f"error: {shorten(message, 300)} (see `{self.prog} --help`)\n")

    def _unrecognised(self, tokens: list[str]) -> str:
        name = tokens[0].partition("=")[0]
        if not name.startswith("-"):
            return f"unexpected argument {shown(tokens[0], 60)} for {self.prog}"
        known = [o for o in self._option_string_actions if o.startswith("--")]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
        return f"{self.prog} has no option {shown(name, 60)}" + (f" — did you mean {close[0]}?" if close else "")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written (they are wrapped by hand), option help wrapped to the terminal,
    and an option's choices shown once, in its metavar."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=min(100, _width()))


def _width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


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


def _groups() -> dict[str, argparse.ArgumentParser]:
    """The options, in groups each command takes only if it reads them."""
    from dlreport import study

    try:
        declared = study.current()
        profiles: list[str] | None = list(declared.profiles)
        choice = declared.data.choice
    except ReportError:  # outside a project: any name parses, and the command then says where it is, in one line
        profiles, choice = None, None

    titles = {"talk": None, "out": "folders", "cache": "folders", "data": "data", "choice": "which runs",
              "runs": "which runs", "placement": "where runs train"}
    parents = {name: argparse.ArgumentParser(add_help=False, allow_abbrev=False) for name in titles}
    g = {name: parents[name].add_argument_group(title) if title else parents[name] for name, title in titles.items()}
    g["talk"].add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    g["talk"].add_argument("-v", "--verbose", action="store_true", help="also every run's own line")
    g["out"].add_argument("--out", type=Path, metavar="DIR", help="output folder (default: build/)")
    g["cache"].add_argument("--cache-dir", type=Path, metavar="DIR", help="cache folder (default: .cache/)")
    g["data"].add_argument("--data-dir", metavar="DIR",
                           help="where the datasets are (default: $REPORT_DATA_DIR, else the last build's, "
                           "else ~/.cache/dlreport/data; `config` shows which)")
    if choice is not None:
        g["data"].add_argument(f"--{choice.option}", dest="data_choice", choices=choice.values,
                               metavar="{" + ",".join(choice.values) + "}",
                               help=f"{choice.help} (default: ${choice.env}, else the last build's)")
    g["choice"].add_argument("--profile", choices=profiles, default="full",
                             metavar="{" + ",".join(profiles) + "}" if profiles else "NAME",
                             help="the study's size (default: full)")
    g["choice"].add_argument("--only", metavar="IDS", help="comma-separated experiment ids (default: all)")
    g["runs"].add_argument("--seeds", type=_whole(1, what="a number of seeds"), metavar="N",
                           help="seeds per experiment (default: the profile's, per part)")
    g["runs"].add_argument("--set", action="append", default=[], metavar="ID.NAME=VALUE", dest="overrides",
                           help="change a hyper-parameter of the experiments whose id matches ID (a glob) without "
                           "editing code: --set ID.learning_rate=3e-3, --set 'ID-*.epochs=20' (repeatable)")
    g["placement"].add_argument("--executor", choices=EXECUTORS, default="local", metavar="{" + ",".join(EXECUTORS) + "}",
                                help="where runs train: this process (local, the default) or a Ray cluster (ray)")
    g["placement"].add_argument("--ray-address", metavar="HOST:PORT",
                                help="the Ray cluster (default: $RAY_ADDRESS; neither: Ray started on this machine)")
    g["placement"].add_argument("--cpus-per-run", type=int, metavar="N",
                                help="CPUs (framework threads) per run (default: 1 on Ray; locally, the cores shared "
                                "out between the runs that train at once)")
    g["placement"].add_argument("--runs-at-once", type=_whole(1, what="a number of runs"), metavar="N",
                                help="runs trained at the same time on this machine, each in a process of its own "
                                "(default: as many as the cores hold at --cpus-per-run, a run per core without it; "
                                "1 beside a GPU)")
    g["placement"].add_argument("--gpus-per-run", type=float, default=0.0, metavar="N",
                                help="GPUs per run on Ray (default 0)")
    return parents


READS = {  # command: the option groups it reads
    "build": ("out", "cache", "data", "choice", "runs", "placement"),
    "status": ("out", "cache", "data", "choice", "runs", "placement"),
    "diff": ("out",),
    "log": ("out",),
    "prune": ("out", "cache"),
    "freeze": ("out", "cache"),
    "fetch": ("data", "choice"),
    "serve": ("cache", "data", "choice", "runs"),
    "config": ("out", "data"),
    "init": (),
}


def parser() -> argparse.ArgumentParser:
    from dlreport.builds.ledger import DEFAULT_KEEP

    g = _groups()
    prog = "build.py" if sys.argv[0].endswith("build.py") else "dlreport"
    about = ("Regenerate the study's report: train (or take from the cache) every experiment over its seeds, draw "
             "every figure, judge the original's findings, render HTML and PDF. Without a command, `build`.")
    p = _Parser(prog=prog, formatter_class=_Formatter, description=textwrap.fill(about, min(100, _width())),
                epilog=f"{EXIT_CODES}\n\nOptions go before or after the command. `{prog} COMMAND --help` lists "
                "a command's own.")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, title="commands")
    made = {}
    for name, what in COMMANDS.items():
        aliases = [a for a, to in ALIASES.items() if to == name]
        made[name] = sub.add_parser(name, aliases=aliases, help=what, formatter_class=_Formatter,
                                    description=textwrap.fill(what[0].upper() + what[1:] + ".", min(100, _width())),
                                    parents=[g["talk"], *(g[k] for k in READS[name])])
    b = made["build"]
    b.add_argument("--rerun", nargs="?", const="all", default="", metavar="IDS",
                   help="retrain even if cached: every experiment, or the comma-separated IDS")
    b.add_argument("--cached-only", action="store_true",
                   help="train nothing: render the runs the cache and frozen store hold, and name those missing")
    b.add_argument("--keep-going", action="store_true",
                   help="build everything else when a run diverges, and show that run as failed in the report")
    b.add_argument("--strict", action="store_true",
                   help="fail when a finding of the original is not reproduced, or a run is suspect")
    b.add_argument("--changes-since", metavar="BUILD",
                   help="add a 'Changes since' section comparing this build with an earlier one of the ledger")
    b.add_argument("--publish", action="store_true",
                   help="make a partial (--only) build the current report (by default it is only kept in the ledger)")
    s = made["status"]
    s.add_argument("--json", action="store_true", help="print JSON instead of text")
    s.add_argument("--exit-code", action="store_true", help="exit with 1 when something would be trained (for CI)")
    d = made["diff"]
    d.add_argument("builds", nargs="*", metavar="BUILD",
                   help="OLD and NEW: latest, previous, a number (7 or #7) or a prefix of a build id; one given is "
                   "compared with the latest")
    d.add_argument("--format", choices=("text", "markdown", "json"), default="text", metavar="{text,markdown,json}",
                   help="output format (default: text)")
    d.add_argument("--json", action="store_true", help="the same as --format json")
    d.add_argument("--all", action="store_true", help="also list the experiments that are the same stored runs")
    d.add_argument("--atol", action="append", default=[], metavar="[METRIC=]TOL",
                   help="absolute tolerance, for every metric or one (repeatable), e.g. --atol val_acc=0.005")
    d.add_argument("--rtol", action="append", default=[], metavar="[METRIC=]TOL",
                   help="relative tolerance, for every metric or one (repeatable)")
    d.add_argument("--fail-on-change", action="store_true",
                   help="exit with 1 when a metric changed beyond tolerance or an experiment was added or removed")
    made["log"].add_argument("--json", action="store_true", help="print JSON instead of text")
    made["prune"].add_argument("--keep", type=_whole(1, what="a number of builds"), default=DEFAULT_KEEP, metavar="N",
                               help=f"builds to keep (default {DEFAULT_KEEP}; never the newest of a profile)")
    made["fetch"].add_argument("--mirror", action="append", metavar="URL",
                               help="a mirror holding the data folder's layout (URL/FOLDER/FILE), tried before the "
                               "publisher (repeatable; default: $REPORT_DATA_MIRROR, addresses separated by spaces)")
    v = made["serve"]
    v.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    v.add_argument("--port", type=_whole(0, 65535, "a port"), default=8000, metavar="N",
                   help="port to listen on (default: 8000; 0: any free port)")
    v.add_argument("--open", action="store_true", help="open the page in a browser")
    made["config"].add_argument("--json", action="store_true", help="print JSON instead of text")
    made["init"].add_argument("folder", metavar="DIR", type=Path, help="a folder that does not exist yet, or is empty")
    return p


def _commands(p: argparse.ArgumentParser) -> dict[str, _Parser]:
    """Each command's parser, by name and alias."""
    return p._subparsers._group_actions[0].choices


def _options(p: argparse.ArgumentParser) -> tuple[set[str], set[str], set[str]]:
    """Every option string of every command; those that take a value; those whose value is optional."""
    known, takes, maybe = set(HELP_FLAGS), set(), set()
    for command in _commands(p).values():
        for a in command._actions:
            known.update(a.option_strings)
            if a.option_strings and a.nargs != 0:
                (maybe if a.nargs == "?" else takes).update(a.option_strings)
    return known, takes, maybe


def command_first(argv: list[str], p: argparse.ArgumentParser) -> list[str]:
    """The arguments with the command word first, wherever it was given (`-q status` is
    `status -q`; no command is `build`); a word that is no command is refused with the
    closest command named."""
    known, takes, maybe = _options(p)
    names = [*COMMANDS, *ALIASES]
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            break
        if word.startswith("-"):
            name = word.partition("=")[0]
            if name not in known and not name.lstrip("-").isdigit():  # a negative number is a value, said later
                close = difflib.get_close_matches(name, sorted(o for o in known if o.startswith("--")), n=1, cutoff=0.7)
                raise ReportError(f"unknown option {shown(name, 40)}" + (f" — did you mean {close[0]}?" if close else
                                                                         " (see `--help`)"))
            if "=" not in word and (word in takes or (word in maybe and i + 1 < len(argv)
                                                      and not argv[i + 1].startswith("-") and argv[i + 1] not in names)):
                i += 1
            i += 1
            continue
        if word in names:
            return [word, *argv[:i], *argv[i + 1:]]
        close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
        hint = f" — did you mean '{close[0]}'?" if close else f" (commands: {', '.join(COMMANDS)})"
        raise ReportError(f"unknown command {shown(word, 40)}{hint}")
    if argv and all(a in HELP_FLAGS for a in argv):
        return argv  # the top-level help or version
    return ["build", *argv]


def _ids(value: str | None, option: str) -> tuple[str, ...]:
    """Comma-separated experiment ids, each once; a value that names none is a mistake (it
    would otherwise mean "all")."""
    if value is None or (option == "--rerun" and value == ""):
        return ()
    ids = [i.strip() for i in value.split(",") if i.strip()]
    if not ids:
        raise ReportError(f"{option} {shown(value)} names no experiment: give comma-separated ids, e.g. {option} ID1,ID2")
    once = tuple(dict.fromkeys(ids))
    if len(once) < len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        log.warning("%s names %s more than once: each is built once", option, ", ".join(shown(i, 30) for i in twice))
    return once


def _placement(args: argparse.Namespace) -> Placement:
    """Where runs train; an option that only a Ray cluster reads is refused without --executor ray."""
    executor, at_once = getattr(args, "executor", "local"), getattr(args, "runs_at_once", None)
    if executor != "ray":
        given = [f"--{n.replace('_', '-')}" for n in ("ray_address", "gpus_per_run") if getattr(args, n, None)]
        if given:
            raise ReportError(f"{' and '.join(given)}: only with --executor ray")
    elif at_once is not None:
        raise ReportError("--runs-at-once: only with the local executor (a Ray cluster trains as many runs at once "
                          "as its nodes hold: see --cpus-per-run)")
    cpus, gpus = getattr(args, "cpus_per_run", None), getattr(args, "gpus_per_run", 0.0) or 0.0
    if cpus is not None and cpus < 1:
        raise ReportError(f"--cpus-per-run {cpus}: give at least 1")
    if gpus < 0:
        raise ReportError(f"--gpus-per-run {gpus:g}: give 0 or more")
    return Placement(executor, getattr(args, "ray_address", None), cpus, gpus, at_once)


def console() -> None:
    """The `dlreport` command. WeasyPrint's font subsetting iterates over sets, whose order
    follows Python's hash seed: a fixed seed makes the same inputs give the same PDF bytes."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, "-m", "dlreport.cli", *sys.argv[1:]])
    sys.exit(main())


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    given = list(sys.argv[1:] if argv is None else argv)
    interrupts.install()
    try:
        p = parser()
        args, extra = p.parse_known_args(command_first(given, p))
        if extra:  # said by the command's own parser, which knows the options it has
            _commands(p)[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
        args.command = ALIASES.get(args.command, args.command)
        console_mod.setup(console_mod.QUIET if args.quiet else console_mod.VERBOSE if args.verbose else console_mod.NORMAL)
        if args.command == "init":  # the one command that needs no project: it makes one
            return _init(args.folder)
        cfg, found = _config(args)
        return _run(args, cfg, found)
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


def _init(folder: Path) -> int:
    from dlreport import init

    written = init.create(folder)
    log.info("wrote a study in %s (%d files): cd there and run `dlreport build --profile quick`", folder, len(written))
    return 0


def _config(args: argparse.Namespace):
    """The build configuration the options, the environment and the remembered settings make."""
    from dlreport import planning, settings, study
    from dlreport.data import files

    paths = {k: v for k, v in (("out_dir", getattr(args, "out", None)), ("cache_dir", getattr(args, "cache_dir", None)))
             if v is not None}
    out_dir = paths.get("out_dir", planning.BuildConfig.out_dir)
    choice = study.current().data.choice
    given = {settings.DATA_DIR: getattr(args, "data_dir", None)}
    if choice is not None:
        given[choice.option] = getattr(args, "data_choice", None)
    found = settings.resolve(given, out_dir)
    cfg = planning.BuildConfig(
        data_dir=files.resolve_data_dir(found["data-dir"].value),
        profile=getattr(args, "profile", "full"),
        data_choice=found[choice.option].value if choice is not None else None,
        only=_ids(getattr(args, "only", None), "--only"),
        rerun=frozenset(_ids(getattr(args, "rerun", ""), "--rerun")),
        seeds=getattr(args, "seeds", None),
        overrides=tuple(planning.parse_override(o) for o in getattr(args, "overrides", [])),
        strict=getattr(args, "strict", False),
        changes_since=getattr(args, "changes_since", None),
        keep_going=getattr(args, "keep_going", False),
        publish=getattr(args, "publish", False),
        cached_only=getattr(args, "cached_only", False),
        placement=_placement(args),
        **paths,
    )
    return cfg, found


def _run(args: argparse.Namespace, cfg, found: dict) -> int:
    from dlreport import commands, pipeline, settings, study
    from dlreport.builds import changes, ledger, status

    if args.command == "status":
        report = commands.status(cfg)
        print(json.dumps(report.as_dict(), indent=1) if args.json else status.format_text(report))
        if args.exit_code and report.to_run:
            return 1
    elif args.command == "diff":
        if len(args.builds) > 2:
            raise ReportError("diff compares two builds: give at most OLD and NEW")
        refs = [*args.builds, "latest"][:2] if args.builds else [None, "latest"]
        result = commands.diff(cfg, *refs, changes.parse_tolerances(args.atol, args.rtol))
        print(changes.FORMATS["json" if args.json else args.format](result, args.all))
        return 1 if args.fail_on_change and result["any_change"] else 0
    elif args.command == "log":
        rows = [ledger.summary(e) for e in ledger.Ledger(cfg.out_dir).entries()]
        print(json.dumps(rows, indent=1) if args.json else ledger.format_list(rows))
    elif args.command == "prune":
        removed, drawings, checkpoints = commands.prune_builds(cfg, args.keep)
        log.info("removed %d build(s) from the ledger, kept the last %d", len(removed), args.keep)
        if drawings:
            log.info("removed %d figure, equation and PDF-piece file(s) no kept build used (%.1f MB)",
                     drawings[0], drawings[1] / 1e6)
        if checkpoints:
            log.info("removed %d checkpoint(s) of runs whose result is stored", checkpoints)
    elif args.command == "freeze":
        copied, dropped = commands.freeze(cfg)
        log.info("froze %d new results into %s, dropped %d no longer used", copied, cfg.frozen_dir, dropped)
    elif args.command == "fetch":
        fetched = commands.fetch(cfg, args.mirror)
        log.info("%d data file(s) in %s verified, %d of them downloaded", len(fetched), cfg.data_dir,
                 sum(how == "downloaded" for *_, how in fetched))
    elif args.command == "serve":
        from dlreport.serve import PreviewServer

        commands.preflight_preview(cfg)  # a mistake is said here, not served as an error page
        server = PreviewServer(cfg, args.host, args.port)
        print(f"serving the report at {server.url} (Ctrl-C stops)", flush=True)
        server.run(open_browser=args.open)
    elif args.command == "config":
        print(json.dumps({k: vars(s) for k, s in found.items()}, indent=1) if args.json else settings.format_text(found))
    else:
        pipeline.build(cfg)
        choice = study.current().data.choice
        settings.remember(cfg.out_dir, {settings.DATA_DIR: str(cfg.data_dir.resolve()),
                                        **({choice.option: cfg.data_choice} if choice is not None else {})})
    return 0


if __name__ == "__main__":
    console()
