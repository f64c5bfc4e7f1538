"""The command line's manners: misspelt commands, options and ids answered with the closest,
options before or after the command, each command offering only what it reads, settings
that stick (and say where they came from), and `diff`'s choice of the build to compare with.

The mistakes run the real command in a process of its own (as a user types it); the parser's
rules are also checked directly."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dlreport import ROOT, cli, settings
from dlreport.builds import ledger, record
from dlreport.errors import ReportError

SUBSTITUTE = ["--notmnist-split", "substitute"]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, cwd=ROOT)


@pytest.mark.parametrize("argv, said", [
    (["stauts"], "unknown command 'stauts' — did you mean 'status'?"),
    (["bulid", "--profile", "quick"], "unknown command 'bulid' — did you mean 'build'?"),
    (["frobnicate"], "unknown command 'frobnicate' (commands: build, status, diff, log"),
    (["--profle", "quick", "status"], "unknown option '--profle' — did you mean --profile?"),
    (["status", "--exit-cod"], "build.py status has no option '--exit-cod' — did you mean --exit-code?"),
    (["diff", "--profile", "quick"], "build.py diff has no option '--profile'"),
    (["status", "--only", "a1", *SUBSTITUTE], "unknown experiment 'a1' — did you mean A1?"),
    (["status", "--only", "B3-d0.4/0.3", *SUBSTITUTE], "did you mean B3-d0.4/0.2"),
])
def test_a_mistake_is_one_line_naming_the_closest_right_word(tmp_path, argv, said):
    result = run(*argv, "--out", str(tmp_path / "out")) if argv[0] in ("status", "diff") else run(*argv)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and said in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()  # refused before anything is made


@pytest.mark.parametrize("given, meant", [
    (["-q", "status"], ["status", "-q"]),
    (["--profile", "quick", "status", "--json"], ["status", "--profile", "quick", "--json"]),
    (["--out", "status", "log"], ["log", "--out", "status"]),  # an option's value is never the command
    (["--rerun", "A1", "--profile", "quick"], ["build", "--rerun", "A1", "--profile", "quick"]),
    (["--rerun", "status"], ["status", "--rerun"]),  # an optional value that is a command is the command
    ([], ["build"]),
    (["--help"], ["--help"]),
    (["builds", "--json"], ["builds", "--json"]),
])
def test_options_go_before_or_after_the_command(given, meant):
    assert cli.command_first(given, cli.parser()) == meant


def test_options_before_the_command_mean_what_they_mean_after_it(tmp_path):
    out = str(tmp_path / "out")
    before = run("-q", "--profile", "quick", *SUBSTITUTE, "--out", out, "status", "--json", "--only", "A1")
    after = run("status", "--json", "-q", "--profile", "quick", *SUBSTITUTE, "--out", out, "--only", "A1")
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert before.stdout == after.stdout and json.loads(before.stdout)["experiments"][0]["id"] == "A1"


def test_each_command_offers_only_the_options_it_reads():
    commands = cli._commands(cli.parser())
    offered = {name: set(p._option_string_actions) for name, p in commands.items()}
    assert not {"--seeds", "--set", "--out", "--executor"} & offered["fetch"]
    assert "--out" not in offered["serve"] and "--rerun" not in offered["serve"]
    assert offered["log"] == {"-h", "--help", "-q", "--quiet", "-v", "--verbose", "--out", "--json"}
    assert offered["builds"] == offered["log"]
    assert {"--profile", "--only", "--seeds", "--set", "--data-dir", "--notmnist-split"} <= offered["status"]
    for name, p in commands.items():
        assert "130" not in p.format_help(), name  # the exit codes are told once, at the top
    assert "130" in cli.parser().format_help()
    assert "{full,quick}" in commands["build"].format_help()  # the choices are shown


def test_settings_come_from_option_environment_project_file_remembered_default(tmp_path, monkeypatch):
    project, out = tmp_path / "project", tmp_path / "out"
    project.mkdir()
    monkeypatch.delenv("REPORT_DATA_DIR", raising=False)
    monkeypatch.delenv("REPORT_NOTMNIST_SPLIT", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    def found(**given):
        got = settings.resolve({"data-dir": given.get("data_dir"), "notmnist-split": given.get("split")}, out, project)
        return {name: (s.value, s.source.split()[0]) for name, s in got.items()}

    assert found() == {"data-dir": (str(tmp_path / "xdg" / "dlreport" / "data"), "default"),
                       "notmnist-split": (None, "default")}
    out.mkdir()
    settings.remember(out, {"data-dir": "/remembered", "notmnist-split": "substitute"})
    settings.remember(out, {"data-dir": "/remembered", "notmnist-split": None})  # a build that needed no split keeps it
    assert found() == {"data-dir": ("/remembered", "the"), "notmnist-split": ("substitute", "the")}
    (project / "pyproject.toml").write_text('[tool.dlreport]\n"data-dir" = "/from-project"\n')
    assert found()["data-dir"] == ("/from-project", str(project / "pyproject.toml"))
    monkeypatch.setenv("REPORT_DATA_DIR", "/from-env")
    monkeypatch.setenv("REPORT_NOTMNIST_SPLIT", "original")
    assert found() == {"data-dir": ("/from-env", "environment"), "notmnist-split": ("original", "environment")}
    assert found(data_dir="/given", split="substitute") == {"data-dir": ("/given", "option"),
                                                            "notmnist-split": ("substitute", "option")}


def test_config_says_each_setting_and_where_it_came_from(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    settings.remember(out, {"notmnist-split": "substitute"})
    shown = run("config", "--out", str(out), "--data-dir", "/somewhere", env={"REPORT_NOTMNIST_SPLIT": ""})
    assert shown.returncode == 0, shown.stderr
    lines = dict(line.split(None, 1) for line in shown.stdout.splitlines())
    assert lines["data-dir"].split() == ["/somewhere", "option", "--data-dir"]
    assert lines["notmnist-split"].split()[:2] == ["substitute", "the"] and str(out) in lines["notmnist-split"]


def _entry(book: ledger.Ledger, profile: str, only: list[str], seeds: int | None = None) -> ledger.Entry:
    n = len(book.entries()) + 1
    rec = {"format": record.RECORD_FORMAT, "id": f"20260101-0000{n:02d}-00000{n:x}", "profile": profile, "only": only,
           "seeds": seeds}
    return book.add(rec["id"], lambda seq: {"record.json": record.dumps(rec).encode()}, publish=not only)


def test_diff_compares_with_the_last_build_of_the_same_profile_and_selection(tmp_path):
    book = ledger.Ledger(tmp_path)
    book.claim()
    whole = _entry(book, "full", [])
    quick = _entry(book, "quick", [])
    b1 = _entry(book, "full", ["B1"])
    other = _entry(book, "full", ["A1"])
    again = _entry(book, "full", ["B1"])
    assert book.comparable(again) == b1  # not the A1 build just before it
    assert book.comparable(other) == quick  # nothing like it: the published build
    assert book.comparable(_entry(book, "full", [])) == whole
    assert book.comparable(_entry(book, "full", [], seeds=2)).seq > whole.seq  # another seed count: the published one
    with pytest.raises(ReportError, match="nothing to compare it with"):
        book.comparable(ledger.Ledger(tmp_path).entries()[0])
