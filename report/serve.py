"""`dlreport serve`: the report in a browser, re-rendered on every saved edit.

Three parts, each with one job:

* an HTTP server (the standard library's `ThreadingHTTPServer`) that serves the latest
  preview at ``/``, and at ``/__dlreport/wait?after=N`` answers once the preview number
  is no longer N (a long poll; the page's injected script then reloads it);
* a watcher (watchfiles) over the templates, the code and the results stores;
* a renderer process (`preview.Previewer`), spawned, not forked, so that it imports the
  code as it is on disk. It is kept between template edits, which it renders with every
  import and the run keys warm (under a second), and replaced after a code edit, so the
  page always shows the code on disk without modules being reloaded in place.

Nothing is trained: the preview is made from stored results alone, like a --cached-only
build, and the runs a code edit made stale are named in a banner, with `status`'s
reasons, instead of being left out silently. Nothing is written to `build/`: the reload
script and the banners are put into the served copy of the page only.
"""

from __future__ import annotations

import dataclasses
import html
import ipaddress
import json
import logging
import multiprocessing
import re
import signal
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from dlreport import ROOT, project
from dlreport.errors import ReportError

log = logging.getLogger(__name__)

ENDPOINT = "/__dlreport/"
WAIT_S = 25.0  # a long poll's longest wait: well under the time browsers and proxies give up on a request
WATCHED_SUFFIXES = {*project.SOURCE_SUFFIXES, ".json"}  # what a report is rendered from, and stored results

_RELOAD = """<script>/* dlreport serve: reload when a new preview is ready */
(function () {
  var shown = %d;
  function poll() {
    fetch("%swait?after=" + shown, {cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(function (s) { if (s.preview !== shown) { location.reload(); } else { poll(); } })
      .catch(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
</script>"""
_BANNER_STYLE = ("position:sticky;top:0;z-index:1000;margin:0;padding:.6em 1em;font:14px/1.4 sans-serif;"
                 "background:%s;border-bottom:2px solid %s;color:#222")


class PreviewServer:
    """The preview server of one build configuration: bound on creation (so its address is
    known), serving and watching from `run()` until Ctrl-C or `close()`."""

    def __init__(self, cfg, host: str = "127.0.0.1", port: int = 8000) -> None:
        self.cfg = cfg
        self.host = host.strip("[]")
        try:
            self.http = _Server((self.host, port), _handler(self))
        except (OSError, OverflowError) as exc:
            raise ReportError(f"cannot serve on {host}:{port}: {getattr(exc, 'strerror', None) or exc}") from None
        if not _loopback(self.host):
            log.warning("serving on %s: any machine that can reach this one can read the report (127.0.0.1 keeps it to "
                        "this machine)", self.host)
        self.changed = threading.Condition()
        self.number = 0  # of the latest preview; the page's script waits for it to change
        self.page = _page("<p>Rendering the report from the stored results…</p>", 0, "")
        self.state: dict = {"preview": 0, "trained": 0}
        self._last_html = ""
        self._pending: set[str] = {"render"}  # "code": restart the renderer first
        self._stop = threading.Event()
        self._renderer = _Renderer(cfg)

    @property
    def url(self) -> str:
        host, port = self.http.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def run(self, open_browser: bool = False) -> None:
        """Serve until Ctrl-C (or `close()` from another thread)."""
        threads = [threading.Thread(target=self._rebuild, name="preview-rebuild", daemon=True),
                   threading.Thread(target=self._watch, name="preview-watch", daemon=True)]
        for t in threads:
            t.start()
        if open_browser:
            import webbrowser

            webbrowser.open(self.url)
        in_main = threading.current_thread() is threading.main_thread()
        if in_main:  # `kill` stops it as Ctrl-C does: renderer ended, port closed
            previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            self.http.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            log.info("stopped serving")
        finally:
            if in_main:
                signal.signal(signal.SIGTERM, previous)
            self._stop.set()
            with self.changed:
                self.changed.notify_all()
            for t in threads:
                t.join(timeout=5)
            self._renderer.stop()
            self.http.server_close()

    def close(self) -> None:
        self.http.shutdown()

    def wait(self, after: int, timeout: float = WAIT_S) -> int:
        """The preview number once it is not `after` (or after `timeout`)."""
        with self.changed:
            self.changed.wait_for(lambda: self.number != after or self._stop.is_set(), timeout)
            return self.number

    def _watch(self) -> None:
        from watchfiles import watch

        logging.getLogger("watchfiles").setLevel(logging.WARNING)  # its "1 change detected" repeats ours
        folders = [*project.current().sources().values(), self.cfg.cache.results, self.cfg.frozen_dir]
        folders = [f for f in folders if f.is_dir()]
        for changes in watch(*folders, watch_filter=_relevant, stop_event=self._stop, step=30, rust_timeout=500,
                             raise_interrupt=False):
            paths = sorted({Path(p) for _, p in changes})
            log.info("changed: %s", ", ".join(_shown(p) for p in paths[:4]) + (" …" if len(paths) > 4 else ""))
            with self.changed:
                self._pending |= {"render"} | ({"code"} if any(p.suffix == ".py" for p in paths) else set())
                self.changed.notify_all()

    def _rebuild(self) -> None:
        while not self._stop.is_set():
            with self.changed:
                self.changed.wait_for(lambda: self._pending or self._stop.is_set())
                pending, self._pending = self._pending, set()
            if self._stop.is_set():
                return
            if "code" in pending:
                self._renderer.stop()  # a fresh process imports the edited code
            started = time.perf_counter()
            reply = self._renderer.render()
            self._publish(reply, time.perf_counter() - started)

    def _publish(self, reply: dict, seconds: float) -> None:
        number = self.number + 1
        left_out = reply.get("left_out", self.state.get("left_out", []))
        error = reply.get("error")
        if error:
            log.warning("preview #%d: %s", number, error)
        else:
            self._last_html = reply["html"]
            log.info("preview #%d in %.2f s: %d run(s) from the stores%s", number, seconds, reply["runs"],
                     f", {len(left_out)} stale or never run (not trained, not shown)" if left_out else "")
        banner = _error_banner(error) + _stale_banner(left_out)
        body = self._last_html or "<p>No run of this build is stored yet: nothing to show.</p>"
        page = _page(body, number, banner)
        with self.changed:
            self.number, self.page = number, page
            self.state = {"preview": number, "seconds": round(seconds, 3), "error": error, "left_out": left_out,
                          "runs": reply.get("runs", 0), "trained": 0,
                          "tensorflow_imported": reply.get("tensorflow_imported", False)}
            self.changed.notify_all()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
