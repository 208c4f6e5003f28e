"""The one-line examples in the docstrings run, so they cannot drift from the code.

Examples that need the model, an index or a server carry ``# doctest: +SKIP``; the rest run here.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import rag

# Sub-packages too (rag.readers); rag.__main__ runs the CLI when imported.
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(rag.__path__, prefix="rag.") if m.name != "rag.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
