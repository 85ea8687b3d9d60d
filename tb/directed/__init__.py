"""Directed cocotb tests with hand-derived expectations (tests/test_rtl.py, `make cov`)."""

# The cocotb test modules, each run whole (every test in it) on the default parameter set.
DIRECTED_MODULES = ("tb.directed.xlate", "tb.directed.walkcache", "tb.directed.cmd_ill",
                    "tb.directed.walk_edges", "tb.directed.stalls", "tb.directed.conformance",
                    "tb.directed.ttb1", "tb.directed.replacement", "tb.directed.inject")

# (module, parameter set): the conformance, command and TTB1 tests include feature-dependent
# rules (ATS, no substreams, a 52-bit OAS, range invalidation, IDR3.HAD for CD.HAD1), which
# only other parameter sets reach; the stall model needs IDR0.STALL_MODEL 0b00 (full) or
# 0b10 (mixed), the PRI queue IDR0.PRI, ATC invalidation and ATS translation IDR0.ATS (full
# and mixed), the HTTU tests IDR0.HTTU (full: access and dirty, mixed: access only), the
# DVM port IDR0.BTM (full and mixed).
DIRECTED = tuple((m, "default") for m in DIRECTED_MODULES) + tuple(
    ("tb.directed.conformance", p) for p in ("full", "mixed", "nosub")) + (
    ("tb.directed.cmd_ill", "full"), ("tb.directed.ttb1", "full")) + tuple(
    ("tb.directed.stall_model", p) for p in ("full", "mixed")) + tuple(
    ("tb.directed.pri", p) for p in ("full", "mixed")) + tuple(
    ("tb.directed.atc", p) for p in ("full", "mixed")) + tuple(
    ("tb.directed.ats", p) for p in ("full", "mixed", "pcie")) + tuple(
    ("tb.directed.httu", p) for p in ("full", "mixed")) + tuple(
    ("tb.directed.btm", p) for p in ("full", "mixed", "btm"))

# The fuzz tests, (module, test, parameter sets): their random fields come from the
# simulation's seed. Seed 1 runs with the whole module above; tests/test_rtl.py runs each
# again with seeds 2..SEEDS on Verilator, so a nightly SEEDS=N fuzzes N times as much.
FUZZ = (
    ("tb.directed.cmd_ill", "random_fields_of_every_opcode", ("default", "full")),
    ("tb.directed.pri", "random_page_requests_against_the_model", ("full", "mixed")),
    ("tb.directed.atc", "random_completions_complete_only_their_own_itag", ("full", "mixed")),
)
