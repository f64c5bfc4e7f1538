"""Scaling benchmark: what the everyday commands cost at the study's size and at 1,000 runs.

    .venv/bin/python benchmarks/scale.py [--runs 1000] [--repeat 5] [--dvc PATH] [--json FILE]

In a scratch copy of the project (code, templates and the frozen store), on this machine:

  * the study as committed (the full profile, every run stored): a no-op build, `status`,
    and an edit of the prose — the introduction, and the part whose PDF piece is longest —
    rebuilt to HTML and PDF; and the peak memory of the no-op;
  * the same study with enough seeds per experiment for about `--runs` runs (`--seeds`),
    their results generated (each seed a copy of a stored run with its curves nudged, keyed
    as a real run of that seed would be), nothing trained: the same measurements;
  * with `--dvc` (a `dvc` executable; `benchmarks/dvc-venv.sh` makes one), DVC's no-op
    `dvc repro` and `dvc status` of a pipeline of the same shape (one stage a run), side by side.

Each figure is the best of `--repeat` runs of the real command, as a whole process. Nothing
here asserts a speed: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scratch import copy_project

ROOT = Path(__file__).resolve().parent.parent
PEAK = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")


def _timed(cmd: list[str], cwd: Path, env: dict, repeat: int, before=None) -> dict:
    """Best and median wall time of a command over `repeat` runs, and its largest peak memory."""
    times, peaks = [], []
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr[-2000:]}")
        peaks += [int(m) / 1024 for m in PEAK.findall(done.stderr)]
    times.sort()
    return {"best_s": round(times[0], 3), "median_s": round(times[len(times) // 2], 3), "peak_mb": round(max(peaks), 1)}


class Project:
    """A scratch copy of the project, its own cache and output, built with given options."""

    def __init__(self, root: Path, data_dir: Path, seeds: int | None = None) -> None:
        self.root, self.seeds = root, seeds
        self.options = ["--seeds", str(seeds)] if seeds else []
        copy_project(root)
        # timed as a user runs them: Python keeps its compiled modules (a sandbox's
        # PYTHONDONTWRITEBYTECODE would add every module's compilation to every command)
        self.env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
                    "REPORT_DATA_DIR": str(data_dir), "REPORT_NOTMNIST_SPLIT": "substitute"}
        self.edits = iter(range(10_000))

    def cmd(self, *command: str) -> list[str]:
        return [sys.executable, "build.py", *command, *self.options, "-q"]

    def edit(self, template: str, after: str = "") -> None:
        """A visible change: one more sentence at the end of the first paragraph after `after`."""
        path = self.root / "templates" / template
        text = path.read_text()
        end = text.index("</p>", text.index(after))
        path.write_text(f"{text[:end]} Benchmark edit {next(self.edits)}.{text[end:]}")

    def measure(self, repeat: int, sections: list[tuple[str, str]]) -> dict:
        build, status = self.cmd(), self.cmd("status")
        subprocess.run(build, cwd=self.root, env=self.env, check=True, capture_output=True)  # renders once
        edits = {f"{template}{' after ' + after if after else ''}": _timed(
            build, self.root, self.env, repeat, before=lambda t=template, a=after: self.edit(t, a))
            for template, after in sections}
        return {"noop": _timed(build, self.root, self.env, repeat), "status": _timed(status, self.root, self.env, repeat),
                "prose_edit": edits}


def _runs(project: Project) -> list:
    """The planned runs of the project copy, with their stores (imported from the copy)."""
    code = ("import json, sys; sys.path.insert(0, '.'); from pathlib import Path; from dlreport import planning; "
            "cfg = planning.BuildConfig(data_dir=Path('.'), data_choice='substitute', "
            f"seeds={project.seeds!r}); "
            "p = planning.plan(cfg).runs; print(json.dumps([[x.experiment.id, x.seed, x.key, x.present is not None] "
            "for x in p]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=project.root, env=project.env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def grow(root: Path, data_dir: Path, runs: int) -> tuple[Project, int]:
    """A copy whose experiments run enough seeds for about `runs` runs, the missing ones'
    results generated from a stored seed of the same experiment (its curves nudged by the seed),
    stored in the copy's cache under the keys those seeds have."""
    experiments = 25
    seeds = max(1, math.ceil(runs / experiments))
    project = Project(root, data_dir, seeds)
    generate = f"""
import json, random, sys
sys.path.insert(0, '.')
from pathlib import Path
from dlreport import planning
from dlreport.runs.store import ResultStore
cfg = planning.BuildConfig(data_dir=Path('.'), data_choice='substitute', seeds={seeds})
cfg.claim()
made = planning.plan(cfg)
store, planned = made.store, made.runs
local = ResultStore(cfg.cache.results, cfg.frozen_dir)
first = {{}}
for p in planned:
    if p.present is not None and p.experiment.id not in first:
        first[p.experiment.id] = p.entry["result"]
made = 0
for p in planned:
    if p.present is None:
        rng = random.Random(p.seed)
        result = json.loads(json.dumps(first[p.experiment.id]))
        for name, values in result["history"].items():
            scale = 1 + rng.uniform(-0.01, 0.01)
            result["history"][name] = [v * scale for v in values]
        result["final"] = {{m: v[-1] for m, v in result["history"].items()}}
        result["seed"] = p.seed
        local.put(p.key, p.components, result)
        made += 1
print(made, len(planned))
"""
    done = subprocess.run([sys.executable, "-c", generate], cwd=root, env=project.env, check=True, capture_output=True,
                          text=True)
    total = int(done.stdout.split()[1])
    return project, total


