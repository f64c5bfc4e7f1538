"""The results store: atomic entries, corrupt ones ignored, frozen tier consulted."""

from __future__ import annotations

from dlreport.runs.keys import key_of
from dlreport.runs.store import ResultStore

PARTS = {"scheme": 1, "spec": {"x": 1}, "code": {}, "versions": {}}
KEY = key_of(PARTS)


def test_put_then_get_round_trips_and_leaves_no_temporary_files(tmp_path):
    store = ResultStore(tmp_path / "local", tmp_path / "frozen")
    store.put(KEY, PARTS, {"final": {"val_acc": 0.5}})
    assert store.get(KEY)["result"] == {"final": {"val_acc": 0.5}}
    assert [p.name for p in (tmp_path / "local").rglob("*") if p.is_file()] == [f"{KEY}.json"]


def test_truncated_or_edited_entries_are_treated_as_absent(tmp_path):
    store = ResultStore(tmp_path / "local", tmp_path / "frozen")
    store.put(KEY, PARTS, {"final": {}})
    path = next((tmp_path / "local").rglob("*.json"))
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    assert store.get(KEY) is None
    path.write_text(text.replace('"x": 1', '"x": 2'))  # components no longer hash to the key
    assert store.get(KEY) is None
    store.put(KEY, PARTS, {"final": {"val_acc": 0.5}})
    path.write_text(path.read_text().replace("0.5", "0.9"))  # still parses, result edited
    assert store.get(KEY) is None


def test_edited_or_truncated_build_record_is_ignored(tmp_path, caplog):
    from dlreport.builds import record

    path = tmp_path / "record.json"
    record.write(path, {"format": record.RECORD_FORMAT, "id": "x", "duration_s": 1.5})
    assert record.read(path)["id"] == "x"
    path.write_text(path.read_text().replace("1.5", "2.5"))
    assert record.read(path) is None and "checksum mismatch" in caplog.text
    path.write_text(path.read_text()[:20])
    assert record.read(path) is None and "unreadable" in caplog.text


def _parts(x, profile="full"):
    return {"scheme": 1, "spec": {"x": x, "profile": profile}, "code": {}, "versions": {}}


def test_freeze_copies_into_the_frozen_tier_which_is_then_used(tmp_path):
    store = ResultStore(tmp_path / "local", tmp_path / "frozen")
    key = key_of(_parts(1))
    store.put(key, _parts(1), {"final": {}})
    assert store.freeze([key], "full", {key}) == (1, 0) and store.freeze([key], "full", {key}) == (0, 0)
    fresh = ResultStore(tmp_path / "other-local", tmp_path / "frozen")
    assert fresh.get(key) is not None and fresh.where(key) == "frozen"


def test_freeze_drops_entries_of_the_same_profile_that_the_build_no_longer_uses(tmp_path):
    store = ResultStore(tmp_path / "local", tmp_path / "frozen")
    old, new, quick = key_of(_parts(1)), key_of(_parts(2)), key_of(_parts(3, "quick"))
    for key, parts in ((old, _parts(1)), (new, _parts(2)), (quick, _parts(3, "quick"))):
        store.put(key, parts, {})
    store.freeze([old, quick], "full", {old, quick})
    assert store.freeze([new], "full", {new}) == (1, 1)
    def frozen(key):
        return (tmp_path / "frozen" / key[:2] / f"{key}.json").is_file()

    assert not frozen(old) and frozen(new)
    assert frozen(quick)  # another profile's entry stays
