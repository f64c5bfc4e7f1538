"""The results store: finished runs as small JSON files named by their cache key.

Two tiers, looked up in order:

* the local cache (`.cache/results/`, ignored by git) where every finished run lands;
* the frozen store (`frozen/`, committed), into which `build.py freeze` copies the
  entries a build used — so a fresh clone renders the report without training, and
  an edit retrains exactly the runs whose key it moves (Quarto's `_freeze/`, keyed).

An entry holds histories and metrics only (no weights), plus the key's components so
that any later build can explain why a key differs, and a checksum of its result.
Writes are atomic; an entry that does not parse, is not an entry, whose components do not
hash to its name or whose result does not match its checksum is reported in one line
(`damaged cache entry …: recomputed`) and treated as absent. `freeze` copies only intact
results of runs that finished, and replaces a damaged frozen entry by the intact local one.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from dlreport.fsutil import atomic_write_text, temp_name, unreadable
from dlreport.runs.keys import digest, key_of

log = logging.getLogger(__name__)


def result_checksum(result: dict) -> str:
    """A checksum of a result's canonical JSON: an entry edited by hand, or damaged on disk,
    in a way that still parses is caught too."""
    return digest(result)


@dataclass(frozen=True)
class Stored:
    """What `status` needs of a stored run without reading it whole: which tier holds it,
    whether it failed (and why), and how long it trained."""

    tier: str  # "local" or "frozen"
    failed: str | None
    train_seconds: float


class ResultStore:
    """The two tiers; with an `index` file, a small summary of every entry read so far
    (`stored`), each checked against its file's size and modification time, so that asking
    after a thousand runs costs a thousand `stat`s, not a thousand reads."""

    def __init__(self, local: Path, frozen: Path, index: Path | None = None) -> None:
        self.local = local
        self.frozen = frozen
        self.index_path = index
        self._index: dict[str, list] | None = None
        self._index_changed = False

    @staticmethod
    def _path(root: Path, key: str) -> Path:
        return root / key[:2] / f"{key}.json"

    def _read(self, path: Path, key: str) -> dict | None:
        """The entry at `path` if it is whole and is the entry of `key`; a damaged one is
        reported in one line and treated as absent (the run is then made again)."""
        if not path.is_file():
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(entry, dict) or not isinstance(entry.get("result"), dict):
                raise ValueError(f"not an entry but {type(entry).__name__}")
            if entry.get("key") != key or key_of(entry["components"]) != key:
                raise ValueError("content does not match its key")
            if entry.get("result_sha256") != result_checksum(entry["result"]):
                raise ValueError("result does not match its checksum")
            return entry
        except OSError as exc:
            log.warning("%s: recomputed", unreadable(path, exc))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("damaged cache entry %s (%s): recomputed", path, exc)
        return None

    def get(self, key: str) -> dict | None:
        """The stored entry for `key` (local first, then frozen), or None."""
        for root in (self.local, self.frozen):
            path = self._path(root, key)
            if (entry := self._read(path, key)) is not None:
                self._remember(path, entry)
                return entry
        return None

    def put(self, key: str, components: dict, result: dict) -> dict:
        entry = {"key": key, "components": components, "result": result, "result_sha256": result_checksum(result)}
        path = self._path(self.local, key)
        atomic_write_text(path, json.dumps(entry, indent=1, sort_keys=True) + "\n")
        self._remember(path, entry)
        return entry

    def _remember(self, path: Path, entry: dict) -> list | None:
        """Index an entry just read or written whole (see `stored`)."""
        try:
            stat = path.stat()
        except OSError:
            return None
        result = entry["result"]
        known = [stat.st_size, stat.st_mtime_ns, result["failed"]["reason"] if "failed" in result else None,
                 result.get("train_seconds", 0.0)]
        index = self._loaded_index()
        if index.get(str(path)) != known:
            index[str(path)] = known
            self._index_changed = True
        return known

    def has(self, key: str) -> str | None:
        """The tier whose file for `key` exists, unread (a no-op build asks only this)."""
        return next((name for name, root in (("local", self.local), ("frozen", self.frozen))
                     if self._path(root, key).is_file()), None)

    def stored(self, key: str) -> Stored | None:
        """The summary of the entry of `key` (local first, then frozen), or None when neither
        tier holds it intact: from the index while the file is the one indexed, else read."""
        index = self._loaded_index()
        for name, root in (("local", self.local), ("frozen", self.frozen)):
            path = self._path(root, key)
            try:
                stat = path.stat()
            except OSError:
                continue
            known = index.get(str(path))
            if known is None or known[:2] != [stat.st_size, stat.st_mtime_ns]:
                entry = self._read(path, key)
                if entry is None:
                    continue
                known = self._remember(path, entry)
            if known is not None:
                return Stored(name, known[2], known[3])
        return None

    def _loaded_index(self) -> dict[str, list]:
        if self._index is None:
            self._index = {}
            if self.index_path is not None:
                try:
                    loaded = json.loads(self.index_path.read_text(encoding="utf-8"))
                    self._index = loaded if isinstance(loaded, dict) else {}
                except (OSError, ValueError):
                    pass  # absent or damaged: it is made again as entries are read
        return self._index

    def save_index(self) -> None:
        """Keep what was learnt of the entries for the next process (a failed write costs only time)."""
        if self.index_path is None or not self._index_changed:
            return
        try:
            atomic_write_text(self.index_path, json.dumps(self._index, sort_keys=True))
            self._index_changed = False
        except OSError as exc:
            log.warning("store index not saved in %s (%s)", self.index_path, exc.strerror or exc)

    def where(self, key: str) -> str | None:
        """'local', 'frozen' or None: which tier holds `key`."""
        for name, root in (("local", self.local), ("frozen", self.frozen)):
            if self._read(self._path(root, key), key) is not None:
                return name
        return None

    def freeze(self, keys: list[str], profile: str, keep: set[str]) -> tuple[int, int]:
        """Copy the entries of `keys` missing from the frozen store from the local cache, and
        remove the frozen entries of `profile` that are not in `keep`. Returns (copied, dropped)."""
        dropped = 0
        for path in sorted(self.frozen.glob("*/*.json")):
            if path.stem in keep:
                continue
            try:
                stale = json.loads(path.read_text(encoding="utf-8"))["components"]["spec"]["profile"] == profile
            except (ValueError, KeyError, TypeError, OSError):
                stale = True
            if stale:
                path.unlink()
                dropped += 1
        copied = 0
        for key in keys:
            src, dst = self._path(self.local, key), self._path(self.frozen, key)
            if self._read(dst, key) is not None:
                continue
            entry = self._read(src, key)
            if entry is None:
                log.warning("result %s is not in the local cache intact: not frozen (rebuild, then freeze)", key[:12])
            elif "failed" in entry["result"]:
                log.warning("result %s is of a run that failed (%s): not frozen", key[:12], entry["result"]["failed"]["reason"])
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                tmp = temp_name(dst)
                shutil.copyfile(src, tmp)
                tmp.replace(dst)
                copied += 1
        return copied, dropped
