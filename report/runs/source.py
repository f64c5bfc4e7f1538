"""The code an experiment runs, read from the live source files with `ast`.

Two uses share this one reading, so the listing in the report is exactly the code
whose fingerprint is in the cache key:

* fingerprints for the cache key: each definition reachable from a trainer's entry
  point — through the names it uses, into every project module it imports from,
  transitively — hashed from its syntax tree without docstrings and type annotations, so a
  comment, docstring, type-hint or formatting edit leaves the key alone while any change of behaviour
  moves it;
* listings for the report: the functions' source text as it is on disk now.

What is *passed in* (a callback, a cache object, a checkpoint) is not followed: its
code is not named in the function that uses it. Only the study's package and the engine's
(`project.code_folders`) are followed; libraries enter a key through their versions.

Reading the files instead of importing them keeps TensorFlow out of builds that
train nothing (its import alone costs seconds).

**Cost.** A module is read once per process, and what a key needs of it — each top-level
definition's fingerprint and the names it uses, and the module's imports — is kept in a
small summary (`Summary`). With `use_cache(folder)` the summaries are also kept on disk,
named by the digest of the file's content, so a file that has not changed is never parsed
again by a later process: a no-op build reads the source files and hashes them, nothing more.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dlreport import project
from dlreport.fsutil import atomic_write_text

SUMMARY_FORMAT = 1  # of the summaries kept on disk: a change of what they hold, or how, bumps it
_cache_dir: Path | None = None


def use_cache(folder: Path | None) -> None:
    """Keep module summaries in `folder` (None: in this process only)."""
    global _cache_dir
    _cache_dir = folder


@dataclass(frozen=True, order=True)
class Definition:
    """One top-level definition of a project module."""

    module: str
    name: str


def module_file(module: str) -> Path:
    """The file of a module of the study's package or the engine's (`project.code_folders`)."""
    top, _, rest = module.partition(".")
    path = project.current().code_folders()[top] / rest.replace(".", "/") if rest else project.current().code_folders()[top]
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


@cache
def _is_module(module: str) -> bool:
    return module.split(".")[0] in project.current().code_folders() and module_file(module).is_file()


@dataclass(frozen=True)
class Summary:
    """What a key needs of one module: per top-level name, the fingerprint of the statement
    that defines it and the names that statement uses; and what the module imports."""

    digests: dict[str, str]  # name -> fingerprint of its statement (without docstrings and annotations)
    names: dict[str, list[str]]  # name -> the bare names its statement uses
    attributes: dict[str, list[list[str]]]  # name -> the (name, attribute) pairs it uses, as in `datasets.load`
    imports: list[list]  # [module, imported name or None, local name or None], as written

    @classmethod
    def of(cls, text: str) -> Summary:
        tree = ast.parse(text)
        top = _top(tree)
        digests, names, attributes = {}, {}, {}
        for statement in {id(node): node for node in top.values()}.values():
            stripped = _stripped(statement)
            digest = hashlib.sha256(ast.dump(stripped).encode()).hexdigest()[:16]
            used = sorted({sub.id for sub in ast.walk(stripped) if isinstance(sub, ast.Name)})
            pairs = sorted({(sub.value.id, sub.attr) for sub in ast.walk(stripped)
                            if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name)})
            for name in (n for n, node in top.items() if node is statement):
                digests[name], names[name], attributes[name] = digest, used, [list(p) for p in pairs]
        imports = []
        for node in ast.walk(tree):  # imports inside functions too (a light module imports a heavy one late)
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imports += [[node.module, alias.name, alias.asname] for alias in node.names]
            elif isinstance(node, ast.Import):
                imports += [[alias.name, None, alias.asname] for alias in node.names]
        return cls(digests, names, attributes, imports)

    def as_json(self) -> dict:
        return {"format": SUMMARY_FORMAT, "digests": self.digests, "names": self.names, "attributes": self.attributes,
                "imports": self.imports}


def _top(tree: ast.Module) -> dict[str, ast.stmt]:
    """Top-level name -> the statement defining it (functions, classes, assignments)."""
    top: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            top[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        top[name.id] = node
    return top


@dataclass(frozen=True)
class _Module:
    summary: Summary
    imported: dict[str, str]  # local name -> "module" or "module:name" of the project it stands for


@cache
def _module(module: str) -> _Module:
    data = module_file(module).read_bytes()
    summary = _summary(data)
    imported: dict[str, str] = {}
    for source, name, asname in summary.imports:
        if name is not None:
            full = f"{source}.{name}"
            target = full if _is_module(full) else f"{source}:{name}" if _is_module(source) else None
            if target:
                imported[asname or name] = target
        elif _is_module(source) and asname:
            imported[asname] = source
    return _Module(summary, imported)


def _summary(data: bytes) -> Summary:
    """A file's summary: from the disk cache when its content was summarised before."""
    path = _cache_dir / f"{hashlib.sha256(data).hexdigest()}.json" if _cache_dir is not None else None
    if path is not None:
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
            if kept.get("format") == SUMMARY_FORMAT:
                return Summary(kept["digests"], kept["names"], kept["attributes"], kept["imports"])
        except (OSError, ValueError, KeyError):
            pass  # absent or damaged: made again below
    summary = Summary.of(data.decode("utf-8"))
    if path is not None:
        try:
            atomic_write_text(path, json.dumps(summary.as_json(), sort_keys=True))
        except OSError:
            pass  # a summary only saves time: the next process makes it again
    return summary


