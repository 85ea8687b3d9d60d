"""The driver's probe and bring-up against the functional model (no simulator)."""

from __future__ import annotations

import asyncio

import pytest

from models.arch import registers as R
from models.arch.ste import STE, StreamConfig
from models.cpu.features import CpuFeatures
from models.smmu.config import DEFAULT, FULL, MIXED
from tb.platform.model import ModelPlatform
from tb.sva.arm.arm_smmu_v3.device import ArmSmmuV3
from tb.sva.arm.arm_smmu_v3.probe import decode_features, sva_blockers
from tb.sva.platform import SmmuTimeout

# Linear stream table with 64 STEs: small enough to check every entry.
LINEAR = DEFAULT.replace(ST_LEVEL=0, SIDSIZE=6)


def bring_up(cfg=LINEAR, **kw):
    plat = ModelPlatform(cfg)
    smmu = ArmSmmuV3(plat, **{k: v for k, v in kw.items() if k == "disable_bypass"})
    rep = asyncio.run(smmu.device_reset(bypass=kw.get("bypass", False)))
    return plat, smmu, rep


def test_bringup_leaves_linux_state():
    plat, smmu, rep = bring_up()
    v = plat.regs.v
    assert v["CR0"] == v["CR0ACK"] == R.CR0(SMMUEN=1, EVENTQEN=1, CMDQEN=1).to_int()
    assert v["IRQ_CTRLACK"] == R.IRQ_CTRL(GERROR_IRQEN=1, EVENTQ_IRQEN=1).to_int()
    # CR1: inner-shareable write-back tables and queues.
    assert v["CR1"] == (1 << 0) | (1 << 2) | (3 << 4) | (1 << 6) | (1 << 8) | (3 << 10)
    # CR2: RECINVSID; PTM is RES0 without BTM, so Linux's PTM write does not stick.
    assert v["CR2"] == 1 << 1
    assert v["STRTAB_BASE"] == (1 << 62) | smmu.strtab.base
    assert v["STRTAB_BASE_CFG"] == LINEAR.SIDSIZE  # linear, LOG2SIZE = SIDSIZE
    assert v["CMDQ_BASE"] == (1 << 62) | smmu.cmdq.base | 8
    assert v["EVENTQ_BASE"] == (1 << 62) | smmu.evtq.base | 7
    # Queues and the stream table are naturally aligned.
    for q in (smmu.strtab, smmu.cmdq, smmu.evtq):
        assert q.base % q.size_bytes == 0
    assert not rep.skipped
    # CFGI_ALL + SYNC, then TLBI_NSNH_ALL + SYNC, all consumed by the model's command queue.
    assert smmu.cmdq_drv.stats.by_opcode == {"CmdCfgiSteRange": 1, "CmdSync": 2,
                                             "CmdTlbiNsnhAll": 1}
    assert plat.regs.hw_value("CMDQ_CONS") == 4


def test_order_of_enables_follows_linux():
    plat, _, _ = bring_up()
    cr0_writes = [val for op, off, val in plat.mmio_log if op == "w" and off == 0x20]
    assert cr0_writes == [0, 0b1000, 0b1100, 0b1101]  # off, CMDQ, +EVENTQ, +SMMUEN
    # Every CR0 write is followed by a read of CR0ACK before the next write.
    log = plat.mmio_log
    for i, (op, off, _) in enumerate(log):
        if op == "w" and off == 0x20:
            assert log[i + 1][:2] == ("r", 0x24)


@pytest.mark.parametrize("disable_bypass, config", [(True, StreamConfig.ABORT),
                                                     (False, StreamConfig.BYPASS)])
def test_unattached_stes(disable_bypass, config):
    plat, smmu, _ = bring_up(disable_bypass=disable_bypass)
    for sid in range(1 << LINEAR.SIDSIZE):
        ste = STE.from_bytes(plat.mem.read(smmu.strtab.base + 64 * sid, 64))
        assert (ste.V, ste.Config, ste.SHCFG) == (1, config, 0b01)


def test_bypass_bringup_clears_gbpa_abort_and_leaves_smmu_off():
    plat, _, _ = bring_up(LINEAR.replace(GBPA_ABORT_RESET=1), bypass=True)
    assert plat.regs.v["CR0"] & 1 == 0
    assert plat.regs.v["GBPA"] & (1 << 20) == 0


