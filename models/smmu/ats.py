"""ATS Translation Requests and their completions (reference fault-paths.md §3.1, SPEC
§3.9.1.2, §13.7).

A PCIe endpoint asks for the translation of one page and caches the answer in its ATC; the
completion says what the endpoint may do there:

- UR (Unsupported Request) with F_BAD_ATS_TREQ where ATS is not allowed: SMMUEN=0, a stage-1
  bypass STE (Config 0b100), or an effective STE.EATS of 0b00; UR with no event for an STE
  with Config 0b000 (abort);
- CA (Completer Abort) for a configuration error: StreamID out of range, STE or CD fetch
  abort, ILLEGAL STE or CD, a bad or disabled substream, a walk abort. No event: CR2.
  REC_CFG_ATS does not exist on this SMMU (IDR0.ATSRECERR=0);
- Success with R=W=0 for F_TRANSLATION, F_ACCESS and F_ADDR_SIZE, with no event: CD.A, R and
  S do not apply, and an ATS request never stalls;
- Success with the permissions the leaf grants for the request's privilege (W only where the
  request did not say No-Write, Exe only where asked); a page the request may not even read
  gives R=W=0;
- Success with identity and R=W=1 where S1DSS bypasses stage 1 for a request without a
  PASID.

Every completion covers the STU, this SMMU's smallest granule (4 KiB), and has Global=0
(required for requests with a PASID; for the others it only forgoes sharing the entry
across PASIDs). Priv echoes the request. Permissions are those of a data read, or
of an instruction fetch where STE.INSTCFG forces one: then a page that is readable but not
executable gives no access, and an execute-only page grants X alone (where asked), which an
endpoint cannot use (PCIe's Exe implies R): no access in effect.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from models.arch.events import Event, EventID
from models.smmu.port import PERM_R, PERM_W, PERM_X, Result

__all__ = ["STU", "AtsCompletion", "AtsReq", "AtsStatus", "completion_from_port"]

STU = 4096  # Smallest Translation Unit: the smallest granule (IDR5.GRAN4K only)


class AtsStatus(enum.IntEnum):
    """Completion Status of the Translation Completion."""

    SUCCESS = 0b000
    UR = 0b001
    CA = 0b100


@dataclass(frozen=True)
class AtsReq:
    """A Translation Request: StreamID (the Requester ID), the PASID prefix (SSV, SSID) with
    its Privileged and Execute bits, the untranslated address and No-Write."""

    sid: int
    addr: int
    ssv: int = 0
    ssid: int = 0
    priv: int = 0
    exe: int = 0
    nw: int = 0


@dataclass(frozen=True)
class AtsCompletion:
    status: AtsStatus
    addr: int = 0  # translated address of the STU-sized page
    size: int = STU
    r: int = 0
    w: int = 0
    x: int = 0
    priv: int = 0
    glob: int = 0
    event: Event | None = None  # the record the request wrote (F_BAD_ATS_TREQ only)

    @property
    def ok(self) -> bool:
        return self.status == AtsStatus.SUCCESS

    @property
    def access(self) -> bool:
        """Whether the endpoint may use the translation at all."""
        return self.ok and bool(self.r or self.w)


def completion_from_port(rsp: dict[str, int], priv: int) -> AtsCompletion:
    """The Translation Completion an RTL response to an ATS request (``t_req_ats=1``) encodes
    (docs/port-contract.md, "ATS Translation Requests"): OK_TRANSLATED or OK_BYPASS is Success
    with ``pa`` and ``perm`` (R=W=0 where a translation-class fault is named in ``fault``),
    ABORT is UR when ``fault`` is 0 or F_BAD_ATS_TREQ and CA otherwise. The record is not
    on the port: ``event`` stays None."""
    result = rsp["result"]
    if result in (Result.OK_TRANSLATED, Result.OK_BYPASS):
        perm = rsp["perm"]
        return AtsCompletion(AtsStatus.SUCCESS, addr=rsp["pa"], r=int(bool(perm & PERM_R)),
                             w=int(bool(perm & PERM_W)), x=int(bool(perm & PERM_X)),
                             priv=priv)
    if result == Result.ABORT:
        ur = rsp["fault"] in (0, EventID.F_BAD_ATS_TREQ)
        return AtsCompletion(AtsStatus.UR if ur else AtsStatus.CA, priv=priv)
    raise ValueError(f"an ATS response with result {Result(result).name}: the SMMU answers "
                     "ATS requests only with OK, BYPASS or ABORT")

