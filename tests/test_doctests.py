"""Run the examples in every module's docstrings (the modules are found through the installed
``degeneracy`` package, so the examples run exactly as a user's ``import degeneracy...`` would)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import degeneracy


def _modules() -> list[str]:
    names = ["degeneracy"]
    for info in pkgutil.walk_packages(degeneracy.__path__, "degeneracy."):
        if info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(module, name)
    for test in tests:
        runner.run(test, out=lambda text: None)
    failed, attempted = runner.summarize(verbose=False)
    if failed:
        # run again, reporting
        report = []
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        for test in tests:
            runner.run(test, out=report.append)
        pytest.fail(f"{failed} of {attempted} examples failed in {name}:\n" + "".join(report))