def test_reset_of_enabled_smmu_aborts_first():
    plat = ModelPlatform(LINEAR)
    plat.regs.write(0x20, 1)  # firmware left the SMMU enabled
    asyncio.run(ArmSmmuV3(plat).device_reset(invalidate_caches=False))
    gbpa_writes = [val for op, off, val in plat.mmio_log if op == "w" and off == 0x44]
    first_cr0 = next(i for i, e in enumerate(plat.mmio_log) if e[0] == "w" and e[1] == 0x20)
    first_gbpa = next(i for i, e in enumerate(plat.mmio_log) if e[0] == "w" and e[1] == 0x44)
    assert gbpa_writes[0] & (1 << 20) and gbpa_writes[0] & (1 << 31)
    assert first_gbpa < first_cr0


def test_ack_that_never_comes_times_out():
    class Stuck(ModelPlatform):
        async def mmio_read32(self, offset):
            return 0xDEAD if offset == 0x24 else await super().mmio_read32(offset)

    smmu = ArmSmmuV3(Stuck(LINEAR), poll_timeout_ns=1000)
    with pytest.raises(SmmuTimeout, match="CR0ACK"):
        asyncio.run(smmu.device_reset())


def test_two_level_stream_table():
    plat, smmu, _ = bring_up(DEFAULT)
    base = R.STRTAB_BASE_CFG.from_int(plat.regs.v["STRTAB_BASE_CFG"])
    assert (base.FMT, base.SPLIT, base.LOG2SIZE) == (R.StrtabFmt.TWO_LEVEL, 8, 16)
    assert smmu.strtab.size_bytes == 256 * 8
    assert plat.mem.read64(smmu.strtab.base + 8 * 0x12) == 0  # no leaf yet: Span=0
    ste_pa = smmu.ste_addr(0x1234)
    l1 = plat.mem.read64(smmu.strtab.base + 8 * 0x12)
    assert l1 & 0x1F == 9 and ste_pa == (l1 & ~0x3F) + 0x34 * 64
    assert STE.from_bytes(plat.mem.read(ste_pa, 64)).Config == StreamConfig.ABORT


def test_probe_flags_from_idrs():
    f = decode_features(FULL.idr())
    assert {"2_LVL_STRTAB", "2_LVL_CDTAB", "PRI", "ATS", "SEV", "MSI", "BTM", "HA", "HD",
            "COHERENCY", "STALLS", "TRANS_S1", "RANGE_INV", "TT_LE"} == f.flags
    assert (f.sid_bits, f.ssid_bits, f.oas_bits, f.asid_bits) == (16, 20, 52, 16)
    assert not f.refusals
    m = decode_features(MIXED.idr())
    assert {"STALLS", "STALL_FORCE", "HA", "TRANS_S1"} <= m.flags
    assert "HD" not in m.flags and "COHERENCY" not in m.flags
    assert m.asid_bits == 8 and m.oas_bits == 40
    d = decode_features(DEFAULT.replace(S1P=0).idr())
    assert any("no translation" in r for r in d.refusals)
    assert not decode_features(DEFAULT.idr()).refusals


def test_sva_blockers_compare_with_cpu():
    f = decode_features(FULL.idr())
    assert sva_blockers(f, CpuFeatures()) == []
    m = decode_features(MIXED.idr())
    reasons = " ".join(sva_blockers(m, CpuFeatures(parange=5, asid_bits=16)))
    assert "COHACC" in reasons and "OAS 40" in reasons and "8-bit ASIDs" in reasons


def test_reserved_idr_values_are_reported_not_fatal():
    idr = dict(LINEAR.idr())
    idr["IDR0"] |= 0b11 << 24  # STALL_MODEL reserved
    idr["IDR5"] = (idr["IDR5"] & ~7) | 7  # OAS reserved in this spec version
    f = decode_features(idr)
    assert any("STALL_MODEL" in r for r in f.refusals)
    assert any("OAS" in r for r in f.refusals)


def test_pri_and_ats_bringup():
    cfg = LINEAR.replace(PRI=1, ATS=1, PRIQS=9)
    plat, smmu, _ = bring_up(cfg)
    cr0_writes = [val for op, off, val in plat.mmio_log if op == "w" and off == 0x20]
    # off, CMDQ, +EVENTQ, +PRIQ, +ATSCHK, +SMMUEN
    assert cr0_writes == [0, 0b1000, 0b1100, 0b1110, 0b11110, 0b11111]
    assert plat.regs.v["PRIQ_BASE"] == (1 << 62) | smmu.priq.base | 8  # capped at 2^8 entries
    assert plat.regs.v["IRQ_CTRLACK"] == 0b111
