"""Command queue entries as the SMMUv3 architecture lays them out (IHI 0070, chapter 4).

Written from the spec, section by section, and kept apart from ``models/arch`` on purpose: the
model, the RTL package generated from it (``rtl/smmu_arch_pkg.sv``) and any test derived from
them share one field layout, so an error in it would go unseen by all three.
``tests/test_spec_cmd_layout.py`` compares this table with the model, the model's CERROR_ILL
check and the generated package; ``tb/directed/cmd_ill.py`` probes the RTL with it.

Bit numbers are those of the spec's figures: 0..127 over the whole 16-byte entry, so dw1 bit b
is bit 64 + b (the TLBI range table of section 4.4.1.1 numbers TG [75:74] that way).

``fig=False`` marks a position the section's text states as well (the range fields of 4.4.1.1,
the numbered figure of 4.4.2.2); every other position is drawn only in the command's figure. A
field the spec names but whose position the project has no reliable copy of has ``lsb=None``:
it is kept so that a parameter set in which it exists is seen to need it
(``unplaced_present``).

Parts of a layout exist only with some feature or on some queue; elsewhere they are RES0. They
carry the feature key (``FEATURES``) in ``res0_unless`` or ``res0``. Which RES0 parts a decoder
flags is its choice (section 4.1.5): this project's is ``DECODER_KEEPS``, at the end, apart
from the spec's table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

NBITS = 128
DW1 = 64

# Feature keys of ``res0_unless`` (a part of a layout) and ``needs`` (a whole command), with
# the condition the spec attaches to them.
FEATURES = {
    "S1": "stage 1 implemented (SMMU_IDR0.S1P)",
    "S2": "stage 2 implemented (SMMU_IDR0.S2P)",
    "HYP": "SMMU_IDR0.Hyp",
    "ATS": "SMMU_IDR0.ATS",
    "PRI": "SMMU_IDR0.PRI",
    "STALL": "a stall model (SMMU_IDR0.STALL_MODEL != 0b01)",
    "ASID16": "16-bit ASIDs (SMMU_IDR0.ASID16); otherwise ASID[15:8] is RES0",
    "VMID16": "16-bit VMIDs (SMMU_IDR0.VMID16); otherwise VMID[15:8] is RES0",
    "RIL": "range invalidation and TTL hint (SMMU_IDR3.RIL)",
    "DS": "SMMU_IDR5.DS: a 6-bit SCALE",
    "D128": "128-bit translation table descriptors (TTL128)",
    "STRIDE": "SMMUv3.1 or later: the CMD_PREFETCH_ADDR Stride parameter",
    "ADDR52": "SMMUv3.1 or later: PA/IPA fields bits [51:48]",
    "ADDR56": "SMMUv3.4 or later: PA/IPA fields bits [55:52]",
    "MPAM": "SMMU_IDR3.MPAM",
    "DPT": "SMMU_IDR3.DPT",
    "SECURE": "the Secure Command queue",
    "REALM": "the Realm Command queue",
}


@dataclass(frozen=True)
class Res0:
    """Bits [lsb + width - 1:lsb] of a field that are RES0 unless a feature is present."""

    lsb: int
    width: int
    unless: str

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb


@dataclass(frozen=True)
class Field:
    name: str
    lsb: int | None
    width: int | None
    section: str
    fig: bool = True  # the position is drawn in the command's figure, not stated in text
    res0_unless: str | None = None  # the whole field is RES0 without this feature
    res0: tuple[Res0, ...] = ()  # parts RES0 without a feature

    @property
    def placed(self) -> bool:
        return self.lsb is not None

    @property
    def mask(self) -> int:
        assert self.lsb is not None and self.width is not None, self.name
        return ((1 << self.width) - 1) << self.lsb

    @property
    def msb(self) -> int:
        assert self.lsb is not None and self.width is not None, self.name
        return self.lsb + self.width - 1

    def present(self, features: frozenset[str]) -> bool:
        return self.res0_unless is None or self.res0_unless in features

    def live_mask(self, features: frozenset[str]) -> int:
        """The bits of the field that are not RES0 given `features` (0 when it is absent)."""
        if not self.present(features):
            return 0
        m = self.mask
        for r in self.res0:
            if r.unless not in features:
                m &= ~r.mask
        return m


@dataclass(frozen=True)
class Cmd:
    opcode: int
    name: str  # without the CMD_ prefix
    section: str
    fields: tuple[Field, ...]
    needs: str | None = None  # ILLEGAL without this feature; None: every SMMU accepts it

    def field(self, name: str) -> Field:
        (f,) = (f for f in self.fields if f.name == name)
        return f


def F(name: str, hi: int, lo: int, section: str, **kw) -> Field:
    """A field at bits [hi:lo] of the entry, as the figure numbers them."""
    return Field(name, lo, hi - lo + 1, section, **kw)


def unplaced(name: str, section: str, **kw) -> Field:
    return Field(name, None, None, section, **kw)


# -- fields shared by many commands (section 4.1.6 and the figures) ----------------------------
def _op(section: str) -> Field:
    return F("Opcode", 7, 0, section)


def _ssec(section: str) -> Field:
    return F("SSec", 10, 10, section)


def _ssv(section: str) -> Field:
    return F("SSV", 11, 11, section)


def _ssid(section: str) -> Field:
    return F("SubstreamID", 31, 12, section)


def _sid(section: str) -> Field:
    return F("StreamID", 63, 32, section)


def _vmid(section: str, **kw) -> Field:
    # 4.4: VMID[15:8] is RES0 with 8-bit VMIDs
    return F("VMID", 47, 32, section, res0=(Res0(40, 8, "VMID16"),), **kw)


def _asid(section: str) -> Field:
    # 4.4: ASID[15:8] is RES0 with 8-bit ASIDs
    return F("ASID", 63, 48, section, res0=(Res0(56, 8, "ASID16"),))


def _leaf(section: str) -> Field:
    return F("Leaf", DW1 + 0, DW1 + 0, section)


def _va(section: str, name: str = "Addr") -> Field:
    # 4.1.6: a VA field is Address[63:12]
    return F(name, DW1 + 63, DW1 + 12, section)


def _pa_res0(lsb_of_bit0: int) -> tuple[Res0, ...]:
    """4.1.6: PA/IPA bits [55:52] RES0 up to SMMUv3.3, [55:48] RES0 in SMMUv3.0."""
    return (Res0(lsb_of_bit0 + 52, 4, "ADDR56"), Res0(lsb_of_bit0 + 48, 4, "ADDR52"))


def _ipa(section: str) -> Field:
    # 4.1.6: an IPA field is Address[55:12]; bit 12 of the address sits at bit 12 of dw1
    return F("Addr", DW1 + 55, DW1 + 12, section, res0=_pa_res0(DW1))


def _range_fields(section: str = "4.4.1.1") -> tuple[Field, ...]:
    """The range-invalidation fields of every address-based TLBI (section 4.4.1.1, whose
    table states their positions in text). SCALE is [24:20] with DS == 0, bit 25 RES0."""
    return (
        F("NUM", 16, 12, section, fig=False, res0_unless="RIL"),
        F("SCALE", 25, 20, section, fig=False, res0_unless="RIL", res0=(Res0(25, 1, "DS"),)),
        F("TTL128", 71, 71, section, fig=False, res0_unless="D128"),
        F("TTL", 73, 72, section, fig=False, res0_unless="RIL"),
        F("TG", 75, 74, section, fig=False, res0_unless="RIL"),
    )


def _tlbi_va(op: int, name: str, section: str, *, vmid: bool, asid: bool, needs: str | None,
             ipa: bool = False, vmid_res0: str | None = None) -> Cmd:
    fields = [_op(section), *_range_fields()]
    if vmid:
        fields.append(_vmid(section, res0_unless=vmid_res0))
    if asid:
        fields.append(_asid(section))
    fields += [_leaf(section), _ipa(section) if ipa else _va(section)]
    return Cmd(op, name, section, tuple(fields), needs)


def _cmds() -> tuple[Cmd, ...]:
    s = "4.2.1"
    prefetch_config = Cmd(0x01, "PREFETCH_CONFIG", s,
                          (_op(s), _ssec(s), _ssv(s), _ssid(s), _sid(s)))
    s = "4.2.2"
    prefetch_addr = Cmd(0x02, "PREFETCH_ADDR", s, (
        _op(s), _ssec(s), _ssv(s), _ssid(s), _sid(s),
        F("Size", DW1 + 4, DW1 + 0, s),
        _va(s),
        # RES0 on the Non-secure queue, and on the Secure queue with SSec == 0
        unplaced("NS", s, res0_unless="SECURE"),
        # RES0 in SMMUv3.0 (non-zero: ignored or CERROR_ILL)
        unplaced("Stride", s, res0_unless="STRIDE"),
    ))
    # 4.3: CFGI_* carry no SSV; CMD_CFGI_ALL (4.3.6) is CFGI_STE_RANGE with Range == 31
    s = "4.3.1"
    cfgi_ste = Cmd(0x03, "CFGI_STE", s, (_op(s), _ssec(s), _sid(s), _leaf(s)))
    s = "4.3.2"
    cfgi_ste_range = Cmd(0x04, "CFGI_STE_RANGE", s, (
        _op(s), _ssec(s), _sid(s), F("Range", DW1 + 4, DW1 + 0, s)))
    s = "4.3.3"
    cfgi_cd = Cmd(0x05, "CFGI_CD", s, (_op(s), _ssec(s), _ssid(s), _sid(s), _leaf(s)),
                  needs="S1")
    s = "4.3.4"
    cfgi_cd_all = Cmd(0x06, "CFGI_CD_ALL", s, (_op(s), _ssec(s), _sid(s)), needs="S1")
    s = "4.3.5"
    cfgi_vms_pidm = Cmd(0x07, "CFGI_VMS_PIDM", s, (_op(s), _ssec(s), unplaced("VMID", s)),
                        needs="MPAM")

    # 4.4.2: TLBI_NH_* are ILLEGAL on a stage 2-only SMMU; their VMID is RES0 without stage 2
    s = "4.4.2.1"
    nh_all = Cmd(0x10, "TLBI_NH_ALL", s, (_op(s), _vmid(s, res0_unless="S2")), needs="S1")
    # 4.4.2.2: the one TLBI figure whose bit numbers survive in the spec's text
    s = "4.4.2.2"
    nh_asid = Cmd(0x11, "TLBI_NH_ASID", s, (
        F("Opcode", 7, 0, s, fig=False),
        F("VMID", 47, 32, s, fig=False, res0_unless="S2", res0=(Res0(40, 8, "VMID16"),)),
        F("ASID", 63, 48, s, fig=False, res0=(Res0(56, 8, "ASID16"),)),
    ), needs="S1")
    nh_va = _tlbi_va(0x12, "TLBI_NH_VA", "4.4.2.4", vmid=True, asid=True, needs="S1",
                     vmid_res0="S2")
    nh_vaa = _tlbi_va(0x13, "TLBI_NH_VAA", "4.4.2.3", vmid=True, asid=False, needs="S1",
                      vmid_res0="S2")
    # 4.4.2.5-6: valid only on the Secure Command queue
    s = "4.4.2.5"
    el3_all = Cmd(0x18, "TLBI_EL3_ALL", s, (_op(s),), needs="SECURE")
    el3_va = _tlbi_va(0x1A, "TLBI_EL3_VA", "4.4.2.6", vmid=False, asid=False, needs="SECURE")
    # 4.4.2.7-10: ILLEGAL without Hyp
    s = "4.4.2.7"
    el2_all = Cmd(0x20, "TLBI_EL2_ALL", s, (_op(s),), needs="HYP")
    s = "4.4.2.10"
    el2_asid = Cmd(0x21, "TLBI_EL2_ASID", s, (_op(s), _asid(s)), needs="HYP")
    el2_va = _tlbi_va(0x22, "TLBI_EL2_VA", "4.4.2.8", vmid=False, asid=True, needs="HYP")
    el2_vaa = _tlbi_va(0x23, "TLBI_EL2_VAA", "4.4.2.9", vmid=False, asid=False, needs="HYP")
    # 4.4.3: stage 2 invalidations, ILLEGAL without stage 2
    s = "4.4.3.2"
    s12_vmall = Cmd(0x28, "TLBI_S12_VMALL", s, (_op(s), _vmid(s)), needs="S2")
    s2_ipa = _tlbi_va(0x2A, "TLBI_S2_IPA", "4.4.3.1", vmid=True, asid=False, needs="S2",
                      ipa=True)
    s = "4.4.4.1"
    nsnh_all = Cmd(0x30, "TLBI_NSNH_ALL", s, (_op(s),))

    # 4.5: ATS and PRI; Non-secure (or Realm) streams only, so no SSec
    s = "4.5.1"
    atc_inv = Cmd(0x40, "ATC_INV", s, (
        _op(s), F("Global", 9, 9, s), _ssv(s), _ssid(s), _sid(s),
        F("Size", DW1 + 5, DW1 + 0, s),
        _va(s, "Address"),
    ), needs="ATS")
    s = "4.5.2"
    pri_resp = Cmd(0x41, "PRI_RESP", s, (
        _op(s), _ssv(s), _ssid(s), _sid(s),
        F("PRGIndex", DW1 + 8, DW1 + 0, s),
        F("Resp", DW1 + 13, DW1 + 12, s),
    ), needs="PRI")

    # 4.7: fault response and synchronisation
    s = "4.7.1"
    resume = Cmd(0x44, "RESUME", s, (
        _op(s), _ssec(s), F("Ac", 12, 12, s), F("Ab", 13, 13, s), _sid(s),
        F("STAG", DW1 + 15, DW1 + 0, s),
    ), needs="STALL")
    s = "4.7.2"
    stall_term = Cmd(0x45, "STALL_TERM", s, (_op(s), _ssec(s), _sid(s)), needs="STALL")
    s = "4.7.3"
    sync = Cmd(0x46, "SYNC", s, (
        _op(s),
        F("CS", 13, 12, s),
        F("MSH", 23, 22, s),
        F("MSIAttr", 27, 24, s),
        F("MSIData", 63, 32, s),
        # the text gives MSIAddress[55:2]: bit 2 of the address at bit 2 of dw1
        F("MSIAddress", DW1 + 55, DW1 + 2, s, res0=_pa_res0(DW1)),
        # only meaningful on the Realm queue, RES0 on the Non-secure and Secure ones
        unplaced("MSI_NS", s, res0_unless="REALM"),
    ))

    # Secure-queue counterparts: ILLEGAL on the Non-secure queue. 4.4.2.11-14 say each is
    # encoded like its TLBI_EL2_* namesake.
    def like(src: Cmd, op: int, name: str, section: str) -> Cmd:
        return Cmd(op, name, section, src.fields, needs="SECURE")

    s_el2_all = like(el2_all, 0x50, "TLBI_S_EL2_ALL", "4.4.2.11")
    s_el2_asid = like(el2_asid, 0x51, "TLBI_S_EL2_ASID", "4.4.2.14")
    s_el2_va = like(el2_va, 0x52, "TLBI_S_EL2_VA", "4.4.2.12")
    s_el2_vaa = like(el2_vaa, 0x53, "TLBI_S_EL2_VAA", "4.4.2.13")
    s = "4.4.3.4"
    s_s12_vmall = Cmd(0x58, "TLBI_S_S12_VMALL", s, (_op(s), _vmid(s)), needs="SECURE")
    s = "4.4.3.3"
    s_s2_ipa = Cmd(0x5A, "TLBI_S_S2_IPA", s,
                   (*s2_ipa.fields, unplaced("NS", s)), needs="SECURE")
    s = "4.4.4.2"
    snh_all = Cmd(0x60, "TLBI_SNH_ALL", s, (_op(s),), needs="SECURE")

    # 4.6: DPT maintenance
    s = "4.6.1"
    dpti_all = Cmd(0x70, "DPTI_ALL", s, (_op(s),), needs="DPT")
    s = "4.6.2"
    dpti_pa = Cmd(0x73, "DPTI_PA", s, (
        _op(s), unplaced("Address", s), unplaced("SIZE", s), unplaced("Leaf", s)), needs="DPT")

    return (prefetch_config, prefetch_addr, cfgi_ste, cfgi_ste_range, cfgi_cd, cfgi_cd_all,
            cfgi_vms_pidm, nh_all, nh_asid, nh_va, nh_vaa, el3_all, el3_va, el2_all, el2_asid,
            el2_va, el2_vaa, s12_vmall, s2_ipa, nsnh_all, atc_inv, pri_resp, resume,
            stall_term, sync, s_el2_all, s_el2_asid, s_el2_va, s_el2_vaa, s_s12_vmall,
            s_s2_ipa, snh_all, dpti_all, dpti_pa)


COMMANDS: dict[int, Cmd] = {c.opcode: c for c in _cmds()}

# 4.1.1: opcodes 0x80-0x8F are IMPLEMENTATION DEFINED; every opcode not in COMMANDS and outside
# that range is Reserved (CERROR_ILL, 4.1.3).
IMPDEF_OPCODES = range(0x80, 0x90)


def defined_mask(op: int, features: frozenset[str]) -> int:
    """Bits of opcode `op` that placed, present fields cover given `features`."""
    m = 0
    for f in COMMANDS[op].fields:
        if f.placed:
            m |= f.live_mask(features)
    return m


def reserved_mask(op: int, features: frozenset[str]) -> int:
    """Bits no placed field covers given `features` (RES0), unplaced fields aside."""
    return ~defined_mask(op, features) & ((1 << NBITS) - 1)


def unplaced_present(op: int, features: frozenset[str]) -> list[str]:
    """Fields that exist given `features` but whose position this table lacks."""
    return [f.name for f in COMMANDS[op].fields if not f.placed and f.present(features)]


# -- reserved values ---------------------------------------------------------------------------
def _get(raw: int, f: Field) -> int:
    return (raw & f.mask) >> (f.lsb or 0)


@dataclass(frozen=True)
class ReservedValue:
    """A value of a field (or a combination) that the spec gives a fixed treatment.

    ``illegal`` True: CERROR_ILL required; False: the value must be accepted (the spec says
    what it is treated as); None: CERROR_ILL permitted but not required. ``example`` builds an
    entry of the opcode that has the value and nothing else set.
    """

    opcodes: tuple[int, ...]
    what: str
    section: str
    match: Callable[[int], bool]
    example: Callable[[int], int]
    illegal: bool | None
    needs: str | None = None  # the rule applies only with this feature
    without: str | None = None  # ... and only without this one

    def applies(self, op: int, features: frozenset[str]) -> bool:
        return (op in self.opcodes and (self.needs is None or self.needs in features)
                and (self.without is None or self.without not in features))


def _set(op: int, **values: int) -> int:
    raw = op
    for name, v in values.items():
        f = COMMANDS[op].field(name)
        raw |= v << (f.lsb or 0)
    return raw


def _is(name: str, value: int) -> Callable[[int], bool]:
    return lambda raw: _get(raw, COMMANDS[raw & 0xFF].field(name)) == value


def _range_reserved(raw: int) -> bool:
    c = COMMANDS[raw & 0xFF]
    tg, ttl, num, scale = (_get(raw, c.field(n)) for n in ("TG", "TTL", "NUM", "SCALE"))
    return tg != 0 and num == 0 and scale == 0 and ttl == 0


def _ttl_16k_l1(raw: int) -> bool:
    c = COMMANDS[raw & 0xFF]
    tg, ttl, num, scale = (_get(raw, c.field(n)) for n in ("TG", "TTL", "NUM", "SCALE"))
    return tg == 0b10 and ttl == 0b01 and num == 0 and scale == 0


def _with(name: str) -> tuple[int, ...]:
    return tuple(op for op, c in COMMANDS.items() if any(f.name == name for f in c.fields))


RESERVED_VALUES: tuple[ReservedValue, ...] = (
    # a command on the Non-secure queue with SSec == 1 is ILLEGAL whatever the SMMU supports
    ReservedValue(_with("SSec"), "SSec == 1 on the Non-secure queue", "4.1.6", _is("SSec", 1),
                  lambda op: _set(op, SSec=1), True),
    ReservedValue((0x46,), "CMD_SYNC CS == 0b11", "4.7.3", _is("CS", 0b11),
                  lambda op: _set(op, CS=0b11), True),
    ReservedValue((0x41,), "CMD_PRI_RESP Resp == 0b11", "4.5.2", _is("Resp", 0b11),
                  lambda op: _set(op, Resp=0b11), True),
    # reserved, but treated as 0b00 (Non-shareable): not a command error
    ReservedValue((0x46,), "CMD_SYNC MSH == 0b01", "4.7.3", _is("MSH", 0b01),
                  lambda op: _set(op, MSH=0b01), False),
    # with range invalidation, TG != 0 asks for a range or a TTL hint; asking for neither is
    # Reserved
    ReservedValue(_with("TG"), "TG != 0 with NUM == 0, SCALE == 0 and TTL == 0", "4.4.1.1",
                  _range_reserved, lambda op: _set(op, TG=0b01), True, needs="RIL"),
    # without DS, TTL 0b01 with the 16KB granule is treated as 0b00: the case above again
    ReservedValue(_with("TG"), "TG == 0b10 and TTL == 0b01 with NUM == 0 and SCALE == 0",
                  "4.4.1.1", _ttl_16k_l1, lambda op: _set(op, TG=0b10, TTL=0b01), True,
                  needs="RIL", without="DS"),
    ReservedValue((0x40,), "CMD_ATC_INV Size > 52", "4.5.1",
                  lambda raw: _get(raw, COMMANDS[0x40].field("Size")) > 52,
                  lambda op: _set(op, Size=53), None),
)


def illegal_values(raw: int, features: frozenset[str]) -> list[str]:
    """The RESERVED_VALUES rules that make `raw` ILLEGAL given `features`."""
    op = raw & 0xFF
    return [r.what for r in RESERVED_VALUES
            if r.illegal and r.applies(op, features) and r.match(raw)]


# -- this SMMU ---------------------------------------------------------------------------------
# Everything above is the spec. What follows is the project's reading of it for one parameter
# set (models/smmu/config.py SmmuConfig, duck-typed so that this module imports no model).

# RES0 parts that the command decoder keeps as fields in every parameter set, so that one layout
# serves them all: 4.1.5 lets an implementation ignore a reserved field instead of raising
# CERROR_ILL. Everything else that is RES0 for a parameter set is checked (CERROR_ILL).
DECODER_KEEPS = frozenset({
    "S2",  # TLBI_NH_* VMID without stage 2 (4.4.2 does not require the check)
    "VMID16", "ASID16",  # the upper halves of VMID and ASID
    "RIL",  # NUM, SCALE[24:20], TTL, TG without range invalidation
    "ADDR52",  # address bits [51:48], RES0 in SMMUv3.0 only
})


def hardware_features(cfg) -> frozenset[str]:
    """The FEATURES a parameter set has, on its (Non-secure) Command queue."""
    f = set()
    for key, name in (("S1", "S1P"), ("S2", "S2P"), ("HYP", "HYP"), ("ATS", "ATS"),
                      ("PRI", "PRI"), ("ASID16", "ASID16"), ("VMID16", "VMID16"),
                      ("RIL", "RIL"), ("MPAM", "MPAM"), ("DPT", "DPT"), ("DS", "DS")):
        if getattr(cfg, name, 0):
            f.add(key)
    if cfg.STALL_MODEL != 0b01:
        f.add("STALL")
    if cfg.AIDR >> 4 & 0xF == 0 and cfg.AIDR & 0xF >= 1:  # SMMUv3.1 or later
        f |= {"STRIDE", "ADDR52"}
    return frozenset(f)


def layout_features(cfg) -> frozenset[str]:
    """The features the decoder's layout assumes for a parameter set."""
    return hardware_features(cfg) | DECODER_KEEPS


def implemented(op: int, cfg) -> bool:
    """Whether a parameter set accepts opcode `op` (else it is ILLEGAL)."""
    c = COMMANDS.get(op)
    return c is not None and (c.needs is None or c.needs in hardware_features(cfg))
