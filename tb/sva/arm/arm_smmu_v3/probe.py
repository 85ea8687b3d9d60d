"""Probe: turn the ID registers into driver features (Linux arm_smmu_device_hw_probe).

Mirrors: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c (arm_smmu_device_hw_probe) and
arm-smmu-v3-sva.c (arm_smmu_sva_supported).

The outcome is data, not an exception: ``refusals`` lists what would make Linux refuse to
probe this SMMU, so an incomplete RTL can still be brought up and inspected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.arch import registers as R
from models.cpu.features import CpuFeatures
from tb.sva.platform import Platform

# Linux batches up to 64 commands before a CMD_SYNC: the queue must hold more than that.
CMDQ_BATCH_SHIFT = 6


@dataclass
class SmmuFeatures:
    idr: dict[str, int]
    flags: set[str] = field(default_factory=set)
    asid_bits: int = 8
    vmid_bits: int = 8
    sid_bits: int = 0
    ssid_bits: int = 0
    cmdq_shift: int = 0
    evtq_shift: int = 0
    priq_shift: int = 0
    oas_bits: int = 0
    pgsize_bitmap: int = 0
    stall_max: int = 0
    refusals: list[str] = field(default_factory=list)

    def has(self, flag: str) -> bool:
        return flag in self.flags

    def summary(self) -> list[str]:
        pg = ", ".join(f"{(1 << b) >> 10}K" if b < 20 else f"{(1 << b) >> 20}M"
                       if b < 30 else f"{(1 << b) >> 30}G"
                       for b in range(64) if self.pgsize_bitmap >> b & 1)
        return [
            "features: " + (" ".join(sorted(self.flags)) or "(none)"),
            f"stream IDs: {self.sid_bits} bits, substream IDs: {self.ssid_bits} bits",
            f"ASIDs: {self.asid_bits} bits, VMIDs: {self.vmid_bits} bits",
            f"queues: cmdq 2^{self.cmdq_shift}, evtq 2^{self.evtq_shift}, "
            + (f"priq 2^{self.priq_shift} entries" if "PRI" in self.flags else "no PRI queue"),
            f"output address size: {self.oas_bits} bits, page sizes: {pg or 'none'}",
        ]


async def read_idrs(plat: Platform) -> dict[str, int]:
    names = ("IDR0", "IDR1", "IDR3", "IDR5", "IIDR", "AIDR")
    return {n: await plat.mmio_read32(R.OFFSETS[n]) for n in names}


def decode_features(idr: dict[str, int], cpu: CpuFeatures | None = None) -> SmmuFeatures:
    cpu = cpu or CpuFeatures()
    f = SmmuFeatures(idr=idr)
    i0 = R.IDR0.from_int(idr["IDR0"])
    i1 = R.IDR1.from_int(idr["IDR1"])
    i3 = R.IDR3.from_int(idr["IDR3"])
    i5 = R.IDR5.from_int(idr["IDR5"])
    for p in i0.problems() + i1.problems() + i5.problems():
        f.refusals.append(f"ID register: {p}")

    if i0.ST_LEVEL == R.STLevel.TWO_LEVEL:
        f.flags.add("2_LVL_STRTAB")
    if i0.CD2L:
        f.flags.add("2_LVL_CDTAB")
    if i0.TTENDIAN in (R.TTEndian.MIXED, R.TTEndian.LITTLE):
        f.flags.add("TT_LE")
    if i0.TTENDIAN in (R.TTEndian.MIXED, R.TTEndian.BIG):
        f.flags.add("TT_BE")
    for name in ("PRI", "ATS", "SEV", "MSI"):
        if getattr(i0, name):
            f.flags.add(name)
    # arm_smmu_device_hw_probe: "If the CPU is using VHE, but the SMMU doesn't support it,
    # the SMMU will create TLB entries for NH-EL1 world and will miss the broadcasted TLB
    # invalidations that target EL2-E2H world. Don't enable BTM in that case."
    if i0.BTM and (not cpu.vhe or i0.HYP):
        f.flags.add("BTM")
    if i0.HYP:
        f.flags.add("HYP")
        if cpu.vhe:
            f.flags.add("E2H")
    if i0.HTTU in (R.HTTU.ACCESS, R.HTTU.ACCESS_DIRTY, R.HTTU.ACCESS_DIRTY_TABLE):
        f.flags.add("HA")
    if i0.HTTU in (R.HTTU.ACCESS_DIRTY, R.HTTU.ACCESS_DIRTY_TABLE):
        f.flags.add("HD")
    if i0.COHACC:
        f.flags.add("COHERENCY")
    if i0.STALL_MODEL == R.StallModel.STALL_FORCED:
        f.flags.update({"STALLS", "STALL_FORCE"})
    elif i0.STALL_MODEL == R.StallModel.STALL_AND_TERMINATE:
        f.flags.add("STALLS")
    if i0.S1P:
        f.flags.add("TRANS_S1")
    if i0.S2P:
        f.flags.add("TRANS_S2")
    if not (i0.S1P or i0.S2P):
        f.refusals.append("no translation support (IDR0.S1P = IDR0.S2P = 0)")
    if i0.TTF not in (R.TTF.AARCH64, R.TTF.BOTH):
        f.refusals.append("AArch64 table format not supported (IDR0.TTF)")
    if i3.RIL:
        f.flags.add("RANGE_INV")
    f.asid_bits = 16 if i0.ASID16 else 8
    f.vmid_bits = 16 if i0.VMID16 else 8

    if i1.TABLES_PRESET or i1.QUEUES_PRESET or i1.REL:
        f.refusals.append("embedded implementation not supported (IDR1 presets/REL)")
    f.cmdq_shift = i1.CMDQS
    if f.cmdq_shift <= CMDQ_BATCH_SHIFT:
        f.refusals.append(f"command queue too small: 2^{f.cmdq_shift} entries")
    f.evtq_shift = i1.EVENTQS
    f.priq_shift = i1.PRIQS if i0.PRI else 0
    f.sid_bits = i1.SIDSIZE
    f.ssid_bits = i1.SSIDSIZE
    if f.sid_bits <= 8:
        f.flags.discard("2_LVL_STRTAB")  # Linux uses a linear table for small SID spaces

    f.stall_max = i5.STALL_MAX
    f.pgsize_bitmap = ((1 << 12 | 1 << 21 | 1 << 30) if i5.GRAN4K else 0) \
        | ((1 << 14 | 1 << 25) if i5.GRAN16K else 0) \
        | ((1 << 16 | 1 << 29) if i5.GRAN64K else 0)
    try:
        f.oas_bits = R.OAS_BITS[R.OAS(i5.OAS)]
    except ValueError:
        f.oas_bits = 48
        f.refusals.append(f"unknown output address size IDR5.OAS={i5.OAS}, assuming 48 bits")
    return f


def sva_blockers(f: SmmuFeatures, cpu: CpuFeatures) -> list[str]:
    """Why this SMMU cannot share CPU page tables (reference §8.9, BTM not required)."""
    out = []
    if not f.has("TRANS_S1"):
        out.append("no stage-1 translation")
    if not f.has("COHERENCY"):
        out.append("table walks are not coherent (IDR0.COHACC=0)")
    if not f.pgsize_bitmap & cpu.page_size:
        out.append(f"CPU page size {cpu.page_size} not supported")
    if f.oas_bits < cpu.pa_bits:
        out.append(f"OAS {f.oas_bits} bits < CPU PA size {cpu.pa_bits} bits")
    if f.asid_bits < cpu.asid_bits:
        out.append(f"{f.asid_bits}-bit ASIDs < CPU's {cpu.asid_bits}")
    if f.ssid_bits == 0:
        out.append("no substreams (IDR1.SSIDSIZE=0): no PASIDs")
    return out


async def probe(plat: Platform, cpu: CpuFeatures | None = None) -> SmmuFeatures:
    return decode_features(await read_idrs(plat), cpu)
