"""Root pytest configuration: doctests of modules built on an optional extra are skipped (not
failed) when the extra is not installed."""

import importlib.util

import pytest

#: Module (dotted name prefix) -> the optional package its doctests need.
DOCTEST_REQUIRES = {
    "topoanalysis.levelsets.persistence": "gudhi",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if not isinstance(item, pytest.DoctestItem):
            continue
        for prefix, package in DOCTEST_REQUIRES.items():
            if item.name.startswith(prefix) and importlib.util.find_spec(package) is None:
                item.add_marker(pytest.mark.skip(reason=f"needs {package} (optional extra)"))
