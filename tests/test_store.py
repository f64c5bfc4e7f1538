"""The results store: atomic entries, corrupt ones ignored, frozen tier consulted."""

from __future__ import annotations

from report.keys import key_of
from report.store import ResultStore

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


def test_freeze_copies_into_the_frozen_tier_which_is_then_used(tmp_path):
    store = ResultStore(tmp_path / "local", tmp_path / "frozen")
    store.put(KEY, PARTS, {"final": {}})
    assert store.freeze([KEY]) == 1 and store.freeze([KEY]) == 0
    fresh = ResultStore(tmp_path / "other-local", tmp_path / "frozen")
    assert fresh.get(KEY) is not None and fresh.where(KEY) == "frozen"
