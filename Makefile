# SVA on an Arm SMMUv3, co-simulated. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
SIM    ?= verilator
SEED   ?= 1
PARAMS ?= default
TEST   ?= BringUpTest
# `make test` runs the suite on Verilator and the RTL once more on Icarus; naming SIM on the
# command line (or in the environment) restricts the RTL items to that simulator.
ifeq ($(origin SIM),file)
SIMS ?= verilator icarus
else
SIMS ?= $(SIM)
endif
JOBS   ?= 2
TRANSLATIONS ?= 20000
STAMP  := $(VENV)/.setup-done
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

BACKEND ?= rtl
VECTORS ?= tests/vectors/handwritten.jsonl
OUT     ?= build/replay/out.jsonl

COUNT  ?= 30

# make regress: shard i of N (pytest-split), pytest arguments (selection) passed through
SHARD  ?= 1/1
ARGS   ?=

.PHONY: help setup sim test lint waves replay bench bench-ab cov mutate profile regress merge \
	soak regress-selftest synth clean

help: ## list the targets
	@echo "SVA on an Arm SMMUv3: RTL + reference models + cocotb/pyuvm testbench"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'
	@echo
	@echo "  variables: SIM=verilator|icarus  TEST=<pyuvm test>  SEED=N  PARAMS=default|full|mixed|nosub|stall|pcie|httu|btm"
	@echo "             VECTORS=in.jsonl OUT=out.jsonl BACKEND=rtl|model (make replay, make sim)"
	@echo "             SEEDS=N (seeds per random test in make test)  JOBS=N (pytest workers)"
	@echo "             TRANSLATIONS=N (per random translation run, default 20000)"
	@echo "             ACCESSES=N (make soak: DMA accesses, default 1000000 on the model, 100000 on the RTL)"
	@echo "             COUNT=N (make mutate: mutants; MUTATE_CMD=\"...\" replaces its tests)"
	@echo "             SHARD=i/N (make regress, default 1/1)  ARGS=\"...\" (pytest arguments: selection)"
	@echo "             REF=<commit> ROUNDS=N (make bench-ab, default f446a4f and 8)"

$(STAMP): scripts/setup.sh requirements.txt
	@bash scripts/setup.sh
	@touch $@

setup: $(STAMP) ## install the toolchain (Debian packages, .venv, verilator shim); idempotent

# The tools check every value before they build or write anything: a bad one is one line on
# stderr and exit status 2, and the previous result stays. Values are quoted so that an empty
# or spaced one reaches the check as it was given.
sim: $(STAMP) ## the flagship SVA scenario on BACKEND=rtl|model: bind, DMA, munmap, unbind
	@$(PY) -m tb.cli.sim --sim '$(SIM)' --seed '$(SEED)' --backend '$(BACKEND)'

test: $(STAMP) ## run every test: models, formats, and the RTL on Verilator and Icarus
	@SIMS="$(SIMS)" TRANSLATIONS=$(TRANSLATIONS) $(PY) -m pytest -n $(JOBS) --dist loadgroup -q

lint: $(STAMP) ## generated RTL package current, verilator -Wall and Icarus on the RTL and the testbench wrapper, ruff
	$(PY) -m models.arch.svpkg --check
	verilator --lint-only -Wall --top-module smmu_top -f rtl/files.f
	iverilog -g2012 -Wall -o /dev/null -s smmu_top -c rtl/files.f
	verilator --lint-only -Wall --top-module smmu_tb -f rtl/files.f tb/hdl/smmu_tb.sv
	iverilog -g2012 -o /dev/null -s smmu_tb -c rtl/files.f tb/hdl/smmu_tb.sv
	$(PY) -m ruff check .

# The arguments are checked first (tb.cli.args: one line, exit 2, nothing built); the runner's
# last line goes to a temporary file that replaces build/last-waves.txt only when it passed.
waves: $(STAMP) ## rerun TEST with FST tracing on SIM and print the wave file
	@$(PY) -m tb.cli.args --prog waves --sim '$(SIM)' --test '$(TEST)' --seed '$(SEED)' \
	  --params '$(PARAMS)' --translations '$(TRANSLATIONS)' --waves
	@set -o pipefail; mkdir -p build; tmp=build/.last-waves.txt.$$$$; trap 'rm -f "$$tmp"' EXIT; \
	  SMMU_TRANSLATIONS='$(TRANSLATIONS)' $(PY) -m tb.cli.runner --sim '$(SIM)' --test '$(TEST)' \
	    --seed '$(SEED)' --params '$(PARAMS)' --waves | tail -n 1 > "$$tmp" \
	  && mv "$$tmp" build/last-waves.txt && cat build/last-waves.txt
	@f=$$(sed 's/^waves: //' build/last-waves.txt); \
	  if [ -n "$$DISPLAY" ] && command -v gtkwave >/dev/null; then gtkwave "$$f" waves/smmu.gtkw & fi; \
	  echo "open with: gtkwave $$f waves/smmu.gtkw"