def _uses(d: Definition) -> set[Definition]:
    """The project definitions one definition names: its module's own, and imported ones."""
    mod = _module(d.module)
    found: set[Definition] = set()
    for name in mod.summary.names[d.name]:
        if name in mod.summary.digests:
            found.add(Definition(d.module, name))
        elif ":" in mod.imported.get(name, ""):
            found.add(Definition(*mod.imported[name].split(":")))
    for value, attribute in mod.summary.attributes[d.name]:
        target = mod.imported.get(value)
        if not target or ":" in target:
            continue
        if attribute in _module(target).summary.digests:
            found.add(Definition(target, attribute))
        elif ":" in _module(target).imported.get(attribute, ""):  # a name that module imports: followed to its home
            found.add(Definition(*_module(target).imported[attribute].split(":")))
    return found


def _stripped(node: ast.stmt) -> ast.stmt:
    """A copy without docstrings and type annotations: neither changes what code does."""
    node = copy.deepcopy(node)
    for sub in ast.walk(node):
        body = getattr(sub, "body", None)
        if (
            isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            sub.body = body[1:] or [ast.Pass()]
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
            sub.returns = None
        elif isinstance(sub, ast.arg):
            sub.annotation = None
        elif isinstance(sub, ast.AnnAssign):
            sub.annotation = ast.Constant(None)
    return node


@cache
def reachable(module: str, entry: str, stop: frozenset[str] = frozenset()) -> tuple[Definition, ...]:
    """Every definition `entry` uses, directly or through each other, across project modules.

    Names in `stop` are left out, and what only they use is not reached through them
    (see `keys.NOT_FOLLOWED`)."""
    seen: set[Definition] = set()
    todo = [Definition(module, entry)]
    while todo:
        d = todo.pop()
        if d in seen or d.name in stop or d.name not in _module(d.module).summary.digests:
            continue
        seen.add(d)
        todo.extend(_uses(d))
    return tuple(sorted(seen))


def digest(d: Definition) -> str:
    """The hash of a definition's syntax tree, without docstrings and annotations."""
    return _module(d.module).summary.digests[d.name]


@cache
def fingerprints(definitions: tuple[Definition, ...]) -> dict[str, str]:
    """Name → hash of what that name means.

    Keyed by the definition's name, not its module, so that moving code between modules
    without changing it leaves every key alone; two definitions that share a name are
    hashed together."""
    by_name: dict[str, list[str]] = {}
    for d in definitions:
        by_name.setdefault(d.name, []).append(digest(d))
    return {name: (h[0] if len(h) == 1 else hashlib.sha256("".join(sorted(h)).encode()).hexdigest()[:16])
            for name, h in sorted(by_name.items())}


@cache
def _parsed(module: str) -> tuple[str, dict[str, ast.stmt]]:
    """A module's text and top-level statements, for what needs the source itself (listings)."""
    text = module_file(module).read_text(encoding="utf-8")
    return text, _top(ast.parse(text))


def constant(module: str, name: str, default: object = None) -> object:
    """The literal value a module assigns to `name` at its top, read without importing it."""
    node = _parsed(module)[1].get(name)
    return default if node is None else ast.literal_eval(node.value)


def source_of(module: str, name: str) -> str:
    """The source text of one top-level definition, decorators included."""
    text, top = _parsed(module)
    node = top[name]
    lines = text.splitlines()
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return "\n".join(lines[first - 1: node.end_lineno])


def functions_of(module: str, entry: str) -> list[str]:
    """Functions and classes of `module` that `entry` reaches, in file order (for listings)."""
    top = _parsed(module)[1]
    names = [d.name for d in reachable(module, entry) if d.module == module
             and isinstance(top[d.name], (ast.FunctionDef, ast.ClassDef))]
    return sorted(names, key=lambda n: top[n].lineno)


def forget() -> None:
    """Drop what has been read, so edited files are read again (a build reads each file once)."""
    for memo in (_module, _parsed, reachable, fingerprints, _is_module):
        memo.cache_clear()
