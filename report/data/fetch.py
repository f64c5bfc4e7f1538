"""Downloading one data file: from the mirrors, then from its publisher; retried; verified
before it is given its real name.

pooch does the transfer (HTTP(S), FTP, SFTP, DOI; streamed into a temporary file that it
renames only once the transfer is complete). It is called with ``known_hash=None`` and
the check is ours, because the project's checksums are of the *decompressed content*,
not of the bytes pooch downloads (see `report.data.datasets`): the official gz files and
Debian's copies differ in their gzip headers only, and a hash of the archive's bytes
would pin one packaging of the same images. A pooch processor is no place for that
check either: pooch runs processors after it has moved the download to its final name,
so a bad file would already sit where a build looks for it.

So every try downloads into a private staging folder beside the target. A download that
passes the check is renamed into place (same folder, so one atomic rename); one that
fails it is renamed ``<name>.rejected-<time>`` and kept for inspection, never under the
real name; a transfer cut short never leaves the staging folder, which is removed after
each try (and, after a kill, by the next fetch of that file).

Mirrors and retries are ours too: `pooch.retrieve` takes one address and never retries,
and `pooch.Pooch` retries even a 404 (sleeping 1, 2, 3 s) and knows one address per file.
Here each address is tried in turn — the mirrors (``--mirror``, else
``$REPORT_DATA_MIRROR``), then the publisher — each up to 1 + `RETRIES` times on a network
error (a dropped connection, a truncated transfer, a timeout, a 5xx), but not again after
a 4xx (the file is not there) or after a download that fails verification (the next
address may hold a good copy).
"""

from __future__ import annotations

import glob
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dlreport import console
from dlreport.errors import ReportError
from dlreport.fsutil import FILE_MODE, alive

log = logging.getLogger(__name__)

MIRROR_ENV = "REPORT_DATA_MIRROR"  # mirror base addresses, separated by spaces
RETRIES = 3  # tries after the first, per address, on a network error
RETRY_WAIT_S = 1.0  # before the first retry; doubled for each further one
TIMEOUT_S = 60  # for connecting and between two received chunks, not for the whole file
CHUNK = 1 << 16
_STAGING = ".fetching"


def mirrors(cli_values: Sequence[str] | None = None) -> tuple[str, ...]:
    """The mirror base addresses: those given with --mirror, else those in $REPORT_DATA_MIRROR.

    A mirror holds the files as the data directory does (``<mirror>/<folder>/<file>``, a
    file's `DataFile.label`), so any copy of a data directory served over HTTP is one."""
    values = list(cli_values or []) or os.environ.get(MIRROR_ENV, "").split()
    return tuple(v.strip() for v in values if v.strip())


def addresses(relpath: str, published: str | None, mirror_urls: Sequence[str]) -> list[str]:
    """Where to try, in order: `relpath` under each mirror, then the published address."""
    return [f"{m.rstrip('/')}/{relpath}" for m in mirror_urls] + ([published] if published else [])


def download(label: str, target: Path, urls: Sequence[str], verify: Callable[[Path], str | None]) -> Path:
    """Download `label` to `target` from the first of `urls` that yields a file `verify`
    accepts (it returns None, or why the file is not the published one).

    Raises a one-line ReportError naming the file and what each address answered."""
    import pooch

    pooch.get_logger().setLevel(logging.WARNING)  # its INFO lines suggest pinning the archive's hash
    target.parent.mkdir(parents=True, exist_ok=True)
    answers = []
    for url in urls:
        for attempt in range(1 + RETRIES):
            staging = _staging_folder(target)
            try:
                try:
                    staged = _transfer(label, url, staging / target.name)
                except (OSError, ValueError) as exc:  # requests' errors are OSErrors; pooch refuses an address with ValueError
                    reason, again = _reason(exc)
                    if again and attempt < RETRIES:
                        wait = RETRY_WAIT_S * 2**attempt
                        log.info("%s: %s; trying again in %.0f s (%d of %d)", label, reason, wait, attempt + 2, 1 + RETRIES)
                        time.sleep(wait)
                        continue
                    answers.append(f"{url}: {reason}" + (f" ({attempt + 1} tries)" if attempt else ""))
                    break
                problem = verify(staged)
                if problem is None:
                    os.chmod(staged, FILE_MODE)  # pooch writes it private (0600): a shared data folder must be readable
                    os.replace(staged, target)
                    log.info("%s: downloaded and verified (%.1f MB)", label, target.stat().st_size / 1e6)
                    return target
                answers.append(f"{url}: {problem} (set aside as {set_aside(staged, target)})")
                break
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    raise ReportError(f"cannot download data file {label}: " + "; ".join(answers or ["no address to download it from"]))


