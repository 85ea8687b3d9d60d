"""The register-file model against the architecture's access rules (spec §6.3, digest in
docs/registers-spec-digest.md). The RTL is checked against this model, so these pin the
model to the spec with hand-derived values."""

from __future__ import annotations

from models.smmu.config import DEFAULT, FULL
from models.smmu.regfile import RegisterFile

CR0, CR0ACK, CR1, CR2, GBPA = 0x20, 0x24, 0x28, 0x2C, 0x44
IRQ_CTRL, IRQ_CTRLACK, GERRORN = 0x50, 0x54, 0x64
STRTAB_BASE, STRTAB_CFG, CMDQ_BASE, CMDQ_PROD, CMDQ_CONS = 0x80, 0x88, 0x90, 0x98, 0x9C
EVENTQ_BASE, EVENTQ_PROD, EVENTQ_CONS = 0xA0, 0x100A8, 0x100AC
PRIQ_BASE, GERROR_IRQ_CFG0 = 0xC0, 0x68


def rd(rf: RegisterFile, off: int) -> int:
    e = rf.expect(off)
    assert not e.any and e.alt is None
    return e.value


def test_reset_values():
    rf = RegisterFile(DEFAULT)
    assert rd(rf, GBPA) == 0x1000  # SHCFG = use incoming, ABORT per GBPA_ABORT_RESET=0
    assert rd(RegisterFile(FULL), GBPA) == 0x1000 | 1 << 20
    for off in (CR0, CR0ACK, CR1, CR2, IRQ_CTRL, IRQ_CTRLACK, 0x60, GERRORN, 0x40):
        assert rd(rf, off) == 0


def test_guarded_registers_ignore_writes_while_enabled():
    rf = RegisterFile(DEFAULT)
    rf.write(CR0, 0b1001)  # SMMUEN | CMDQEN
    rf.write(STRTAB_BASE, 0x1000)
    rf.write(CMDQ_BASE, 0x2008)
    rf.write(CMDQ_CONS, 5)
    rf.write(CR2, 2)
    rf.write(EVENTQ_BASE, 0x3007)  # EVENTQEN off: accepted
    rf.write(EVENTQ_PROD, 3)
    assert (rd(rf, STRTAB_BASE), rd(rf, CMDQ_BASE), rd(rf, CMDQ_CONS), rd(rf, CR2)) == (0,) * 4
    assert rd(rf, EVENTQ_BASE) == 0x3007 and rd(rf, EVENTQ_PROD) == 3
    rf.write(CMDQ_PROD, 7)  # never guarded
    assert rd(rf, CMDQ_PROD) == 7


def test_cr1_halves_have_separate_guards():
    rf = RegisterFile(DEFAULT)
    rf.write(CR0, 0b0100)  # EVENTQEN only: QUEUE_* locked, TABLE_* writable
    rf.write(CR1, 0xFFF)
    assert rd(rf, CR1) == 0xFC0
    rf.write(CR0, 0b0001)  # SMMUEN only: TABLE_* locked
    rf.write(CR1, 0x000)
    assert rd(rf, CR1) == 0xFC0  # QUEUE_* cleared, TABLE_* kept


def test_gbpa_update_protocol():
    rf = RegisterFile(DEFAULT)
    rf.write(GBPA, 0x0010_0000)  # no Update: ignored (the only behaviour from v3.2)
    assert rd(rf, GBPA) == 0x1000
    rf.write(GBPA, 0x8010_2003)
    assert rd(rf, GBPA) == 0x0010_2003  # completes at once in the untimed model
    lag = RegisterFile(DEFAULT, lagging=True)
    lag.write(GBPA, 0x8010_2003)
    e = lag.expect(GBPA)
    assert (e.value, e.alt) == (0x8010_2003, 0x0010_2003)
    lag.write(GBPA, 0x8000_0000)  # while busy: outcome depends on timing
    assert lag.expect(GBPA).any
    lag.observe(GBPA, 0x0010_2003)
    assert lag.expect(GBPA).value == 0x0010_2003


def test_reserved_bits_and_oas():
    rf = RegisterFile(DEFAULT)  # OAS 48 bits
    rf.write(STRTAB_BASE, 0xFFFF_FFFF)
    rf.write(STRTAB_BASE + 4, 0xFFFF_FFFF)
    assert rd(rf, STRTAB_BASE) == 0xFFFF_FFC0
    assert rd(rf, STRTAB_BASE + 4) == (1 << 30) | 0xFFFF  # RA, ADDR[47:32]
    rf.write(STRTAB_CFG, 0xFFFF_FFFF)
    assert rd(rf, STRTAB_CFG) == 0x3_07FF
    rf.write(GERRORN, 0xFFFF_FFFF)
    assert rd(rf, GERRORN) == 0x105  # no PRI, no MSI: CMDQ_ERR, EVENTQ_ABT_ERR, SFM_ERR
    rf.write(CR0, 0xFFFF_FFFF)
    assert rd(rf, CR0) == 0b1101  # no PRIQEN without PRI, no ATSCHK without ATS


def test_feature_gated_registers():
    rf = RegisterFile(DEFAULT)
    rf.write(PRIQ_BASE, 0x4000)
    rf.write(GERROR_IRQ_CFG0, 0x1234)
    assert rd(rf, PRIQ_BASE) == 0 and rd(rf, GERROR_IRQ_CFG0) == 0
    full = RegisterFile(FULL)
    full.write(PRIQ_BASE, 0x4000)
    full.write(GERROR_IRQ_CFG0, 0x1237)
    assert rd(full, PRIQ_BASE) == 0x4000 and rd(full, GERROR_IRQ_CFG0) == 0x1234
    full.write(IRQ_CTRL, 1)
    full.write(GERROR_IRQ_CFG0, 0x5678)  # guarded by GERROR_IRQEN
    assert rd(full, GERROR_IRQ_CFG0) == 0x1234


def test_smmu_owned_pointers_read_zero_above_wrap():
    rf = RegisterFile(DEFAULT)
    rf.write(CMDQ_BASE, 4)  # 16 entries: index [3:0], wrap [4]
    rf.write(CMDQ_CONS, 0xF_FFFF)
    assert rd(rf, CMDQ_CONS) == 0x1F
    rf.write(CMDQ_PROD, 0xF_FFFF)  # software-owned: stored as written
    assert rd(rf, CMDQ_PROD) == 0xF_FFFF
    rf.write(EVENTQ_BASE, 31)  # LOG2SIZE above EVENTQS: capped at IDR1.EVENTQS = 7
    rf.write(EVENTQ_PROD, 0xF_FFFF)
    assert rd(rf, EVENTQ_PROD) == 0xFF


def test_ack_lags_in_predictor_mode():
    rf = RegisterFile(DEFAULT, lagging=True)
    rf.write(CR0, 1)
    e = rf.expect(CR0ACK)
    assert (e.value, e.alt) == (0, 1)
    rf.write(STRTAB_BASE, 0x40)  # SMMUEN set: ignored regardless of the ACK
    assert rf.expect(STRTAB_BASE).value == 0
    rf.write(CR0, 0)
    assert rf.expect(CR0ACK).any  # the first change may have been acknowledged unseen
    rf.write(STRTAB_BASE, 0x40)  # guard depends on whether the ACK cleared yet
    assert rf.expect(STRTAB_BASE).any
    rf.observe(CR0ACK, 0)
    rf.write(STRTAB_BASE, 0x80)
    assert rf.expect(STRTAB_BASE).value == 0x80