def dvc_shape(dvc: str, root: Path, stages: int, repeat: int) -> dict:
    """DVC's no-op `repro` and `status` for a pipeline of `stages` stages, each copying a small file."""
    root.mkdir(parents=True)
    env = {**os.environ}
    subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=root, env=env, check=True, capture_output=True)
    lines = ["stages:"]
    for i in range(stages):
        (root / f"in{i}.txt").write_text(f"input {i}\n")
        lines += [f"  s{i}:", f"    cmd: cp in{i}.txt out{i}.txt", f"    deps: [in{i}.txt]", f"    outs: [out{i}.txt]"]
    (root / "dvc.yaml").write_text("\n".join(lines) + "\n")
    subprocess.run([dvc, "repro", "-q"], cwd=root, env=env, check=True, capture_output=True)
    return {"noop_repro": _timed([dvc, "repro", "-q"], root, env, repeat),
            "status": _timed([dvc, "status", "-q"], root, env, repeat)}


SECTIONS = [("intro.html.j2", ""), ("part_b.html.j2", 'id="b-dropout"')]  # the introduction; Part B's longest piece


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="about how many runs the grown study has (default 1000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument("--data-dir", default=os.environ.get("REPORT_DATA_DIR", str(ROOT.parent / "shared" / "data")))
    parser.add_argument("--dvc", help="a dvc executable, to time DVC on a pipeline of the same shape")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    dvc = str(Path(args.dvc).resolve()) if args.dvc else None
    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        study = Project(Path(tmp) / "study", Path(args.data_dir))
        figures["study"] = {"runs": len(_runs(study)), **study.measure(args.repeat, SECTIONS)}
        grown, total = grow(Path(tmp) / "grown", Path(args.data_dir), args.runs)
        figures["grown"] = {"runs": total, **grown.measure(args.repeat, SECTIONS[:1])}
        if dvc:
            for name in ("study", "grown"):
                figures[name]["dvc"] = dvc_shape(dvc, Path(tmp) / f"dvc-{name}", figures[name]["runs"], args.repeat)
    for f in figures.values():
        print(f"{f['runs']} runs")
        noop = f["noop"]
        print(f"  no-op build  {noop['best_s']:.2f} s (median {noop['median_s']:.2f} s), peak {noop['peak_mb']:.0f} MB")
        print(f"  status       {f['status']['best_s']:.2f} s (median {f['status']['median_s']:.2f} s)")
        for edit, t in f["prose_edit"].items():
            print(f"  prose edit → HTML + PDF, {edit}: {t['best_s']:.2f} s (median {t['median_s']:.2f} s)")
        if "dvc" in f:
            print(f"  DVC, same shape: no-op repro {f['dvc']['noop_repro']['best_s']:.2f} s, "
                  f"status {f['dvc']['status']['best_s']:.2f} s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