def _transfer(label: str, url: str, staged: Path) -> Path:
    """One try: `url` streamed by pooch to `staged` (a name inside a staging folder)."""
    import pooch

    log.info("downloading %s from %s", label, url)
    progress = _Progress(staged.name)
    try:
        return Path(pooch.retrieve(url, None, fname=staged.name, path=staged.parent, downloader=_downloader(url, progress)))
    finally:
        progress.close()


def set_aside(path: Path, target: Path | None = None) -> Path:
    """Rename a file that fails verification to `<name>.rejected-<time>` beside `target`
    (default: beside itself), so that it is neither used nor lost."""
    target = target or path
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = target.with_name(f"{target.name}.rejected-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = target.with_name(f"{target.name}.rejected-{stamp}-{n}")
    os.replace(path, aside)
    return aside


def _staging_folder(target: Path) -> Path:
    """A new staging folder beside `target`; those left by fetches that were killed are removed."""
    prefix = f".{target.name}."
    for old in target.parent.glob(f"{glob.escape(prefix)}*{_STAGING}"):
        pid = old.name[len(prefix):].split(".")[0]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}.", suffix=_STAGING, dir=target.parent))


def _downloader(url: str, progress: _Progress):
    import pooch

    if url.startswith(("http://", "https://")):
        return pooch.HTTPDownloader(progressbar=progress, chunk_size=CHUNK, timeout=TIMEOUT_S)
    return pooch.choose_downloader(url, progressbar=progress)


def _reason(exc: BaseException) -> tuple[str, bool]:
    """A short reason for a failed transfer, and whether trying the same address again may help."""
    import requests

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        code = exc.response.status_code
        return f"HTTP {code} {exc.response.reason or ''}".strip(), code >= 500 or code in (408, 429)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection closed before the end of the file", True
    if isinstance(exc, requests.Timeout):
        return "timed out", True
    if isinstance(exc, ValueError) and not isinstance(exc, requests.RequestException):
        return str(exc).strip().splitlines()[0], False  # pooch: an address it cannot handle
    errno = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    text = errno.group(1).strip() if errno else (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text, isinstance(exc, (requests.RequestException, OSError))


class _Progress:
    """pooch's progress-bar protocol (`total`, `update`, `reset`, `close`), shown the way
    `report.runs.progress` shows a run: a live bar on a terminal, a plain line at each
    quarter otherwise (a log or CI gets no carriage-return redraws), nothing under -q."""

    def __init__(self, name: str) -> None:
        self.name, self.total, self.done, self.quarter = name, 0, 0, 0
        self.bar = None
        self.live = console.live()

    def update(self, n: int) -> None:
        self.done = min(self.done + n, self.total) if self.total else self.done + n
        if self.live:
            if self.bar is None:
                from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

                self.bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                                    console=console.console(), transient=True)
                self.task = self.bar.add_task(self.name, total=self.total or None)
                self.bar.start()
            self.bar.update(self.task, completed=self.done)
        elif self.total and log.isEnabledFor(logging.INFO) and self.quarter < (q := 4 * self.done // self.total) < 4:
            self.quarter = q
            log.info("  %s: %d %% of %.1f MB", self.name, 25 * q, self.total / 1e6)

    def reset(self) -> None:
        self.done = 0

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
