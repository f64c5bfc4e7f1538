"""How long a template edit takes to reach the browser under `dlreport serve`.

    .venv/bin/python benchmarks/serve_latency.py [--edits 10] [SERVE OPTIONS ...]

In a scratch copy of the project (its `frozen/` results, a cache of its own, so nothing is
trained), starts `serve --port 0`, waits for the first preview, then saves an edit of the
abstract's template again and again and times, as a browser's injected script sees it:
from the save to the reload endpoint's answer, and to the fetched page holding the edit.
Prints the figures; asserts nothing (a benchmark reports, tests check behaviour).
Extra options go to `serve` (default: the full report, `--notmnist-split substitute`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from scratch import copy_project

ROOT = Path(__file__).resolve().parent.parent
ANCHOR = "<strong>Abstract.</strong>"


def _get(url: str, timeout: float = 60) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edits", type=int, default=10)
    args, serve_args = ap.parse_known_args()
    serve_args = serve_args or ["--notmnist-split", "substitute"]
    with tempfile.TemporaryDirectory(prefix="serve-latency-") as tmp:
        root = Path(tmp)
        copy_project(root)
        code = "import sys; from dlreport.cli import main; sys.exit(main(sys.argv[1:]))"
        server = subprocess.Popen([sys.executable, "-c", code, "serve", "--port", "0", "-q", *serve_args], cwd=root,
                                  stdout=subprocess.PIPE, text=True)
        try:
            url = server.stdout.readline().split("serving the report at ")[1].split()[0]
            started = time.perf_counter()
            shown = json.loads(_get(url + "__dlreport/wait?after=0"))["preview"]
            while shown == 0:
                shown = json.loads(_get(url + "__dlreport/wait?after=0"))["preview"]
            print(f"first preview: {time.perf_counter() - started:.1f} s (cold caches, every figure drawn)")
            template = root / "templates" / "abstract.html.j2"
            original = template.read_text()
            signalled, served = [], []
            for i in range(args.edits):
                marker = f"LATENCY-{i}-{time.time_ns()}"
                t0 = time.perf_counter()
                template.write_text(original.replace(ANCHOR, f"{ANCHOR} {marker}", 1))
                while (now := json.loads(_get(url + f"__dlreport/wait?after={shown}"))["preview"]) == shown:
                    pass
                shown = now
                signalled.append(time.perf_counter() - t0)
                while marker.encode() not in _get(url):  # a later edit's preview may be needed
                    shown = json.loads(_get(url + f"__dlreport/wait?after={shown}"))["preview"]
                served.append(time.perf_counter() - t0)
                time.sleep(0.3)
            template.write_text(original)
        finally:
            server.terminate()
            server.wait(timeout=30)
    for label, values in (("edit saved → reload signalled", signalled), ("edit saved → page with the edit fetched", served)):
        print(f"{label}: median {statistics.median(values):.2f} s, max {max(values):.2f} s "
              f"over {len(values)} edits ({', '.join(f'{v:.2f}' for v in values)})")


if __name__ == "__main__":
    main()
