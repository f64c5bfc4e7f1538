"""Cache keys move exactly when something that can change a result moves."""

from __future__ import annotations

import textwrap

import pytest

from dlreport import frameworks, project
from dlreport.frameworks import tensorflow
from dlreport.runs import keys, source
from experiments.data import files as catalogue
from experiments.data import specs
from experiments.definitions import EXPERIMENTS, resolve
from experiments.profiles import PROFILES

TRAINER = '''
"""A toy trainer."""
SCALE = 2


def helper(x):
    """Doubles."""
    return x * SCALE  # a comment


def unused(x):
    return x - 1


def train(spec, data, progress):
    return helper(spec)
'''


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A trainer module in a temporary project root; returns a function that rewrites it."""
    (tmp_path / "toy").mkdir()
    path = tmp_path / "toy" / "trainer.py"
    monkeypatch.setattr(project, "current", lambda: project.Project(tmp_path, "toy"))

    def write(text: str) -> dict[str, str]:
        path.write_text(textwrap.dedent(text))
        keys.forget()
        return source.fingerprints(source.reachable("toy.trainer", "train"))

    yield write
    keys.forget()


def test_comment_docstring_and_formatting_edits_keep_fingerprints(toy):
    before = toy(TRAINER)
    after = toy(TRAINER.replace("# a comment", "# reworded").replace('"""Doubles."""', '"""Twice."""')
                .replace("return x * SCALE", "return (x *   SCALE)"))
    assert before == after


def test_a_behaviour_edit_moves_only_the_edited_function(toy):
    before = toy(TRAINER)
    after = toy(TRAINER.replace("return x * SCALE", "return x * SCALE + 1"))
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"helper"}


def test_unreachable_code_is_not_part_of_the_key(toy):
    fp = toy(TRAINER)
    assert set(fp) == {"train", "helper", "SCALE"}
    assert toy(TRAINER.replace("return x - 1", "return x - 2")) == fp


def _key(exp, profile="full", split="substitute", seed=0):
    limits = PROFILES[profile].data_limits.get(exp.dataset, (None, None))
    data = specs.data_spec(exp.dataset, split if exp.dataset == "notmnist" else None, *limits)
    return keys.key_of(keys.components(resolve(exp, PROFILES[profile], seed, data)))


def test_key_moves_with_hyper_parameters_profile_data_and_versions(monkeypatch):
    a1 = next(e for e in EXPERIMENTS if e.id == "A1")
    base = _key(a1)
    assert _key(a1) == base  # deterministic
    changed_lr = type(a1)(**{**a1.__dict__, "hparams": {**a1.hparams, "learning_rate": 0.01}})
    assert _key(changed_lr) != base
    assert _key(a1, profile="quick") != base
    assert _key(a1, seed=1) != base
    f = catalogue.FASHION_MNIST["train-labels"]
    monkeypatch.setitem(catalogue.FASHION_MNIST, "train-labels", type(f)(**{**f.__dict__, "content_sha256": "0" * 64}))
    assert _key(a1) != base
    monkeypatch.undo()
    assert _key(a1) == base
    real = frameworks.versions
    monkeypatch.setattr(frameworks, "versions", lambda packages: {**real(packages), "tensorflow": "9.9"})
    assert _key(a1) != base
    monkeypatch.undo()
    monkeypatch.setenv(tensorflow.ONEDNN_VARIABLE, "0")  # other kernels, other rounding
    assert tensorflow.settings() == {"onednn": "off"} and _key(a1) != base
    monkeypatch.delenv(tensorflow.ONEDNN_VARIABLE)
    assert tensorflow.settings() == {"onednn": "on"} and _key(a1) == base


def test_key_ignores_experiment_name_and_reference_numbers():
    a1 = next(e for e in EXPERIMENTS if e.id == "A1")
    renamed = type(a1)(**{**a1.__dict__, "id": "A1-renamed", "title": "another title"})
    assert _key(renamed) == _key(a1)


def test_split_choice_is_part_of_notmnist_keys_only():
    a1, b1 = (next(e for e in EXPERIMENTS if e.id == i) for i in ("A1", "B1"))
    assert _key(b1, split="substitute") != _key(b1, split="original")
    assert _key(a1, split="substitute") == _key(a1, split="original")



def test_a_python_patch_release_keeps_every_key_and_a_minor_one_does_not(monkeypatch):
    import platform

    a1 = next(e for e in EXPERIMENTS if e.id == "A1")
    base = _key(a1)
    for version, same in ((("3", "11", "2"), True), (("3", "11", "99"), True), (("3", "12", "0"), False)):
        frameworks.versions.cache_clear()
        monkeypatch.setattr(platform, "python_version_tuple", lambda v=version: v)
        assert (_key(a1) == base) == same, version
    frameworks.versions.cache_clear()


HELPERS = '''
def helper(x):
    return x + 1
'''


def test_the_walk_follows_imports_and_moving_code_keeps_the_fingerprint(tmp_path, monkeypatch):
    (tmp_path / "toy").mkdir()
    monkeypatch.setattr(project, "current", lambda: project.Project(tmp_path, "toy"))
    trainer = tmp_path / "toy" / "trainer.py"

    def fingerprint(helpers_module: str) -> dict[str, str]:
        for name in ("helpers", "tools"):
            (tmp_path / "toy" / f"{name}.py").unlink(missing_ok=True)
        (tmp_path / "toy" / f"{helpers_module}.py").write_text(HELPERS)
        trainer.write_text(f"from toy import {helpers_module}\n\n\ndef train(spec, data, progress):\n"
                           f"    return {helpers_module}.helper(spec)\n")
        keys.forget()
        return source.fingerprints(source.reachable("toy.trainer", "train"))

    first = fingerprint("helpers")
    assert set(first) == {"train", "helper"}
    moved = fingerprint("tools")  # the same helper, in another module: only the trainer's own text moved
    assert moved["helper"] == first["helper"] and moved["train"] != first["train"]
    (tmp_path / "toy" / "tools.py").write_text(HELPERS.replace("x + 1", "x + 2"))
    keys.forget()
    assert source.fingerprints(source.reachable("toy.trainer", "train"))["helper"] != moved["helper"]
    keys.forget()
