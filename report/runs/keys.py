"""Cache keys: a run's result is stored under a hash of everything that can change it.

The components are kept (not just their hash) so that `status` and `diff` can say
*which* one moved. The experiment's id and title are deliberately absent: renaming an
experiment cannot change what training produces.

What a key holds, and why (scheme 2):

* the run spec: hyper-parameters, the data's description (with the declared content
  checksums of its source files), the profile and the seed;
* the code: every definition the trainer's `train` reaches, and every definition the
  run's data loader reaches, followed into every project module they import from
  (`source.reachable`). A comment, docstring or type-hint edit moves nothing. The walk
  does not go into `NOT_FOLLOWED`: what finds (or downloads) a data file hands on a
  path whose content is then checked against the checksum the spec already holds, so
  nothing it does can change a result unnoticed; a file's published address only
  fills error messages. Code that is *passed in* to a trainer (the
  progress callback, the checkpoint) only reports or stores; the harness around the
  trainer (`training.run_spec`) calls it, watches for NaNs and records times;
* the versions of the libraries of the trainer's framework, which compute the numbers
  (`frameworks`: TensorFlow, Keras and NumPy for a TensorFlow trainer, NumPy alone for a
  NumPy one), and the settings that choose its kernels (`engine`);
* Python's *major.minor* version only. A patch release of CPython changes no
  floating-point arithmetic (the libraries do the work, and their wheels are built per
  minor version: `cp311`), and two runs of the first study trained under 3.11.2 and 3.11.7 with the same
  lock file gave bit-identical metrics; a minor release brings other wheels, so it stays
  in. Scheme 1 held the full version, so a clone on Debian's python3.11 (3.11.2)
  retrained the whole study.
"""

from __future__ import annotations

from functools import cache

from dlreport import frameworks, project, study
from dlreport.digests import canonical_json, digest  # noqa: F401 - keys.digest is the recipe's usual name
from dlreport.runs import source

KEY_SCHEME = 2  # bump when the meaning of a key's components changes
NOT_FOLLOWED = frozenset({"locate", "published_at"})


def code_definitions(spec: dict) -> tuple[source.Definition, ...]:
    """Everything the run's trainer and its data loader reach (see the module's docstring)."""
    return _reached(spec["trainer"], study.current().data.loader(spec["data"]))


@cache
def _reached(trainer: str, loader: tuple[str, str]) -> tuple[source.Definition, ...]:
    """What a trainer and a data loader (module, function) reach: the same for every run that
    pairs them, so it is walked once per process however many runs a study has."""
    return tuple(sorted({
        *source.reachable(f"{project.current().study}.{trainer}", "train", NOT_FOLLOWED),
        *source.reachable(*loader, NOT_FOLLOWED),
    }))


def code_sources(spec: dict) -> dict[str, str]:
    """The source text behind each code fingerprint of a spec's key, by the same names."""
    return dict(_sources(spec["trainer"], study.current().data.loader(spec["data"])))


@cache
def _sources(trainer: str, loader: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    out: dict[str, list[str]] = {}
    for d in _reached(trainer, loader):
        out.setdefault(d.name, []).append(source.source_of(d.module, d.name))
    return tuple((name, "\n\n".join(texts)) for name, texts in out.items())


def components(spec: dict) -> dict:
    """Everything the key is made of."""
    framework = frameworks.of(spec["trainer"])
    return {
        "scheme": KEY_SCHEME,
        "spec": spec,
        "code": dict(source.fingerprints(code_definitions(spec))),
        "versions": frameworks.versions(framework.packages),
        "engine": framework.settings(),
    }


def forget() -> None:
    """Drop what has been read of the code (after an edit: `serve`, tests)."""
    source.forget()
    frameworks.of.cache_clear()
    _reached.cache_clear()
    _sources.cache_clear()


def key_of(parts: dict) -> str:
    return digest(parts)
