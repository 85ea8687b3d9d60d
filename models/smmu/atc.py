"""ATC invalidation (reference fault-paths.md §3.2, smmuv3.md §5.5, SPEC §4.5.1, §3.9.1.4-5).

A consumed CMD_ATC_INV goes out to the endpoint as an invalidation request (``requests``,
``on_request``) tagged with an ITAG; the endpoint answers with a completion
(:meth:`AtcInvUnit.complete`), or with UR, which also completes it (the invalidation is then
not guaranteed, and that is the endpoint's problem). A CMD_SYNC completes only once every
ATC invalidation consumed before it has completed: until then the command queue stops at the
SYNC. If one never completes, the SMMU gives up after its timeout: CERROR_ATC_INV_SYNC with
CONS at the SYNC, and the invalidations it waited for are abandoned (a late completion is
ignored), so the SYNC completes when software acknowledges the error and it is retried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from models.arch.commands import CmdAtcInv

__all__ = ["ATC_INV_SIZE_ALL", "AtcInvRequest", "AtcInvUnit"]

ATC_INV_SIZE_ALL = 52  # CMD_ATC_INV.Size meaning the whole address space


@dataclass(frozen=True)
class AtcInvRequest:
    """An Invalidation Request message: the range is ``span`` bytes at ``addr`` (aligned
    down to the span), or everything."""

    itag: int
    sid: int
    ssv: int
    ssid: int
    glob: int
    addr: int
    size: int  # CMD_ATC_INV.Size: span 4 KiB * 2^Size

    @property
    def everything(self) -> bool:
        return self.size >= ATC_INV_SIZE_ALL

    @property
    def span(self) -> int:
        return 1 << 64 if self.everything else 4096 << self.size

    def covers(self, addr: int, length: int = 1) -> bool:
        """Whether the range overlaps [addr, addr + length)."""
        if self.everything:
            return True
        base = self.addr & ~(self.span - 1)
        return addr < base + self.span and base < addr + length

    def matches(self, sid: int, pasid: int | None) -> bool:
        """Whether an ATC entry of (sid, pasid) is in scope: SSV=0 reaches every entry of the
        stream, PASID-tagged or not; SSV=1 the entries of that PASID, and with Global every
        PASID-tagged entry (a superset of the global ones, which an ATC entry does not mark:
        completions here always have Global=0; invalidating more is always allowed)."""
        if sid != self.sid:
            return False
        return not self.ssv or pasid == self.ssid or (bool(self.glob) and pasid is not None)


class AtcInvUnit:
    def __init__(self) -> None:
        self.next_itag = 0
        self.outstanding: dict[int, AtcInvRequest] = {}
        self.requests: list[AtcInvRequest] = []
        self.on_request: Callable[[AtcInvRequest], None] | None = None
        self.stats = {"issued": 0, "completed": 0, "ur": 0, "abandoned": 0, "late": 0,
                      "timeouts": 0}

    def issue(self, cmd: CmdAtcInv) -> AtcInvRequest:
        req = AtcInvRequest(self.next_itag, cmd.StreamID, cmd.SSV,
                            cmd.SubstreamID if cmd.SSV else 0, cmd.Global,
                            cmd.Addr, min(cmd.Size, ATC_INV_SIZE_ALL))
        self.next_itag += 1
        self.outstanding[req.itag] = req
        self.requests.append(req)
        self.stats["issued"] += 1
        if self.on_request is not None:
            self.on_request(req)
        return req

    def complete(self, itag: int, *, ur: bool = False) -> bool:
        """An Invalidation Completion (or UR) for ``itag``; False if nothing waited for it."""
        if self.outstanding.pop(itag, None) is None:
            self.stats["late"] += 1
            return False
        self.stats["ur" if ur else "completed"] += 1
        return True

    def abandon(self) -> list[AtcInvRequest]:
        """The SYNC waiting for these timed out."""
        gone = list(self.outstanding.values())
        self.outstanding.clear()
        self.stats["abandoned"] += len(gone)
        self.stats["timeouts"] += 1
        return gone
