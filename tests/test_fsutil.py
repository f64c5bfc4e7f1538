"""Only what this tool made is ever deleted: the leftover sweep spares every foreign file."""

from __future__ import annotations

from report.fsutil import TEMP_SUFFIX, atomic_write_bytes, remove_leftovers, temp_name


def test_the_sweep_removes_our_leftovers_and_no_foreign_tmp_file_or_folder(tmp_path):
    foreign = [tmp_path / ".draft.tmp", tmp_path / "mystuff" / ".notes.tmp", tmp_path / ".model.bin.tmp",
               tmp_path / "mystuff" / ".keep.tmp" / "inside.txt", tmp_path / "x.dlreport-tmp.txt"]
    for path in foreign:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("the user's")
    ours = [temp_name(tmp_path / "results" / "ab" / "entry.json"), temp_name(tmp_path / "builds" / "0007_x")]
    ours[0].parent.mkdir(parents=True)
    ours[0].write_text("half an entry")
    ours[1].mkdir(parents=True)
    (ours[1] / "report.pdf").write_bytes(b"%PDF")
    assert all(p.name.endswith(TEMP_SUFFIX) for p in ours)
    assert remove_leftovers(tmp_path) == 2
    assert not any(p.exists() for p in ours)
    assert all(p.read_text() == "the user's" for p in foreign)


def test_an_atomic_write_leaves_nothing_beside_its_file(tmp_path):
    atomic_write_bytes(tmp_path / "a" / "f.bin", b"data")
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["f.bin"]