CONNECTION_TIMEOUT_S = 30.0  # a connection that sends nothing for this long is closed: it cannot hold a thread forever


class _Server(ThreadingHTTPServer):
    """The standard library's threaded server, on IPv6 too, and quiet about browsers that
    close a tab (or a connection) while a response is on its way."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, handler)

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            log.debug("connection from %s ended early", client_address)
        else:
            super().handle_error(request, client_address)


def _loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_allowed(header: str | None, bound: str) -> bool:
    """Whether a request's `Host` may be served: the address the server is bound to, a
    loopback name, or — for a server bound beyond loopback — an address literal or this
    machine's own name. Any other name is what a DNS-rebinding page sends to reach a server
    on loopback through a browser, and is refused."""
    try:
        host = (urlsplit(f"//{header}").hostname or "").rstrip(".") if header else ""
    except ValueError:  # not a host[:port] at all
        return False
    if not host:
        return False
    if host == bound.lower() or _loopback(host):
        return True
    if _loopback(bound):
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return host in {socket.gethostname().lower(), socket.getfqdn().lower()}


def _relevant(change, path: str) -> bool:
    """Sources and stored results; not caches, editors' swap files or temporary files."""
    p = Path(path)
    return p.suffix in WATCHED_SUFFIXES and not p.name.startswith(".") and "__pycache__" not in p.parts


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _page(body_html: str, number: int, banner: str) -> bytes:
    """The served page: the report with the banner first in its body and the reload script
    last (a fragment gets a body of its own)."""
    if not re.search(r"<body[^>]*>", body_html):
        body_html = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>dlreport serve</title></head>"
                     f"<body>{body_html}</body></html>")
    opening = re.search(r"<body[^>]*>", body_html)
    page = body_html[:opening.end()] + banner + body_html[opening.end():]
    script = _RELOAD % (number, ENDPOINT)
    closing = page.rfind("</body>")
    page = page[:closing] + script + page[closing:] if closing >= 0 else page + script
    return page.encode("utf-8")


def _error_banner(error: str | None) -> str:
    if not error:
        return ""
    return (f'<div id="dlreport-serve-error" style="{_BANNER_STYLE % ("#fde2e1", "#c0392b")}"><strong>This edit does not '
            f"render:</strong> {html.escape(error)}. The page below is the last preview that did.</div>")


