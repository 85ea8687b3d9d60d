"""The translation port of docs/port-contract.md (TBU side): request, response, result.

One definition for every user of the port: the reference model answers a :class:`TransReq`
with a :class:`TransResp`; the testbench's agents, scoreboard, coverage, devices, replay and
directed tests read the RTL's ``t_rsp_*`` values (a dict keyed by :data:`RESP_FIELDS`, as the
BFMs return them) with :class:`Result` and the ``PERM_*`` bits. The RTL encodes
``t_rsp_result`` as :class:`Result` (rtl/smmu_xcalc.sv ``RES_*``) and ``t_rsp_perm`` as
{X, W, R}.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

__all__ = ["PERM_R", "PERM_W", "PERM_X", "REQ_FIELDS", "RESP_FIELDS", "Result", "TransReq",
           "TransResp", "perm_str", "result_name"]


class Result(enum.IntEnum):
    """t_rsp_result."""

    OK_TRANSLATED = 0
    OK_BYPASS = 1
    ABORT = 2
    RAZ_WI = 3

    @property
    def ok(self) -> bool:
        """The transaction goes ahead with ``pa`` (translated or bypassed)."""
        return self in (Result.OK_TRANSLATED, Result.OK_BYPASS)


def result_name(value: int) -> str:
    """The name of a t_rsp_result value; the number itself if it is not one."""
    return Result(value).name if value in Result._value2member_map_ else str(value)


PERM_R, PERM_W, PERM_X = 1, 2, 4  # t_rsp_perm = {X, W, R}


def perm_str(perm: int) -> str:
    """t_rsp_perm as "rwx" with "-" for a permission not granted."""
    return "".join(c if perm & bit else "-" for c, bit in (("r", PERM_R), ("w", PERM_W),
                                                          ("x", PERM_X)))


@dataclass(frozen=True)
class TransReq:
    """One translation request as the TBU port presents it (t_req_*)."""

    sid: int
    ssv: int = 0
    ssid: int = 0
    addr: int = 0
    rnw: int = 1
    ind: int = 0  # with ats: the request's Execute bit
    pnu: int = 0  # with ats: its Privileged bit
    # ATS (docs/port-contract.md): a Translation Request (its No-Write bit), or an
    # ATS-Translated transaction at PA ``addr``; ats wins where both are set
    ats: int = 0
    nw: int = 0
    at: int = 0


@dataclass(frozen=True)
class TransResp:
    """One response (t_rsp_*)."""

    result: Result
    pa: int = 0
    perm: int = 0
    attr: int = 0
    sh: int = 0
    fault: int = 0  # EventID that terminated the transaction, recorded or not; 0 if none

    def fields(self) -> dict[str, int]:
        """The response as t_rsp_* values, keyed as a BFM returns them."""
        return {k: int(getattr(self, k)) for k in RESP_FIELDS}


REQ_FIELDS = tuple(f.name for f in dataclasses.fields(TransReq))  # t_req_<name>, without tag
RESP_FIELDS = tuple(f.name for f in dataclasses.fields(TransResp))  # t_rsp_<name>, without tag
