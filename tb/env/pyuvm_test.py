"""``pyuvm_test``: pyuvm's ``@pyuvm.test()`` decorator without its cost at import.

pyuvm's decorator finds the module to file the cocotb test in with ``inspect.stack()``, which
builds source context for every frame of the import: a few milliseconds per test, paid by
every simulation launch for every test of tb/tests.py (``make test`` launches a few hundred).
The class already names its module; the rest is what pyuvm does with default arguments (cocotb
stage 0, no timeout, singletons cleared between tests).
"""

from __future__ import annotations

import functools
import gc
import sys

import cocotb
from pyuvm import uvm_root


def pyuvm_test(cls: type) -> type:
    """Register ``cls`` (a uvm_test) as the cocotb test named after it."""

    @cocotb.test(name=cls.__name__)
    @functools.wraps(cls)
    async def test_obj(_) -> None:
        # What the simulation built before the test (the model, the environment, imported
        # modules) lives to its end: the collector's full passes need not scan it again.
        gc.freeze()
        await uvm_root().run_test(cls, keep_singletons=False, keep_set=set())

    setattr(sys.modules[cls.__module__], f"__{cls.__name__}", test_obj)
    return cls


pyuvm_test.__test__ = False  # type: ignore[attr-defined]  # (not a pytest test)
