"""Context-descriptor tables and the CD update protocol (Linux arm_smmu_write_ctx_desc).

Mirrors: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c (arm_smmu_alloc_cd_tables, arm_smmu_get_cd_ptr,
arm_smmu_write_ctx_desc).

One table per stage-1 domain. Linear when the SMMU has no 2-level CD support or the domain
needs at most 1024 contexts; otherwise 64 KiB leaves of 1024 CDs, allocated on the first CD
written in their range. Every update follows reference §3.4: the SMMU reads a CD in no
defined order and only dw0 (which holds V and the ASID) is written as one 64-bit store, so
the other words go first, are made visible with CFGI_CD + CMD_SYNC, and dw0 comes last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from models.arch.cd import CD, L1CD
from models.arch.commands import CmdCfgiCd, Command
from models.arch.ste import S1Format
from tb.sva.arm.arm_smmu_v3.cmdq import CommandQueue
from tb.sva.platform import Platform

CD_BYTES = CD.SIZE
L1CD_BYTES = L1CD.SIZE
L2_BITS = 10               # CTXDESC_SPLIT: 1024 CDs (64 KiB) per leaf
_DW0_ASID = CD.field("ASID")


@dataclass(frozen=True)
class ContextDesc:
    """What a CD carries for one address space (Linux struct arm_smmu_ctx_desc)."""

    asid: int
    ttbr: int          # TTB0: the page table's physical address
    tcr: dict[str, int]  # T0SZ, TG0, IR0, OR0, SH0, EPD1, IPS, (HA, HD) ...
    mair: int
    shared: bool = False  # an mm's page table (ASET=0, hit by broadcast TLBI) vs private


QUIET = object()  # case (4): the mm exited but DMA may continue: every access faults silently


class CdTable:
    def __init__(self, plat: Platform, cmdq: CommandQueue, s1cdmax: int, cd2l: bool,
                 sids: Callable[[], Iterable[int]], *, stall: bool = False) -> None:
        self.plat = plat
        self.cmdq = cmdq
        self.s1cdmax = s1cdmax
        self.sids = sids
        self.stall = stall
        n = 1 << s1cdmax
        if cd2l and n > 1 << L2_BITS:
            self.s1fmt = S1Format.TWO_LEVEL_64K
            self.n_l1 = -(-n >> L2_BITS)
            self.base = plat.dma.alloc(self.n_l1 * L1CD_BYTES)
        else:
            self.s1fmt = S1Format.LINEAR
            self.n_l1 = n
            self.base = plat.dma.alloc(n * CD_BYTES)
        self.leaves: dict[int, int] = {}

    def free(self) -> None:
        for leaf in self.leaves.values():
            self.plat.dma.free(leaf)
        self.plat.dma.free(self.base)

    async def _sync_cd(self, ssid: int, leaf: bool) -> None:
        cmds: list[Command] = [CmdCfgiCd(StreamID=sid, SubstreamID=ssid, Leaf=int(leaf))
                               for sid in self.sids()]
        await self.cmdq.issue(cmds)

    async def cd_addr(self, ssid: int) -> int:
        """The CD slot for ``ssid``, allocating its leaf (and publishing it) if needed."""
        if ssid >> self.s1cdmax:
            raise ValueError(f"SSID {ssid:#x} beyond S1CDMax={self.s1cdmax} (Linux: -E2BIG)")
        if self.s1fmt == S1Format.LINEAR:
            return self.base + ssid * CD_BYTES
        idx = ssid >> L2_BITS
        if idx not in self.leaves:
            leaf = self.plat.dma.alloc(CD_BYTES << L2_BITS)
            self.leaves[idx] = leaf
            self.plat.mem.write64(self.base + idx * L1CD_BYTES,
                                  L1CD(V=1, L2Ptr=leaf).to_int(), source="cpu")
            # An invalid L1CD may have been cached: CFGI_CD with Leaf=0 drops it.
            await self._sync_cd(ssid, leaf=False)
        return self.leaves[idx] + (ssid & ((1 << L2_BITS) - 1)) * CD_BYTES

    async def write(self, ssid: int, cd: ContextDesc | object | None) -> None:
        """Install, change the ASID of, quiesce or remove the CD of ``ssid`` (cases 1-5)."""
        addr = await self.cd_addr(ssid)
        mem = self.plat.mem
        dw0 = mem.read64(addr, source="cpu")
        live = CD.from_int(dw0).V
        if cd is None:                       # (5) remove
            dw0 = 0
        elif cd is QUIET:                    # (4) quiesce: V stays 1
            cur = CD.from_int(dw0)
            dw0 = CD(**{**cur.as_dict(), "EPD0": 1, "R": 0, "S": 0}).to_words()[0]
        elif live:                           # (3) live ASID change
            assert isinstance(cd, ContextDesc)
            dw0 = (dw0 & ~_DW0_ASID.mask) | (_DW0_ASID.to_raw(cd.asid) << _DW0_ASID.lsb)
        else:                                # (1)/(2) install
            assert isinstance(cd, ContextDesc)
            words = CD(TTB0=cd.ttbr, MAIR=cd.mair).to_words()
            for i in (1, 2, 3):
                mem.write64(addr + 8 * i, words[i], source="cpu")
            await self._sync_cd(ssid, leaf=True)
            dw0 = CD(**cd.tcr, R=1, A=1, ASET=0 if cd.shared else 1, AA64=1, ASID=cd.asid,
                     V=1, S=int(self.stall)).to_words()[0]
        mem.write64(addr, dw0, source="cpu")
        await self._sync_cd(ssid, leaf=True)