def _stale_banner(left_out: list[dict]) -> str:
    """The runs a build would train (what `status` says), which the preview leaves out."""
    if not left_out:
        return ""
    by_experiment: dict[str, list[dict]] = {}
    for row in left_out:
        by_experiment.setdefault(row["id"], []).append(row)
    items = []
    for exp, rows in by_experiment.items():
        causes = list(dict.fromkeys(c["cause"] for r in rows for c in r.get("causes", [])))
        why = "; ".join(causes) or "no result stored under its current key (no earlier build record says what changed)"
        seeds = ", ".join(str(r["seed"]) for r in rows)
        items.append(f"<li><strong>{html.escape(exp)}</strong> seed{'s' if len(rows) > 1 else ''} {seeds}: "
                     f"{html.escape(why)}</li>")
    n = len(left_out)
    return (f'<div id="dlreport-serve-stale" style="{_BANNER_STYLE % ("#fff3cd", "#d4a017")}"><strong>Stale: {n} run'
            f"{'s' if n > 1 else ''} would be trained by a build and {'are' if n > 1 else 'is'} not in this preview."
            "</strong> <code>serve</code> trains nothing; their experiments are shown with the seeds still stored, "
            "or not at all. Run <code>dlreport build</code> to train them (<code>dlreport status</code> says why "
            f"and how long).<ul style='margin:.3em 0 0'>{''.join(items)}</ul></div>")


def _handler(server: PreviewServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = CONNECTION_TIMEOUT_S

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            if not host_allowed(self.headers.get("Host"), server.host):
                self._send(HTTPStatus.MISDIRECTED_REQUEST, "text/plain; charset=utf-8",
                           b"this preview answers only to the address it was started on\n")
            elif url.path in ("/", "/index.html", "/report.html"):
                with server.changed:
                    page = server.page
                self._send(HTTPStatus.OK, "text/html; charset=utf-8", page)
            elif url.path == ENDPOINT + "wait":
                try:
                    after = int(parse_qs(url.query).get("after", ["-1"])[0])
                except ValueError:
                    after = -1
                self._json({"preview": server.wait(after)})
            elif url.path == ENDPOINT + "state":
                with server.changed:
                    self._json(server.state)
            else:
                self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found: the preview is at /\n")

        def _json(self, value: dict) -> None:
            self._send(HTTPStatus.OK, "application/json", json.dumps(value).encode())

        def _send(self, status: HTTPStatus, kind: str, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)
            except (ConnectionError, TimeoutError):  # the tab was closed mid-response: nothing to tell anyone
                self.close_connection = True

        def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
            log.debug("%s " + format, self.address_string(), *args)

    return Handler


class _Renderer:
    """The renderer process, started on the first render after a `stop()`."""

    def __init__(self, cfg) -> None:
        self.fields = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
        self.level = logging.getLogger().getEffectiveLevel()
        self.process = None
        self.conn = None

    def render(self) -> dict:
        if self.process is None or not self.process.is_alive():
            ctx = multiprocessing.get_context("spawn")
            self.conn, child = ctx.Pipe()
            self.process = ctx.Process(target=_renderer_main, args=(child, self.fields, self.level), daemon=True,
                                       name="dlreport-preview")
            self.process.start()
            child.close()
        try:
            self.conn.send("render")
            return self.conn.recv()
        except (EOFError, OSError):
            self.process.join(timeout=5)
            code = self.process.exitcode
            self.process = None
            return {"error": f"the preview process ended (exit code {code}); its messages are above"}

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(timeout=3)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=3)
        self.conn.close()
        self.process = None


def _renderer_main(conn, fields: dict, level: int) -> None:
    """The renderer process: one preview per request, on the code it imported at its start."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle; it stops this process
    logging.basicConfig(level=max(level, logging.WARNING), format="%(message)s", stream=sys.stderr)
    previewer = None
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        try:
            if previewer is None:
                from dlreport.planning import BuildConfig
                from dlreport.preview import Previewer

                previewer = Previewer(BuildConfig(**fields))
            p = previewer.render()
            reply = {"html": p.html, "left_out": p.left_out, "runs": p.runs}
        except ReportError as exc:
            reply = {"error": str(exc)}
        except Exception as exc:  # the project's own code, mid-edit: shown in the page, the server stays up
            log.exception("the preview failed")
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        conn.send({**reply, "tensorflow_imported": "tensorflow" in sys.modules})
