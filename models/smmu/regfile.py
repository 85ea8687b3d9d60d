"""Behaviour of the SMMUv3 programming interface (ref §1, docs/registers-spec-digest.md).

Used two ways:
  - as the register file of the functional model (``lagging=False``): CR0ACK, IRQ_CTRLACK and
    GBPA.Update complete at once;
  - as the predictor of the RTL (``lagging=True``): those completions take some cycles the
    model does not know, so a read may legally return the old or the new value; the first
    read that shows the new value resolves it. A write to a guarded register while its guard
    is in flight has an unknown outcome: the register becomes *indeterminate* and adopts the
    next value read.

Implementation choices where the architecture leaves a choice (documented in docs/):
UNKNOWN reset values are 0; writes to a register while it is read-only are ignored; GBPA
writes without Update=1, or while an update is in progress, are ignored (the only behaviour
allowed from v3.2); address bits at and above OAS are not stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.arch import registers as R
from models.smmu.config import SmmuConfig

GERROR_ALL = R.GERROR(CMDQ_ERR=1, EVENTQ_ABT_ERR=1, PRIQ_ABT_ERR=1, MSI_CMDQ_ABT_ERR=1,
                      MSI_EVENTQ_ABT_ERR=1, MSI_PRIQ_ABT_ERR=1, MSI_GERROR_ABT_ERR=1,
                      SFM_ERR=1).to_int()
_QPTR = R.CMDQ_PROD.field("WR").mask
_OVF = R.EVENTQ_PROD.field("OVFLG").mask
_CMDQ_ERR = R.CMDQ_CONS.field("ERR").mask
_UPDATE = R.GBPA.field("Update").mask


@dataclass
class Expect:
    """What a read may return: ``value``, or ``alt`` while a completion is in flight."""

    value: int
    alt: int | None = None
    any: bool = False

    def matches(self, got: int) -> bool:
        return self.any or got == self.value or (self.alt is not None and got == self.alt)

    def __str__(self) -> str:
        if self.any:
            return "any (indeterminate)"
        return f"{self.value:#010x}" + (f" or {self.alt:#010x}" if self.alt is not None else "")


class RegisterFile:
    def __init__(self, cfg: SmmuConfig, *, lagging: bool = False) -> None:
        self.cfg = cfg
        self.lagging = lagging
        pa_mask = (1 << cfg.pa_bits) - 1
        self._pa_mask = pa_mask
        en = R.CR0.field
        self.cr0_mask = (en("SMMUEN").mask | en("EVENTQEN").mask | en("CMDQEN").mask
                         | (en("PRIQEN").mask if cfg.PRI else 0)
                         | (en("ATSCHK").mask if cfg.ATS else 0))
        self.cr2_mask = (R.CR2.field("RECINVSID").mask
                         | (R.CR2.field("PTM").mask if cfg.BTM else 0)
                         | (R.CR2.field("E2H").mask if cfg.HYP else 0))
        self.gbpa_mask = R.GBPA(MemAttr=0xF, MTCFG=1, ALLOCCFG=0xF, SHCFG=3, PRIVCFG=3,
                                INSTCFG=3, ABORT=1).to_int()
        self.irq_mask = R.IRQ_CTRL(GERROR_IRQEN=1, EVENTQ_IRQEN=1, PRIQ_IRQEN=cfg.PRI).to_int()
        self.gerr_mask = GERROR_ALL & ~(
            (R.GERROR(PRIQ_ABT_ERR=1, MSI_PRIQ_ABT_ERR=1).to_int() if not cfg.PRI else 0)
            | (R.GERROR(MSI_CMDQ_ABT_ERR=1, MSI_EVENTQ_ABT_ERR=1, MSI_PRIQ_ABT_ERR=1,
                        MSI_GERROR_ABT_ERR=1).to_int() if not cfg.MSI else 0))
        self.strtab_base_mask = R.STRTAB_BASE.field("RA").mask | (pa_mask & ~0x3F)
        self.q_base_mask = (R.CMDQ_BASE.field("RA").mask | (pa_mask & ~0x1F)
                            | R.CMDQ_BASE.field("LOG2SIZE").mask)
        self.strtab_cfg_mask = R.STRTAB_BASE_CFG(LOG2SIZE=0x3F, SPLIT=0x1F, FMT=3).to_int()
        self.irq_cfg0_mask = pa_mask & ~0x3
        self.irq_cfg2_mask = R.IRQ_CFG2(MemAttr=0xF, SH=3).to_int()
        self._idr = {R.OFFSETS[k]: v for k, v in cfg.idr().items() if k in R.OFFSETS}
        self._idr[0x010] = 0  # IDR4: nothing IMPLEMENTATION DEFINED
        self.reset()

    # ---- state ---------------------------------------------------------------------------
    # A completion is outstanding while an ACK differs from its control register, or while
    # GBPA.Update is set; its eventual value is always known from the current state.
    _ACKS = {"CR0ACK": "CR0", "IRQ_CTRLACK": "IRQ_CTRL"}

    def reset(self) -> None:
        self.v: dict[str, int] = {name: 0 for name in R.REGISTERS}
        self.v["GBPA"] = R.GBPA(SHCFG=0b01, ABORT=self.cfg.GBPA_ABORT_RESET).to_int()
        self.indeterminate: set[str] = set()

    def _completion(self, name: str) -> int | None:
        """The value a register moves to when its outstanding completion lands, if any."""
        if name in self._ACKS and self.v[name] != self.v[self._ACKS[name]]:
            return self.v[self._ACKS[name]]
        if name == "GBPA" and self.v["GBPA"] & _UPDATE:
            return self.v["GBPA"] & ~_UPDATE
        return None

    def _set_ctrl(self, ctrl: str, ack: str, value: int) -> None:
        if self.lagging and self.v[ack] != self.v[ctrl]:
            # The earlier change may or may not have been acknowledged unseen.
            self.indeterminate.add(ack)
        self.v[ctrl] = value
        if not self.lagging:
            self.v[ack] = value

    def _off(self, ctrl: str, ack: str, field_mask: int) -> bool | None:
        """A guard is open when the bit is clear in both; None when it depends on timing."""
        if self.v[ctrl] & field_mask:
            return False
        if ack in self.indeterminate or self.v[ack] & field_mask:
            return None  # the ACK is on its way to clear, or unknown
        return True

    def _guarded(self, name: str, guard: bool | None, new: int) -> None:
        if guard is None:
            self.indeterminate.add(name)
        elif guard:
            self.v[name] = new
            self.indeterminate.discard(name)

    # ---- access --------------------------------------------------------------------------
    def write(self, off: int, data: int) -> None:
        """Apply a 32-bit write at a register offset, as the hardware does."""
        data &= 0xFFFF_FFFF
        name, hi = self._name(off)
        if name is None:
            return
        c = self.cfg
        cr0f = R.CR0.field
        irqf = R.IRQ_CTRL.field
        smmu = self._off("CR0", "CR0ACK", cr0f("SMMUEN").mask)
        cmdq = self._off("CR0", "CR0ACK", cr0f("CMDQEN").mask)
        evtq = self._off("CR0", "CR0ACK", cr0f("EVENTQEN").mask)
        priq = self._off("CR0", "CR0ACK", cr0f("PRIQEN").mask)

        def merge64(mask: int) -> int:
            cur = self.v[name]
            if hi:
                m = mask & ~0xFFFF_FFFF
                return (cur & ~m) | ((data << 32) & m)
            m = mask & 0xFFFF_FFFF
            return (cur & ~m) | (data & m)

        if name == "CR0":
            self._set_ctrl("CR0", "CR0ACK", data & self.cr0_mask)
        elif name == "IRQ_CTRL":
            self._set_ctrl("IRQ_CTRL", "IRQ_CTRLACK", data & self.irq_mask)
        elif name == "CR1":
            table, queue = 0xFC0, 0x3F
            qoff = _all(cmdq, evtq, priq)
            new = self.v["CR1"]
            for guard, m in ((smmu, table), (qoff, queue)):
                if guard is None:
                    self.indeterminate.add("CR1")
                elif guard:
                    new = (new & ~m) | (data & m)
            self.v["CR1"] = new
        elif name == "CR2":
            self._guarded("CR2", smmu, data & self.cr2_mask)
        elif name == "GBPA":
            if self.v["GBPA"] & _UPDATE:
                # Ignored while the update runs; it may have finished unseen.
                self.indeterminate.add("GBPA")
            elif data & _UPDATE:
                self.v["GBPA"] = (data & self.gbpa_mask) | (_UPDATE if self.lagging else 0)
        elif name == "GERRORN":
            self.v["GERRORN"] = data & self.gerr_mask
        elif name == "STRTAB_BASE":
            self._guarded(name, smmu, merge64(self.strtab_base_mask))
        elif name == "STRTAB_BASE_CFG":
            self._guarded(name, smmu, data & self.strtab_cfg_mask)
        elif name == "CMDQ_BASE":
            self._guarded(name, cmdq, merge64(self.q_base_mask))
        elif name == "CMDQ_PROD":
            self.v[name] = data & _QPTR
        elif name == "CMDQ_CONS":
            self._guarded(name, cmdq, (self.v[name] & ~_QPTR) | (data & _QPTR))
        elif name == "EVENTQ_BASE":
            self._guarded(name, evtq, merge64(self.q_base_mask))
        elif name == "EVENTQ_PROD":
            self._guarded(name, evtq, (self.v[name] & ~_QPTR) | (data & _QPTR))
        elif name == "EVENTQ_CONS":
            self.v[name] = data & (_QPTR | _OVF)
        elif name.startswith("PRIQ") and not c.PRI:
            return
        elif name == "PRIQ_BASE":
            self._guarded(name, priq, merge64(self.q_base_mask))
        elif name == "PRIQ_PROD":
            self._guarded(name, priq, (self.v[name] & ~_QPTR) | (data & _QPTR))
        elif name == "PRIQ_CONS":
            self.v[name] = data & (_QPTR | _OVF)
        elif name.endswith(("_IRQ_CFG0", "_IRQ_CFG1", "_IRQ_CFG2")):
            if not c.MSI:
                return
            bit = {"GERROR": "GERROR_IRQEN", "EVENTQ": "EVENTQ_IRQEN", "PRIQ": "PRIQ_IRQEN"}[
                name.rsplit("_IRQ_CFG", 1)[0]]
            guard = self._off("IRQ_CTRL", "IRQ_CTRLACK", irqf(bit).mask)
            kind = name[-1]
            new = (merge64(self.irq_cfg0_mask) if kind == "0" else
                   data if kind == "1" else data & self.irq_cfg2_mask)
            self._guarded(name, guard, new)
        # IDRs, ACKs, GERROR, STATUSR and unmapped offsets: read-only or RAZ/WI.

    def expect(self, off: int) -> Expect:
        """What a 32-bit read at ``off`` may return now."""
        name, hi = self._name(off)
        if off in self._idr:
            return Expect(self._idr[off])
        if name is None:
            return Expect(0)
        if name in self.indeterminate or self._QBASE.get(name) in self.indeterminate:
            return Expect(0, any=True)
        if name.startswith("PRIQ") and not self.cfg.PRI:
            return Expect(0)
        val = self._visible(name, self.v[name])
        alt = self._completion(name)
        if alt is not None:
            alt = self._visible(name, alt)
        if hi:
            return Expect(val >> 32, None if alt is None else alt >> 32)
        return Expect(val & 0xFFFF_FFFF, None if alt is None else alt & 0xFFFF_FFFF)

    def observe(self, off: int, got: int) -> Expect:
        """Check a read and learn from it; returns the expectation it was checked against."""
        exp = self.expect(off)
        name, hi = self._name(off)
        if name is None or not exp.matches(got):
            return exp
        if name in self.indeterminate:
            cur = self.v[name]
            self.v[name] = ((cur & 0xFFFF_FFFF) | (got << 32)) if hi else \
                ((cur & ~0xFFFF_FFFF) | got)
            if self.width(name) == 32 or hi:
                self.indeterminate.discard(name)
        elif exp.alt is not None and got == exp.alt and got != exp.value:
            completion = self._completion(name)
            assert completion is not None
            self.v[name] = completion
        return exp

    # ---- hardware-side updates ------------------------------------------------------------
    # The SMMU's own engines (command consumer, event producer) own CMDQ_CONS (RD and ERR),
    # EVENTQ_PROD (WR and OVFLG), PRIQ_PROD and GERROR; software writes to those are ignored
    # or guarded above, so these are the only ways they change.
    _HW_OWNED = frozenset({"CMDQ_CONS", "EVENTQ_PROD", "PRIQ_PROD", "GERROR"})

    def hw_value(self, name: str) -> int:
        """The stored value of a register, as the SMMU itself sees it."""
        return self.v[name]

    def hw_set(self, name: str, value: int) -> None:
        """Update an SMMU-owned register (queue pointer owned by the SMMU, GERROR)."""
        if name not in self._HW_OWNED:
            raise ValueError(f"{name} is not updated by the SMMU")
        self.v[name] = value & ((1 << self.width(name)) - 1)

    def gerror_active(self) -> int:
        """Bits of GERROR whose error is active (GERROR[n] != GERRORN[n])."""
        return (self.v["GERROR"] ^ self.v["GERRORN"]) & self.gerr_mask

    def hw_raise_gerror(self, field: str) -> bool:
        """Toggle GERROR.<field> unless that error is already active; True if it toggled."""
        mask = R.GERROR.field(field).mask & self.gerr_mask
        if not mask or self.gerror_active() & mask:
            return False
        self.v["GERROR"] ^= mask
        return True

    # ---- helpers -------------------------------------------------------------------------
    # SMMU-owned pointers and the base register whose LOG2SIZE bounds them.
    _QBASE = {"CMDQ_CONS": "CMDQ_BASE", "EVENTQ_PROD": "EVENTQ_BASE", "PRIQ_PROD": "PRIQ_BASE"}

    def _visible(self, name: str, val: int) -> int:
        """Pointers the SMMU owns read as zero above their wrap bit."""
        qs = {"CMDQ_CONS": ("CMDQ_BASE", self.cfg.CMDQS),
              "EVENTQ_PROD": ("EVENTQ_BASE", self.cfg.EVENTQS),
              "PRIQ_PROD": ("PRIQ_BASE", self.cfg.PRIQS)}.get(name)
        if qs is None:
            return val
        log2 = min(self.v[qs[0]] & 0x1F, qs[1])
        return val & (((2 << log2) - 1) | _CMDQ_ERR | _OVF)

    @staticmethod
    def width(name: str) -> int:
        return R.REGISTERS[name].width

    _BY_OFF: dict[int, tuple[str, bool]] = {}

    @classmethod
    def _name(cls, off: int) -> tuple[str | None, bool]:
        if not cls._BY_OFF:
            for name, r in R.REGISTERS.items():
                cls._BY_OFF[r.offset] = (name, False)
                if r.width == 64:
                    cls._BY_OFF[r.offset + 4] = (name, True)
        return cls._BY_OFF.get(off, (None, False))

    def idr(self, name: str) -> int:
        return self._idr[R.OFFSETS[name]]


def _all(*guards: bool | None) -> bool | None:
    if any(g is False for g in guards):
        return False
    if any(g is None for g in guards):
        return None
    return True
