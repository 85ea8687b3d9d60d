"""`make sim`: the flagship SVA scenario, on the RTL (default) or on the functional model.

Bring-up by the software stack (the probed features first), then three processes bound to
three DMA engines with concurrent copies and fills verified byte for byte, a munmap under
traffic (the next access faults once the notifier returned), unbind of everything. Every DMA
access is checked by the isolation checker; on the RTL every translation also by the
scoreboard against the model. Then I/O page faults on the parameter set with the stall model:
a stall-capable DMA engine copies into and fills memory its process never touched (faults
raised, handled, retried, aborted, and on the RTL the cycles of a serviced fault), and on the
parameter set with ATS and PRI a PCIe endpoint's demand-paged DMA (ATS requests, ATC hit
rate, page requests, PRG responses, ATC invalidations, on the RTL the cycles of a serviced
page request). Prints a summary and writes build/sim/report.json. The simulator's own output
goes to a log file.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from tb.cli import args as cli_args
from tb.cli.runner import BUILD_ROOT, SIMULATORS, build, run

TEST = "SvaFlagshipTest"
IOPF_TEST = "SvaDemandPagedDmaTest"  # on the parameter set with the stall model
PCIE_TEST = "SvaPcieDemandPagedDmaTest"  # on the parameter set with ATS and PRI
REPORT = BUILD_ROOT / "report.json"


def run_model(seed: int, params: str = "default") -> dict[str, Any]:
    from tb.dut_config import CONFIGS
    from tb.platform.model import ModelPlatform
    from tb.scenarios.harness import ModelBackend, SvaBench
    from tb.scenarios.scenarios import flagship

    async def go() -> dict[str, Any]:
        plat = ModelPlatform(CONFIGS[params])
        b = await SvaBench.create(ModelBackend(plat), seed=seed)
        result = await flagship(b)
        b.finish()
        rep = b.report()
        rep["scenario"] = result
        rep["mmio_accesses"] = len(b.plat.mmio_log)  # type: ignore[attr-defined]
        rep["dvm"] = {"applied": plat.model.dvm_applied}
        return rep

    return asyncio.run(go())


TLBI_COMMANDS = ("CmdTlbiNhVa", "CmdTlbiNhAsid", "CmdTlbiNhAll", "CmdTlbiNsnhAll")


def print_httu_btm(rep: dict[str, Any], base: dict[str, Any]) -> None:
    """The flagship on the parameter set with HTTU and BTM, against the same on the one with
    HTTU alone (explicit TLBI commands)."""
    print("  HTTU and BTM (parameter set `btm`: the flagship again with a write-back round, the "
          "SMMU updating access flags and dirty state, the CPU's TLBIs on its DVM port):")
    sc = rep.get("scenario", {})
    print(f"    write-back round: {sc.get('pages_dirtied', 0)} harvested destination pages "
          f"dirtied again by the device's copies, {sc.get('pages_made_young', 0)} aged source "
          f"pages made young by its reads")
    up = rep.get("httu_updates")
    if up is not None:
        ex = rep.get("exclusive", {})
        print(f"    flag updates by the SMMU: access flag {up.get('af', 0)}, dirty "
              f"{up.get('dirty', 0)} (exclusive reads {ex.get('reads', 0)}, writes stored "
              f"{ex.get('stored', 0)}, failed and read again {ex.get('failed', 0)})")
    dvm = rep.get("dvm", {})
    print(f"    DVM: {_kv({k: v for k, v in dvm.items() if k != 'SYNC'})}"
          + (f"; {dvm['SYNC']} DVM syncs" if "SYNC" in dvm else ""))
    before = sum(base["commands"].get(k, 0) for k in TLBI_COMMANDS)
    after = sum(rep["commands"].get(k, 0) for k in TLBI_COMMANDS)
    total = sum(base["commands"].values()) - sum(rep["commands"].values())
    print(f"    TLBI commands: {before} with explicit invalidation (parameter set `httu`, "
          f"the same scenario), {after} with BTM ({before - after} saved; {total} commands "
          f"saved in all); isolation violations = {rep['isolation']['violations']}")


def run_model_iopf(seed: int) -> dict[str, Any]:
    """Demand-paged DMA through the stall model on the functional model (no cycles)."""
    from tb.dut_config import CONFIGS
    from tb.platform.model import ModelPlatform
    from tb.scenarios.harness import ModelBackend, SvaBench
    from tb.scenarios.iopf import demand_paged_dma

    async def go() -> dict[str, Any]:
        b = await SvaBench.create(ModelBackend(ModelPlatform(CONFIGS["stall"])), seed=seed)
        result = await demand_paged_dma(b)
        b.finish()
        return {"scenario": "demand_paged_dma", "result": result,
                "driver": dict(b.drv.fault_stats)}

    return asyncio.run(go())


def run_model_pcie(seed: int) -> dict[str, Any]:
    """Demand-paged DMA from a PCIe endpoint through ATS and PRI on the functional model."""
    from tb.dut_config import CONFIGS
    from tb.platform.model import ModelPlatform
    from tb.scenarios.harness import ModelBackend, SvaBench
    from tb.scenarios.pcie import ats_pri_demand_paged_dma, pcie_summary

    async def go() -> dict[str, Any]:
        b = await SvaBench.create(ModelBackend(ModelPlatform(CONFIGS["pcie"])), seed=seed)
        result = await ats_pri_demand_paged_dma(b)
        b.finish()
        return {"scenario": "ats_pri_demand_paged_dma", "result": result, **pcie_summary(b)}

    return asyncio.run(go())


def print_pcie(rep: dict[str, Any]) -> None:
    print("  PCIe SVA (parameter set `pcie`: an endpoint with ATS, an ATC and PRI copies into "
          "memory its process never touched):")
    n, hits = rep["translations"], rep["atc_hits"]
    print(f"    ATS requests {rep['ats_requests']}; ATC hit rate {hits}/{n} translations "
          f"({100 * hits / max(n, 1):.0f}%)")
    print(f"    page requests {rep['page_requests']}; PRG responses: "
          f"{_kv(rep['prg_responses'])}; ATC invalidations {rep['atc_invalidations']} "
          f"({rep['inv_completions']} completed)")
    _print_cycles(rep.get("serviced_page_request_cycles"), "a serviced page request, from "
                  "the request's handshake to its PRG response", "requests")


def print_iopf(rep: dict[str, Any]) -> None:
    d = rep["driver"]
    print("  I/O page faults (parameter set `stall`: a stall-capable DMA engine copies into and "
          "fills memory its process never touched):")
    raised = rep.get("stall_records", d.get("reported", 0))
    print(f"    faults raised {raised}, handled {d.get('reported', 0)}, retried "
          f"{d.get('resume_retry', 0)}, aborted {d.get('resume_abort', 0)}; "
          f"{rep['result'].get('bytes_moved', 0)} bytes moved, checked byte for byte")
    _print_cycles(rep.get("serviced_latency_cycles"),
                  "a serviced fault, from acceptance to the retried response", "faults")


def _print_cycles(lat: dict[str, Any] | None, what: str, unit: str) -> None:
    """min / mean / max cycles (RTL runs only)."""
    if lat:
        print(f"    {what}: min {lat['min']}, mean {lat['mean']}, max {lat['max']} cycles "
              f"({lat['n']} {unit})")


def _kv(d: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items(), key=lambda kv: -kv[1])) or "none"


def print_summary(rep: dict[str, Any], where: str) -> None:
    print(f"SMMUv3 SVA flagship on {where}")
    print("  ID registers: " + "  ".join(f"{k}={v}" for k, v in rep["idr"].items()))
    for line in rep["summary"]:
        print(f"  {line}")
    for r in rep["refusals"]:
        print(f"  Linux would refuse to probe: {r}")
    print("  SVA: " + ("supported" if not rep["sva_blockers"] else
                       "not yet (" + "; ".join(rep["sva_blockers"]) + ")"))
    print("  bring-up:")
    for step in rep["bringup_steps"]:
        print(f"    - {step}")
    for step in rep["skipped"]:
        print(f"    - skipped: {step}")
    print(f"  scenario: 3 processes, 3 DMA engines, {rep['binds']} bonds; concurrent copies and "
          "fills checked byte for byte, munmap under traffic, unbind")
    print(f"    binds {rep['binds']}, unbinds {rep['unbinds']}, PASIDs {rep['pasids']}, "
          f"ASIDs {rep['asids']}")
    print(f"    DMA: {sum(d['descriptors'] for d in rep['dma'].values())} descriptors, "
          f"{rep['bytes_moved']} bytes written, {rep['translations']} translations, "
          f"{rep['dma_faults']} faulted descriptors")
    for name, d in rep["dma"].items():
        print(f"      {name}: {d['descriptors']} descriptors, {d['translations']} translations, "
              f"{d['bytes_written']} bytes written, faults: {_kv(d['faults_by_type'])}")
    if "scoreboard" in rep:
        sb = rep["scoreboard"]
        print(f"    scoreboard: {sb['checked']} responses checked against the model "
              f"({_kv(sb['by_result'])}), {sb['stale_accepted']} stale-cache outcomes "
              f"accepted, {sb['events_checked']} event records checked, {sb['errors']} errors")
        lat, served = rep["latency"], rep["served"]
        ok = sum(served.values())
        print(f"    IOTLB hit rate: {served.get('iotlb', 0)}/{ok} successful translations "
              f"({100 * served.get('iotlb', 0) / max(ok, 1):.0f}%) served by the hit path, "
              f"the rest by a walk; {rep['pages_translated']} distinct (stream, substream, "
              f"page) translated")
        print(f"    translation latency (queued to response): min {lat['min']}, mean "
              f"{lat['mean']}, max {lat['max']} cycles")
    print(f"    events: {_kv(rep['events'])}")
    print(f"    commands: {_kv(rep['commands'])}")
    iso = rep["isolation"]
    print(f"    isolation: {iso['accesses_checked']} DMA accesses checked, "
          f"{iso['stale_in_window']} used a translation during its invalidation, "
          f"violations = {iso['violations']}")
    cyc = rep.get("cycles")
    print(f"  {rep['mmio_accesses']} MMIO accesses"
          + (f", {cyc} cycles simulated" if cyc is not None else ", no simulator"))


def write_report(rep: dict[str, Any], path: Path = REPORT) -> None:
    """``path`` replaced whole (a temporary file renamed over it): an interrupted run leaves
    the previous report, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(rep, indent=2) + "\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    # Every value is checked here (one line and exit status 2 when bad), before anything is
    # built or the previous report is touched.
    ap = cli_args.ArgumentParser(prog="sim", description=__doc__.splitlines()[0])
    ap.add_argument("--sim", type=cli_args.sim, default=os.environ.get("SIM", "verilator"),
                    metavar="{" + ",".join(SIMULATORS) + "}")
    ap.add_argument("--backend", type=cli_args.backend, default="rtl",
                    metavar="{" + ",".join(cli_args.BACKENDS) + "}")
    ap.add_argument("--seed", type=cli_args.seed, default=1)
    ap.add_argument("--waves", action="store_true")
    args = ap.parse_args(argv)

    t0 = time.monotonic()
    tdir: Path | None = None
    if args.backend == "model":
        try:
            rep = run_model(args.seed)
            rep["btm"] = run_model(args.seed, "btm")
            rep["httu"] = run_model(args.seed, "httu")
            rep["iopf"] = run_model_iopf(args.seed)
            rep["pcie"] = run_model_pcie(args.seed)
        except AssertionError as exc:
            print(f"sim: FAILED: {exc}", file=sys.stderr)
            return 1
        where = f"the functional model (seed {args.seed})"
    else:
        build(args.sim, waves=args.waves)
        try:
            tdir = run(args.sim, TEST, args.seed, waves=args.waves, log_file_name="sim.log")
            bdir = run(args.sim, TEST, args.seed, params="btm", log_file_name="sim.log")
            hdir = run(args.sim, TEST, args.seed, params="httu", log_file_name="sim.log")
            idir = run(args.sim, IOPF_TEST, args.seed, params="stall",
                       log_file_name="sim.log")
            pdir = run(args.sim, PCIE_TEST, args.seed, params="pcie", log_file_name="sim.log")
        except (RuntimeError, SystemExit) as exc:
            print(f"sim: FAILED: {exc}", file=sys.stderr)
            return 1
        rep = json.loads((tdir / "report.json").read_text())
        rep["btm"] = json.loads((bdir / "report.json").read_text())
        rep["httu"] = json.loads((hdir / "report.json").read_text())
        rep["iopf"] = json.loads((idir / "iopf.json").read_text())
        rep["pcie"] = json.loads((pdir / "pcie.json").read_text())
        where = f"{args.sim} (seed {args.seed})"
    wall = time.monotonic() - t0
    rep["wall_s"] = round(wall, 2)
    write_report(rep, REPORT)
    print_summary(rep, where)
    print_httu_btm(rep["btm"], rep["httu"])
    print_iopf(rep["iopf"])
    print_pcie(rep["pcie"])
    print(f"  wall time {wall:.1f} s; report: {REPORT}"
          + (f"; log: {tdir / 'sim.log'}" if tdir else ""))
    if args.waves and tdir is not None:
        from tb.cli.runner import wave_file
        print(f"  waves: {wave_file(args.sim, tdir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