replay: $(STAMP) ## translate VECTORS (JSON lines) on BACKEND=rtl|model, results to OUT
	@$(PY) -m tb.replay.cli '$(VECTORS)' '$(OUT)' --backend '$(BACKEND)' --sim '$(SIM)' --params '$(PARAMS)'

# BACKEND defaults to model here (1,000,000 accesses); ACCESSES only when given.
soak: $(STAMP) ## SVA under churn for ACCESSES DMA accesses on BACKEND=model|rtl, 0 isolation violations -> build/soak/report.json
	@$(PY) -m tb.cli.soak --backend '$(if $(filter command line environment,$(origin BACKEND)),$(BACKEND),model)' \
	  --seed '$(SEED)' --sim '$(SIM)' --params '$(PARAMS)' $(if $(ACCESSES),--accesses '$(ACCESSES)')

bench: $(STAMP) ## cycle counts and co-simulation speed on both simulators -> build/bench/bench.json
	@$(PY) -m tb.cli.bench

# REF and ROUNDS reach tb.cli.bench_ab only when given (its defaults: f446a4f, 8 rounds).
bench-ab: $(STAMP) ## random traffic here against REF's tree, ROUNDS alternated BenchTest runs -> build/bench-ab/report.json
	@$(PY) -m tb.cli.bench_ab $(if $(filter command line environment,$(origin REF)),--ref '$(REF)') \
	  $(if $(filter command line environment,$(origin ROUNDS)),--rounds '$(ROUNDS)')

cov: $(STAMP) ## functional, RTL line/toggle (Verilator) and model line coverage -> build/cov/
	@SIM=$(SIM) SEEDS=$(or $(SEEDS),2) JOBS=$(JOBS) SMMU_TRANSLATIONS=$(TRANSLATIONS) $(PY) -m tb.cli.cov

# SIM, JOBS and TRANSLATIONS reach tb.cli.mutate only when given: its own defaults differ.
mutate: $(STAMP) ## plant COUNT faults (from SEED) in rtl/, run tests on each -> build/mutate/report.json
	@$(PY) -m tb.cli.mutate --seed $(SEED) --count $(COUNT) \
	  $(if $(filter file,$(origin SIM)),,--sim $(SIM)) \
	  $(if $(filter file,$(origin JOBS)),,--jobs $(JOBS)) \
	  $(if $(filter file,$(origin TRANSLATIONS)),,--translations $(TRANSLATIONS))

profile: $(STAMP) ## TEST (default XlateRandomTest) under cocotb's profiler: Python time by layer
	@$(PY) -m tb.cli.profile --sim '$(SIM)' --test '$(if $(filter command line,$(origin TEST)),$(TEST),XlateRandomTest)' --seed '$(SEED)' --translations '$(or $(PROFILE_TRANSLATIONS),2000)'

# SIMS and TRANSLATIONS as in make test: every shard must collect the same items.
regress: $(STAMP) ## shard SHARD=i/N of the suite (pytest-split, JOBS workers) -> build/regress/shard-i-of-N/
	@SIMS="$(SIMS)" TRANSLATIONS=$(TRANSLATIONS) $(PY) -m tb.cli.regress run --shard $(SHARD) --jobs $(JOBS) -- $(ARGS)

merge: $(STAMP) ## combine build/regress/shard-*-of-N/ into one JUnit file and one coverage database
	@$(PY) -m tb.cli.regress merge

# SIMS and TRANSLATIONS only when given: the selftest's own defaults (verilator, 300) keep it short.
regress-selftest: $(STAMP) ## 4 shards against one run: same ids, JUnit counts and coverage
	@$(PY) -m tb.cli.regress_selftest --jobs $(JOBS) $(if $(ARGS),-- $(ARGS))

# PARAMS and JOBS reach tb.cli.synth only when given: by default every set, one Yosys at a time.
synth: $(STAMP) ## Yosys generic synthesis of every parameter set (PARAMS=name): cells, FFs, latches, depth -> build/synth/
	@$(PY) -m tb.cli.synth \
	  $(if $(filter command line,$(origin PARAMS)),--params $(PARAMS)) \
	  $(if $(filter command line,$(origin JOBS)),--jobs $(JOBS))

clean: ## remove build products (keeps .venv)
	rm -rf build .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
