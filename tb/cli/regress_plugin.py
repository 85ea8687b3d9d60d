"""pytest plugin of `make regress`: where each item's functional coverage goes, and which items
a shard ran. Loaded with ``-p tb.cli.regress_plugin``; inert without its options.

``--fcov-dir DIR``: around every item, SMMU_FCOV_DIR names a directory of the item's own under
DIR (emptied first); every pyuvm test the item runs in a simulator exports its cocotb-coverage
database there when it ends (tb/tests.py). The simulator inherits the variable through
cocotb's runner, which copies os.environ. Under pytest-xdist each worker runs its items one at
a time, so setting the variable in the worker's environment is safe.

``--ids-file FILE``: the node id of every item that reported, written by the controlling
process (the one that also writes --junitxml), so a shard's ids are the ones that ran.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV = "SMMU_FCOV_DIR"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("regress", "make regress (tb/cli/regress.py)")
    group.addoption("--fcov-dir", default=None,
                    help="export each item's functional coverage under this directory")
    group.addoption("--ids-file", default=None,
                    help="write the node ids of the items that ran to this file")


def item_dir(root: Path, nodeid: str) -> Path:
    """The item's coverage directory: its node id made a file name, plus a hash of the id so
    two ids differing only in characters the file name drops stay apart."""
    digest = hashlib.sha1(nodeid.encode()).hexdigest()[:8]
    name = re.sub(r"[^\w.-]", "_", nodeid)[-150:]
    return root / f"{name}-{digest}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    root = item.config.getoption("fcov_dir")
    if root is None:
        yield
        return
    d = item_dir(Path(root), item.nodeid)
    shutil.rmtree(d, ignore_errors=True)
    os.environ[ENV] = str(d)
    try:
        yield
    finally:
        os.environ.pop(ENV, None)


class _Ids:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.ids: set[str] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.ids.add(report.nodeid)

    def pytest_sessionfinish(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("".join(f"{i}\n" for i in sorted(self.ids)))


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("ids_file")
    # xdist workers carry `workerinput`; their reports reach the controller, which records them.
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Ids(Path(path)), "regress-ids")
