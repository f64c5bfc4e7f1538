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
code is not named in the function that uses it. Only the project's own packages
(`PACKAGES`) are followed; libraries enter a key through their versions.

Reading the files instead of importing them keeps TensorFlow out of builds that
train nothing (its import alone costs seconds).
"""

from __future__ import annotations

import ast
import copy
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from report import ROOT as PROJECT_ROOT

ROOT = PROJECT_ROOT
PACKAGES = ("experiments", "report")


@dataclass(frozen=True, order=True)
class Definition:
    """One top-level definition of a project module."""

    module: str
    name: str


def module_file(module: str) -> Path:
    path = ROOT / module.replace(".", "/")
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _is_module(module: str) -> bool:
    return module.split(".")[0] in PACKAGES and module_file(module).is_file()


@dataclass(frozen=True)
class _Module:
    text: str
    top: dict[str, ast.stmt]  # top-level name -> the statement defining it
    imported: dict[str, str]  # local name -> "module" or "module:name" of the project it stands for


@cache
def _parsed(module: str) -> _Module:
    text = module_file(module).read_text(encoding="utf-8")
    tree = ast.parse(text)
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
    imported: dict[str, str] = {}
    for node in ast.walk(tree):  # imports inside functions too (a light module imports a heavy one late)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                target = full if _is_module(full) else f"{node.module}:{alias.name}" if _is_module(node.module) else None
                if target:
                    imported[alias.asname or alias.name] = target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _is_module(alias.name) and alias.asname:
                    imported[alias.asname] = alias.name
    return _Module(text, top, imported)


def _uses(module: str, node: ast.stmt) -> set[Definition]:
    """The project definitions one statement names: its module's own, and imported ones."""
    mod = _parsed(module)
    found: set[Definition] = set()
    for sub in ast.walk(_stripped(node)):
        if isinstance(sub, ast.Name):
            if sub.id in mod.top:
                found.add(Definition(module, sub.id))
            elif ":" in mod.imported.get(sub.id, ""):
                found.add(Definition(*mod.imported[sub.id].split(":")))
        elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
            target = mod.imported.get(sub.value.id)
            if target and ":" not in target and sub.attr in _parsed(target).top:
                found.add(Definition(target, sub.attr))
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
        if d in seen or d.name in stop or d.name not in _parsed(d.module).top:
            continue
        seen.add(d)
        todo.extend(_uses(d.module, _parsed(d.module).top[d.name]))
    return tuple(sorted(seen))


def digest(d: Definition) -> str:
    """The hash of a definition's syntax tree, without docstrings and annotations."""
    return hashlib.sha256(ast.dump(_stripped(_parsed(d.module).top[d.name])).encode()).hexdigest()[:16]


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


def constant(module: str, name: str, default: object = None) -> object:
    """The literal value a module assigns to `name` at its top, read without importing it."""
    node = _parsed(module).top.get(name)
    return default if node is None else ast.literal_eval(node.value)


def source_of(module: str, name: str) -> str:
    """The source text of one top-level definition, decorators included."""
    mod = _parsed(module)
    node = mod.top[name]
    lines = mod.text.splitlines()
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return "\n".join(lines[first - 1: node.end_lineno])


def functions_of(module: str, entry: str) -> list[str]:
    """Functions and classes of `module` that `entry` reaches, in file order (for listings)."""
    top = _parsed(module).top
    names = [d.name for d in reachable(module, entry) if d.module == module
             and isinstance(top[d.name], (ast.FunctionDef, ast.ClassDef))]
    return sorted(names, key=lambda n: top[n].lineno)


def forget() -> None:
    """Drop what has been read, so edited files are read again (a build reads each file once)."""
    _parsed.cache_clear()
    reachable.cache_clear()
