"""Directed cocotb tests with hand-derived expectations (tests/test_rtl.py, `make cov`)."""

# The cocotb test modules, each run whole (every test in it).
DIRECTED_MODULES = ("tb.directed.xlate", "tb.directed.walkcache", "tb.directed.cmd_ill",
                    "tb.directed.walk_edges", "tb.directed.stalls")
