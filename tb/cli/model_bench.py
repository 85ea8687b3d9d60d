"""`python -m tb.cli.model_bench`: the scoreboard's model work without a simulator.

Replays what the translation scoreboard asks of the model in the random translation test
(``XlateRandomSeq`` with ``XlateScoreboard``): a random World, bursts of random requests,
each predicted (``predict_runs``) and committed (``commit_runs``) with one of the allowed
outcomes standing in for the RTL's, table mutations with (or without) their invalidations,
SMMUEN dropped now and then, event records written to memory by the SMMU side. It prints the
model's cost per translation, which is what the scoreboard pays per response.

    python -m tb.cli.model_bench [--seed N] [--translations N] [--contexts N] [--params NAME]
                                 [--churn] [--slow] [--profile]

``--slow`` uses the reference enumeration (every cached/fresh combination, no memo), the
path the differential test (tests/test_model_envelope_diff.py) compares against.
``--churn``: a mutation after every burst and more of them without invalidation.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from models.arch import registers as R
from models.arch.commands import CmdSync, CmdTlbiNsnhAll, cfgi_all
from models.memory import PhysicalMemory
from models.smmu.config import SmmuConfig
from models.smmu.port import TransReq
from models.smmu.smmu import SmmuModel
from models.smmu.xlate import Outcome
from tb.dut_config import CONFIGS
from tb.stimgen.mutations import MutationWeights
from tb.stimgen.requests import RequestWeights
from tb.stimgen.world import World, WorldKnobs

# As the random translation sequence draws them (tb/env/seq_lib/xlate_sequences.py).
MUTATIONS = MutationWeights(unmap_table=15)
REQUESTS = RequestWeights(mapped=55, repeat=30)
WORLD_WINDOW = (0x1_0000_0000, 0x1_4000_0000)
EVTQ = 0x4000_0000  # where the SMMU side writes its records (its own pages)
EVTQ_SLOTS = 64


@dataclass
class Step:
    """One event of the replay, as seen by the models it drives."""

    kind: str  # "req", "inval", "regs", "fault", "evt"
    req: TransReq | None = None
    cmds: list = field(default_factory=list)


def setup_regs(model: SmmuModel, world: World, *, enable: bool = True,
               gbpa_abort: bool = False, recinvsid: bool = True, shrink: int = 0) -> None:
    """Point the model at the World's stream table; ``shrink`` takes that many bits off
    STRTAB_BASE_CFG.LOG2SIZE (StreamIDs beyond it become C_BAD_STREAMID)."""
    o = R.OFFSETS
    strtab_cfg = R.STRTAB_BASE_CFG.from_int(world.strtab_base_cfg)
    strtab_cfg = dataclasses.replace(strtab_cfg, LOG2SIZE=max(strtab_cfg.LOG2SIZE - shrink, 0))
    model.regs.write(o["STRTAB_BASE"], world.strtab_base & 0xFFFF_FFFF)
    model.regs.write(o["STRTAB_BASE"] + 4, world.strtab_base >> 32)
    model.regs.write(o["STRTAB_BASE_CFG"], strtab_cfg.to_int())
    model.regs.write(o["CR2"], R.CR2(RECINVSID=int(recinvsid)).to_int())
    model.regs.write(o["GBPA"], R.GBPA(ABORT=int(gbpa_abort)).to_int())
    model.regs.write(o["CR0"], R.CR0(SMMUEN=int(enable)).to_int())


def observe(rng: random.Random, runs: list[tuple[Outcome, list]]) -> list[Outcome]:
    """The outcomes the scoreboard commits for a response the RTL might give: mostly the
    first (newest cached copies), sometimes any other allowed one."""
    outcomes = list(dict.fromkeys(oc for oc, _ in runs))
    got = outcomes[0] if rng.random() < 0.7 else rng.choice(outcomes)
    return [oc for oc in outcomes if oc.resp == got.resp]


def traffic(seed: int, cfg: SmmuConfig, mem: PhysicalMemory, *, translations: int,
            contexts: int = 6, churn: bool = False, faults: bool = False,
            before_mutate: Callable[[], None] | None = None) -> Iterator[tuple[str, object]]:
    """The stimulus side of the replay: yields ("world", World) first, then ("req", req),
    ("inval", [commands]), ("enable", bool), ("evt", slot) for the caller to apply to its
    models. Memory changes (mutations, injected faults) happen here, before the yield;
    ``before_mutate`` is called before each mutation (which needs memory to match the World's
    record of it)."""
    rng = random.Random(seed)
    world = World(rng, mem, cfg, window=WORLD_WINDOW,
                  knobs=WorldKnobs(n_contexts=contexts, n_streams=max(16, contexts)))
    yield "world", world
    weights = MutationWeights(unmap_table=15, p_omit=0.3) if churn else MUTATIONS
    sent = bursts = 0
    injected = []
    while sent < translations:
        n = min(rng.randint(1, 24), translations - sent)
        for _ in range(n):
            yield "req", world.random_request(rng, REQUESTS)
        sent += n
        bursts += 1
        if churn or bursts % 3 == 0:
            if before_mutate:
                before_mutate()
            mut = world.mutate(rng, weights)
            if mut.invalidated:
                yield "inval", list(mut.commands)
        if faults and rng.random() < 0.2:
            # A bus error appearing on (or leaving) some table memory.
            if injected and rng.random() < 0.5:
                mem.remove_fault(injected.pop(rng.randrange(len(injected))))
            else:
                lo, hi = WORLD_WINDOW
                start = rng.randrange(lo, min(hi, lo + 0x40_0000), 8)
                injected.append(mem.add_fault(start, start + rng.choice((8, 64, 4096)),
                                              on=rng.choice(("rw", "r", "w"))))
            yield "mem", None
        if faults and rng.random() < 0.03:
            yield "inval", [cfgi_all(), CmdTlbiNsnhAll()]
        if rng.random() < 0.03:
            yield "enable", False
            for _ in range(rng.randint(4, 16)):
                yield "req", TransReq(sid=rng.randrange(1 << 16), addr=rng.randrange(1 << 48))
            yield "enable", True


def run(seed: int, cfg: SmmuConfig, *, translations: int, contexts: int, churn: bool,
        memo: bool, faults: bool = False,
        hook: Callable[[SmmuModel], None] | None = None,
        on_outcome: Callable[[World, TransReq, Outcome], None] | None = None,
        ) -> tuple[float, int]:
    """(seconds spent in the model, translations) for one replay; ``on_outcome`` sees each
    request with the outcome committed for it."""
    mem = PhysicalMemory(pa_bits=cfg.pa_bits)
    model = SmmuModel(cfg, mem, predictor=True, memo=memo)
    rng = random.Random(seed ^ 0x5EED)
    spent = 0.0
    count = evt = 0
    world = None
    for kind, what in traffic(seed, cfg, mem, translations=translations, contexts=contexts,
                              churn=churn, faults=faults):
        if kind == "world":
            world = what
            setup_regs(model, world)  # type: ignore[arg-type]
            continue
        if kind == "enable":
            setup_regs(model, world, enable=bool(what))  # type: ignore[arg-type]
            continue
        t0 = time.perf_counter()
        if kind == "req":
            req = what
            runs = model.predict_runs(req)  # type: ignore[arg-type]
            matching = observe(rng, runs)
            model.commit_runs(req, runs, matching)  # type: ignore[arg-type]
            count += 1
            spent += time.perf_counter() - t0
            if on_outcome:
                on_outcome(world, req, matching[0])  # type: ignore[arg-type]
            if matching[0].event is not None:
                # The SMMU writes the record: a memory write the model must not mistake
                # for a table change.
                mem.write(EVTQ + 32 * (evt % EVTQ_SLOTS), matching[0].event.to_bytes(),
                          source="smmu")
                evt += 1
        elif kind == "inval":
            for cmd in what:  # type: ignore[union-attr]
                model.apply_command(cmd)
            model.apply_command(CmdSync())
            spent += time.perf_counter() - t0
    if hook:
        hook(model)
    return spent, count


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--translations", type=int, default=2000)
    ap.add_argument("--contexts", type=int, default=6)
    ap.add_argument("--params", default="default", choices=sorted(CONFIGS))
    ap.add_argument("--churn", action="store_true")
    ap.add_argument("--faults", action="store_true")
    ap.add_argument("--slow", action="store_true", help="reference enumeration, no memo")
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args(argv)
    cfg = CONFIGS[a.params]
    prof = cProfile.Profile() if a.profile else None
    if prof:
        prof.enable()
    spent, n = run(a.seed, cfg, translations=a.translations, contexts=a.contexts,
                   churn=a.churn, memo=not a.slow, faults=a.faults)
    if prof:
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    print(f"model prediction + commit: {spent:.3f} s for {n} translations, "
          f"{1e6 * spent / max(n, 1):.1f} us per translation "
          f"(seed {a.seed}, {a.params}, {a.contexts} contexts"
          f"{', churn' if a.churn else ''}{', faults' if a.faults else ''}"
          f"{', reference' if a.slow else ''})")


if __name__ == "__main__":
    main()
