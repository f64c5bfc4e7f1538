"""Only what this tool made is ever deleted: the leftover sweep spares every foreign file, every
file of a live process, and everything outside the folders it is pointed at."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from dlreport.fsutil import FILE_MODE, TEMP_SUFFIX, atomic_write_bytes, private_temp_folder, remove_leftovers, temp_name


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _leftover(folder, name: str, pid: int):
    path = folder / f".{name}.{pid}.a1b2c3{TEMP_SUFFIX}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("half a file")
    return path


def test_the_sweep_removes_dead_writers_leftovers_and_no_foreign_tmp_file_or_folder(tmp_path):
    foreign = [tmp_path / ".draft.tmp", tmp_path / "mystuff" / ".notes.tmp", tmp_path / ".model.bin.tmp",
               tmp_path / "mystuff" / ".keep.tmp" / "inside.txt", tmp_path / "x.dlreport-tmp.txt",
               tmp_path / f"no-dot.123.abc{TEMP_SUFFIX}"]
    for path in foreign:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("the user's")
    dead = _dead_pid()
    ours = [_leftover(tmp_path / "results" / "ab", "entry.json", dead)]
    folder = tmp_path / "builds" / f".0007_x.{dead}.abcdef{TEMP_SUFFIX}"
    folder.mkdir(parents=True)
    (folder / "report.pdf").write_bytes(b"%PDF")
    ours.append(folder)
    assert remove_leftovers([tmp_path, tmp_path / "results" / "ab", tmp_path / "builds", tmp_path / "absent"]) == 2
    assert not any(p.exists() for p in ours)
    assert all(p.read_text() == "the user's" for p in foreign)


def test_the_sweep_spares_a_live_process_files_and_looks_only_where_it_is_told(tmp_path):
    live = _leftover(tmp_path / "builds", "0002_y", os.getppid())  # a build still writing: its parent process is alive
    own = _leftover(tmp_path, "record.json", os.getpid())
    deep = _leftover(tmp_path / "other-project" / ".cache" / "results" / "ab", "entry.json", _dead_pid())
    assert remove_leftovers([tmp_path, tmp_path / "builds"]) == 0
    assert live.exists() and own.exists() and deep.exists()


def test_an_atomic_write_leaves_nothing_beside_its_file_and_the_mode_the_umask_gives(tmp_path):
    atomic_write_bytes(tmp_path / "a" / "f.bin", b"data")
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["f.bin"]
    mode = stat.S_IMODE((tmp_path / "a" / "f.bin").stat().st_mode)
    assert mode == FILE_MODE == 0o666 & ~_umask() and mode & 0o044, oct(mode)  # readable by group and others (umask 022)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_temp_name_has_this_process_and_the_marker(tmp_path):
    name = temp_name(tmp_path / "x.json").name
    assert name.startswith(f".x.json.{os.getpid()}.") and name.endswith(TEMP_SUFFIX)


def test_private_temp_folders_of_dead_processes_are_removed_and_nothing_else(tmp_path, monkeypatch):
    monkeypatch.setattr("dlreport.fsutil.SYSTEM_TEMP", str(tmp_path))
    dead, alive = tmp_path / f"dlreport-test-{_dead_pid()}-abc123", tmp_path / f"dlreport-test-{os.getppid()}-abc123"
    foreign = [tmp_path / "dlreport-test-notapid-abc", tmp_path / "dlreport-other-1-abc", tmp_path / "mine"]
    for folder in (dead, alive, *foreign):
        folder.mkdir()
    own = private_temp_folder("test")
    assert own.is_dir() and own.name.startswith(f"dlreport-test-{os.getpid()}-")
    assert not dead.exists() and alive.exists() and all(f.exists() for f in foreign)
