"""Run the examples in every module's docstrings (the modules are found through the installed
``degeneracy`` package, so the examples run exactly as a user's ``import degeneracy...`` would)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import degeneracy


LAYERS = ("theory", "numerics", "proofs", "figures")


def _modules() -> list[str]:
    """Every module of the package. The layers are walked one by one: in an editable install they are
    mapped by setuptools' finder, not found under ``degeneracy.__path__``."""
    names = {"degeneracy"}
    packages = [degeneracy] + [importlib.import_module(f"degeneracy.{layer}") for layer in LAYERS]
    for pkg in packages:
        for info in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."):
            if info.name.endswith("__main__") or info.name.split(".")[1] in LAYERS and pkg is degeneracy:
                continue
            names.add(info.name)
        names.add(pkg.__name__)
    return sorted(names)


def test_every_layer_is_walked():
    mods = _modules()
    for layer in LAYERS:
        assert any(m.startswith(f"degeneracy.{layer}.") for m in mods), layer


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    for test in finder.find(module, name):
        runner.run(test, out=report.append)
    failed, attempted = runner.summarize(verbose=False)
    if failed:
        pytest.fail(f"{failed} of {attempted} examples failed in {name}:\n" + "".join(report))
