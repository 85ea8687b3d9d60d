"""``pyuvm_test``: pyuvm's ``@pyuvm.test()`` decorator without its cost at import.

pyuvm's decorator finds the module to file the cocotb test in with ``inspect.stack()``, which
builds source context for every frame of the import: a few milliseconds per test, paid by
every simulation launch for every test of tb/tests.py (``make test`` launches a few hundred).
The class already names its module; the rest is what pyuvm does with default arguments (cocotb
stage 0, no timeout, singletons cleared between tests). One simulation may also run several
tests, a test once per seed (SMMU_TESTS).
"""

from __future__ import annotations

import functools
import gc
import os
import sys
from pathlib import Path

import cocotb
from pyuvm import uvm_root

from tb.bfm.smmu_bfm import start_as_at_time_zero

# The tests of this simulation and their seeds, ``Test=1,2;Other=1`` (tb.cli.runner
# ``run_group``): only these are registered, each ``<class>_s<seed>``. (A filter would do
# too, but cocotb runs the tests a filter selects even where they are marked skip, and the
# simulation runs the directed modules' tests alongside.) Unset: one test per class, named
# after it, with SMMU_SEED as the runner set it.
TESTS = {name: [int(s) for s in seeds.split(",")]
         for name, _, seeds in (t.partition("=") for t in
                                os.environ.get("SMMU_TESTS", "").split(";") if t)}


def pyuvm_test(cls: type) -> type:
    """Register ``cls`` (a uvm_test) as the cocotb test named after it (as SMMU_TESTS says,
    when that is set)."""
    seeds = TESTS.get(cls.__name__, []) if TESTS else [None]
    for seed in seeds:
        name = cls.__name__ if seed is None else f"{cls.__name__}_s{seed}"
        test_obj = cocotb.test(name=name)(functools.wraps(cls)(_body(cls, seed)))
        setattr(sys.modules[cls.__module__], f"__{name}", test_obj)
    return cls


def _body(cls: type, seed: int | None):
    async def test_obj(_) -> None:
        here = Path.cwd()
        await start_as_at_time_zero(cocotb.top)
        if seed is not None:
            # What a seed's run reads from the environment (SmmuEnv) and writes into its
            # directory (reports, coverage) is its own, as if it ran alone.
            os.environ["SMMU_SEED"] = str(seed)
            # (named after the test too: one simulation may run several, tb.cli.runner
            # ``run_group``)
            (here / f"{cls.__name__}-s{seed}").mkdir(exist_ok=True)
            os.chdir(here / f"{cls.__name__}-s{seed}")
            # The tests before this one left their environments behind, frozen with the rest
            # (below): let the collector free what they no longer reach.
            gc.unfreeze()
            gc.collect()
        # What the simulation built before the test (the model, the environment, imported
        # modules) lives to its end: the collector's full passes need not scan it again.
        gc.freeze()
        try:
            await uvm_root().run_test(cls, keep_singletons=False, keep_set=set())
        finally:
            os.chdir(here)

    return test_obj


pyuvm_test.__test__ = False  # type: ignore[attr-defined]  # (not a pytest test)
