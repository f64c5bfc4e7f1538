"""The build ledger: every build kept whole, so any two can be compared later.

Each build that renders gets a folder `<out>/builds/<seq>_<build id>/` holding its
record, HTML, PDF and the series its figures were drawn from (`series.json`). The
folder is written under a temporary name and renamed into place, so a build killed
while saving leaves either a complete entry or none. `seq` orders builds even when
`SOURCE_DATE_EPOCH` gives them all the same time stamp.

The current report is `<out>/current`, a symbolic link to one entry, and
`<out>/report.pdf` etc. are fixed links through it. Publishing a build is one atomic
rename of `current`: a reader, or a build killed at any instant, sees the previous
report or the new one, never a new HTML beside an old PDF.

The output folder is the tool's own (`report.folders`: marked on first use, refused when
it holds anything else), and its layout is the one below; nothing else in it is touched:

    .dlreport        the marker
    .ledger.lock     held while a build takes its number and saves and publishes its entry
    builds/<seq>_<build id>/   the ledger (`ENTRY`): record, outputs, series.json, stamp.json
    current          the link to the published entry
    report.html, report.pdf, results.csv, record.json   links through `current`

Several builds may share one output folder (with different caches, say): each takes the
next number and saves its entry under the lock, so both end in the ledger, numbered apart.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dlreport import folders, lock
from dlreport.builds import record
from dlreport.errors import ReportError
from dlreport.facts.stats import FINDING_VERDICTS
from dlreport.fsutil import remove_leftovers, replace_symlink, temp_name, write_synced

DEFAULT_KEEP = 10
ENTRY = re.compile(rf"^(?P<seq>\d{{4,}})_(?P<id>{record.BUILD_ID})$")  # a ledger entry's folder: <seq>_<build id>


_READ: dict[Path, dict | None] = {}  # records read in this process (a record never changes once written)


@dataclass(frozen=True)
class Entry:
    seq: int
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def build_id(self) -> str:
        return self.name.split("_", 1)[1]

    def record(self) -> dict:
        rec = self.readable()
        if rec is None:
            raise ReportError(f"build {self.name} in the ledger has no readable record")
        return rec

    def readable(self) -> dict | None:
        """The build's record, or None when it is damaged or of an older format (reported once)."""
        if self.path not in _READ:
            _READ[self.path] = record.read(self.path / "record.json")
        return _READ[self.path]

    def series(self) -> dict:
        try:
            return json.loads((self.path / "series.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise ReportError(f"build {self.name} in the ledger has no readable series.json") from None


PUBLISHED = ("report.html", "report.pdf", "results.csv", "record.json")  # the links through `current`
STAMP = "stamp.json"  # in each entry: what it was rendered from, and its published files' sizes and times


def _signature(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _link_to(name: str) -> str:
    return "builds/" if name == "current" else f"current/{name}"


class Ledger:
    def __init__(self, out_dir: Path) -> None:
        self.out = out_dir
        self.root = out_dir / "builds"
        self.lock = out_dir / ".ledger.lock"

    def claim(self, option: str = "--out") -> None:
        """Make the output folder the tool's, or refuse it (see `report.folders`); a folder of
        an earlier version is recognised by its entries: the ledger, and links through it."""
        def ours(entry: os.DirEntry) -> bool:
            if entry.name == self.root.name or entry.name == self.lock.name:
                return True
            if entry.name not in ("current", *PUBLISHED) or not entry.is_symlink():
                return False
            return os.readlink(entry.path).startswith(_link_to(entry.name))

        folders.claim(self.out, "output", option, ours)

    def temp_folders(self) -> list[Path]:
        """Where saving a build writes through temporary names (for the leftover sweep)."""
        return [self.out, self.root]

    def entries(self) -> list[Entry]:
        """Complete builds, oldest first (temporary folders of interrupted saves are skipped)."""
        found = []
        try:
            names = [e.name for e in os.scandir(self.root) if e.is_dir(follow_symlinks=False)]
        except OSError:
            names = []
        for name in names:
            if (match := ENTRY.match(name)) and (self.root / name / "record.json").is_file():
                found.append(Entry(int(match["seq"]), self.root / name))
        return sorted(found, key=lambda e: e.seq)

    def add(self, build_id: str, files: Callable[[str], dict[str, bytes]], publish: bool,
            stamp: dict | None = None) -> Entry:
        """Save one build as the ledger's next entry, all at once, and (if `publish`) make it
        the current report. `files` gives its files for the entry's folder name (`<seq>_<build id>`,
        with the number it gets). The number is taken, the entry saved and published under the
        ledger's lock, so builds sharing the folder never take one number twice. `stamp` (what the build was rendered from) is
        saved beside them with the size and time of each published file: a later build
        reads this one small file, not the record, to know it has nothing to do."""
        with lock.exclusive(self.lock):
            seq = max((e.seq for e in self.entries()), default=0) + 1
            final = self.root / f"{seq:04d}_{build_id}"  # as `ENTRY` reads it
            tmp = temp_name(final)
            tmp.mkdir(parents=True)
            try:
                for name, data in files(final.name).items():
                    write_synced(tmp / name, data)
                if stamp is not None:
                    outputs = {n: _signature(tmp / n) for n in PUBLISHED if (tmp / n).is_file()}
                    write_synced(tmp / STAMP, json.dumps({**stamp, "outputs": outputs}, sort_keys=True).encode())
                tmp.rename(final)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            entry = Entry(seq, final)
            if publish:
                self._publish(entry)
            return entry

    def last_runs(self, profile: str, looked_at: int = 20) -> dict:
        """Each run's newest record among the last builds of `profile` (what a stale run is
        explained against: the same experiment and seed as last built at this size, not whatever
        the current build happens to be), with the sources their fingerprints covered."""
        runs: dict[tuple[str, int], dict] = {}
        sources: dict[str, str] = {}
        for entry in reversed(self.entries()[-looked_at:]):
            rec = entry.readable()
            if rec is None or rec.get("profile") != profile:
                continue
            for r in rec.get("runs", []):
                runs.setdefault((r["id"], r["seed"]), r)
            for fingerprint, text in rec.get("sources", {}).items():
                sources.setdefault(fingerprint, text)
        return {"profile": profile, "runs": list(runs.values()), "sources": sources}

    def stamp(self) -> dict | None:
        """The current build's stamp (see `add`), or None (none published, or one from before stamps)."""
        try:
            found = json.loads((self.out / "current" / STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) and isinstance(found.get("outputs"), dict) else None

    def unchanged(self, stamp: dict) -> bool:
        """Whether the published files are still those the stamp describes (same size, same time)."""
        try:
            return all(_signature(self.out / name) == list(mark) for name, mark in stamp["outputs"].items())
        except OSError:
            return False

    def check_publishable(self) -> None:
        """Fail now, in one line, where publishing would fail (or overwrite what is not the
        tool's) after the training: each link it switches must be its own link, or absent."""
        for name in ("current", *PUBLISHED):
            path = self.out / name
            if not (path.exists() or path.is_symlink()):
                continue
            if not path.is_symlink() or not os.readlink(path).startswith(_link_to(name)):
                what = "link" if path.is_symlink() else "folder" if path.is_dir() else "file"
                raise ReportError(f"{path} is not this tool's link but a {what} of its own: move it away or choose "
                                  f"another --out (dlreport replaces only what it made)")

    def _publish(self, entry: Entry) -> None:
        """Make `entry` the current build: switch `current` to it, then make sure each
        published name in the output folder is a link through `current`."""
        replace_symlink(self.out / "current", f"{self.root.name}/{entry.name}")
        for name in PUBLISHED:
            link = self.out / name
            if not (link.is_symlink() and os.readlink(link) == f"current/{name}"):
                replace_symlink(link, f"current/{name}")

    def current(self) -> Entry | None:
        link = self.out / "current"
        if not link.is_symlink():
            return None
        path = self.root / Path(os.readlink(link)).name  # spelled as `entries` spells it, so entries compare equal
        match = ENTRY.match(path.name)
        return Entry(int(match["seq"]), path) if match and path.is_dir() else None

    def find(self, ref: str) -> Entry:
        """A build by `latest`, `previous`, its number (`7` or `#7`), or a unique prefix of its id
        (a bare number is taken as a build number first). Builds whose record is unreadable are
        passed over: they cannot be compared."""
        entries = [e for e in self.entries() if e.readable() is not None]
        if not entries:
            raise ReportError(f"no builds in {self.root}: run a build first")
        if ref in ("latest", "previous"):
            index = -1 if ref == "latest" else -2
            if len(entries) < -index:
                raise ReportError(f"there is no {ref} build: the ledger holds {len(entries)}")
            return entries[index]
        number = ref.removeprefix("#")
        match = [e for e in entries if number.isdigit() and e.seq == int(number)]
        if not match and not ref.startswith("#"):
            match = [e for e in entries if e.build_id.startswith(ref)]
        if len(match) != 1:
            how = "matches no build" if not match else f"matches {len(match)} builds ({', '.join(e.name for e in match)})"
            raise ReportError(f"{ref!r} {how}: see `build.py builds`")
        return match[0]

    def comparable(self, new: Entry) -> Entry:
        """The build to compare `new` with when none is named: the newest earlier one of the
        same profile and selection (`--only`, seeds), else the published one, else the one before."""
        def shape(entry: Entry) -> tuple:
            rec = entry.readable() or {}
            return rec.get("profile"), tuple(rec.get("only") or ()), rec.get("seeds")

        earlier = [e for e in self.entries() if e.seq < new.seq and e.readable() is not None]
        if not earlier:
            raise ReportError(f"build #{new.seq} is the first in {self.root}: there is nothing to compare it with")
        same = [e for e in earlier if shape(e) == shape(new)]
        current = self.current()
        return same[-1] if same else current if current is not None and current.seq < new.seq else earlier[-1]

    def prune(self, keep: int = DEFAULT_KEEP) -> list[str]:
        """Delete all but the newest `keep` builds, never the current one nor the newest of each
        profile, and every build whose record is unreadable; then the leftovers of interrupted
        saves. What goes is decided before anything is deleted."""
        if keep < 1:
            raise ReportError(f"--keep must be at least 1, not {keep}")
        entries = self.entries()
        intact = [e for e in entries if e.readable() is not None]
        spared = {self.current(), *intact[-keep:]}
        newest_of_profile = {e.readable()["profile"]: e for e in intact}  # the last of each wins
        spared |= set(newest_of_profile.values())
        doomed = [e for e in entries if e not in spared]
        with lock.exclusive(self.lock):
            for entry in doomed:  # out of the ledger in one rename: a prune killed mid-way leaves a leftover, not half a build
                gone = temp_name(entry.path)
                entry.path.rename(gone)
                shutil.rmtree(gone)
        remove_leftovers(self.temp_folders())
        return [e.name for e in doomed]


def summary(entry: Entry) -> dict:
    """One line's worth of a build, for `build.py builds`."""
    rec = entry.readable()
    if rec is None:
        return {"seq": entry.seq, "id": entry.build_id, "damaged": True}
    return {
        "seq": entry.seq, "id": rec["id"], "time": rec["time"], "commit": rec["git"]["commit"][:10],
        "dirty": rec["git"]["dirty"], "profile": rec["profile"], "split": rec.get("data_choice"),
        "trained": rec["counts"]["run"], "cached": rec["counts"]["cached"], "duration_s": rec["duration_s"],
        "experiments": len(rec.get("experiments", {})), "runs": len(rec.get("runs", [])),
        "only": bool(rec.get("only")),
        "findings": {v: sum(c.get("verdict") == v for c in rec.get("claims", [])) for v in FINDING_VERDICTS},
    }


def format_list(rows: list[dict]) -> str:
    """The ledger as a table a terminal holds (under 100 columns), with its marks explained."""
    if not rows:
        return "no builds yet"
    header = f"{'#':>4}  {'build':<22}  {'time (UTC)':<16}  {'commit':<8}  {'profile':<7}  {'runs':<20}  {'took':>7}  findings"
    lines = [header]
    for r in rows:
        if r.get("damaged"):
            lines.append(f"{r['seq']:>4}  {r['id']:<22}  (record damaged or of an older format: left out of diff)")
            continue
        commit = r["commit"][:7] + ("+" if r["dirty"] else "")
        runs = f"{r['runs']}, {r['trained']} trained" + (" (--only)" if r["only"] else "")
        when = r["time"].replace("T", " ")[:16]
        f = r["findings"]
        lines.append(f"{r['seq']:>4}  {r['id']:<22}  {when:<16}  {commit:<8}  {r['profile']:<7}  {runs:<20}  "
                     f"{r['duration_s']:>6.1f}s  " + "/".join(str(f.get(v, 0)) for v in FINDING_VERDICTS))
    lines += ["findings: " + " / ".join(FINDING_VERDICTS), "commit+: with uncommitted changes; (--only): a partial build"]
    return "\n".join(lines)
