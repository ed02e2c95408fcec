import json

import pytest

from dnnpress.paths import shared


def pytest_addoption(parser):
    parser.addoption("--regress", action="store_true",
                     help="run the long regressions (make regress)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--regress"):
        return
    skip = pytest.mark.skip(reason="long regression: run with `make regress`")
    for item in items:
        if "regress" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def ebpc_vectors():
    """The EBPC authors' reference vectors from ../shared (skips, saying where, if absent)."""
    try:
        path = shared("vectors/ebpc_edge_cases.json")
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    return json.loads(path.read_text())
