"""The code an experiment runs, read from the live source files with `ast`.

Two uses share this one reading, so the listing in the report is exactly the code
whose fingerprint is in the cache key:

* fingerprints for the cache key: each function reachable from a trainer's entry
  point, hashed from its syntax tree without docstrings — so a comment, docstring or
  formatting edit leaves the key alone while any change of behaviour moves it;
* listings for the report: the functions' source text as it is on disk now.

Reading the files instead of importing them keeps TensorFlow out of builds that
train nothing (its import alone costs seconds).
"""

from __future__ import annotations

import ast
import copy
import hashlib
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_file(module: str) -> Path:
    return ROOT / (module.replace(".", "/") + ".py")


@cache
def _parsed(module: str) -> tuple[str, dict[str, ast.stmt]]:
    text = module_file(module).read_text(encoding="utf-8")
    top: dict[str, ast.stmt] = {}
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            top[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        top[name.id] = node
    return text, top


def _without_docstrings(node: ast.stmt) -> ast.stmt:
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
    return node


def reachable(module: str, entry: str) -> list[str]:
    """Top-level names of `module` that `entry` uses, directly or through each other."""
    _, top = _parsed(module)
    seen, todo = set(), [entry]
    while todo:
        name = todo.pop()
        if name in seen or name not in top:
            continue
        seen.add(name)
        todo.extend(n.id for n in ast.walk(top[name]) if isinstance(n, ast.Name))
    return sorted(seen)


@cache
def fingerprints(module: str, entry: str) -> dict[str, str]:
    """`module:name` → hash of the docstring-free syntax tree, for everything `entry` reaches."""
    _, top = _parsed(module)
    return {
        f"{module}:{name}": hashlib.sha256(ast.dump(_without_docstrings(top[name])).encode()).hexdigest()[:16]
        for name in reachable(module, entry)
    }


def source_of(module: str, name: str) -> str:
    """The source text of one top-level definition, decorators included."""
    text, top = _parsed(module)
    node = top[name]
    lines = text.splitlines()
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return "\n".join(lines[first - 1: node.end_lineno])


def functions_of(module: str, entry: str) -> list[str]:
    """Reachable functions in the order they appear in the file (for listings)."""
    _, top = _parsed(module)
    names = [n for n in reachable(module, entry) if isinstance(top[n], (ast.FunctionDef, ast.ClassDef))]
    return sorted(names, key=lambda n: top[n].lineno)


def forget() -> None:
    """Drop what has been read, so edited files are read again (a build reads each file once)."""
    _parsed.cache_clear()
    fingerprints.cache_clear()
