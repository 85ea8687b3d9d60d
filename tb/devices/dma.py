"""A DMA engine on the translation port: descriptor-driven copy and fill between virtual
buffers, each access translated by the SMMU, data moved in the shared physical memory.

Transaction level and backend-agnostic (no cocotb, no pyuvm): the engine gets a
``translate`` coroutine function with the translation port's request fields (on the RTL a
sequence item on the translation agent, so the scoreboard checks every response; on the
functional model ``ModelPlatform.translate``). Data moves page by page: translate the source
chunk and read it at once, translate the destination chunk and write it at once, so nothing
runs between a translation and the memory access that uses it (a real TBU forwards the
transaction with its translation; a CMD_SYNC that completes later covers it).

No I/O page faults yet: a translation that aborts ends the descriptor with an error
completion naming the failing VA, the access and the fault; the pages before it were moved.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from models.arch.events import EventID
from models.arch.geometry import PAGE
from models.memory import PhysicalMemory
from models.smmu.port import Result

# translate(sid, ssv, ssid, va, rnw, ind, pnu) -> response dict (docs/port-contract.md fields)
Translate = Callable[[int, int, int, int, int, int, int], Awaitable[dict[str, int]]]


class Op(enum.Enum):
    COPY = "copy"
    FILL = "fill"


class Status(enum.Enum):
    OK = "ok"
    FAULT = "fault"


@dataclass
class Descriptor:
    """One job: ``length`` bytes from ``src`` to ``dst`` (COPY), or ``pattern`` repeated over
    ``dst`` (FILL). ``pasid`` None issues SSID-less traffic (the domain's CD 0)."""

    op: Op
    dst: int
    length: int
    pasid: int | None
    src: int = 0
    pattern: bytes = b"\0"

    @classmethod
    def copy(cls, src: int, dst: int, length: int, pasid: int | None) -> Descriptor:
        return cls(Op.COPY, dst, length, pasid, src=src)

    @classmethod
    def fill(cls, dst: int, length: int, pasid: int | None, pattern: bytes) -> Descriptor:
        return cls(Op.FILL, dst, length, pasid, pattern=pattern)


@dataclass
class Completion:
    """What the engine reports to its driver when a descriptor ends."""

    status: Status
    done: int                     # bytes written to the destination
    va: int | None = None         # the failing access, on a fault
    write: bool = False
    fault: int = 0                # the port's fault reason (an EventID value)
    result: int = Result.OK_TRANSLATED

    @property
    def fault_name(self) -> str:
        try:
            return EventID(self.fault).name
        except ValueError:
            return f"{self.fault:#x}"

    def __str__(self) -> str:
        if self.status is Status.OK:
            return f"ok ({self.done} bytes)"
        return (f"fault {self.fault_name} on {'write' if self.write else 'read'} at "
                f"{self.va:#x} after {self.done} bytes")


@dataclass(frozen=True)
class Access:
    """One memory access the engine made with a translation (what observers see)."""

    engine: str
    sid: int
    pasid: int | None
    va: int
    pa: int
    length: int
    write: bool


@dataclass
class DmaStats:
    descriptors: int = 0
    faults: int = 0
    translations: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    faults_by_type: dict[str, int] = field(default_factory=dict)


class DmaEngine:
    """One DMA channel with its own StreamID. ``observers`` get every :class:`Access` just
    before the data moves (the isolation checker subscribes)."""

    def __init__(self, name: str, sid: int, mem: PhysicalMemory, translate: Translate) -> None:
        self.name = name
        self.sid = sid
        self.mem = mem
        self._translate = translate
        self.observers: list[Callable[[Access], None]] = []
        self.stats = DmaStats()
        self.completions: list[Completion] = []

    async def _xlate(self, pasid: int | None, va: int, write: bool) -> dict[str, int]:
        self.stats.translations += 1
        return await self._translate(self.sid, int(pasid is not None), pasid or 0, va,
                                     int(not write), 0, 0)

    def _fault(self, done: int, va: int, write: bool, rsp: dict[str, int]) -> Completion:
        c = Completion(Status.FAULT, done, va=va, write=write, fault=rsp["fault"],
                       result=rsp["result"])
        self.stats.faults += 1
        self.stats.faults_by_type[c.fault_name] = self.stats.faults_by_type.get(c.fault_name,
                                                                                 0) + 1
        return c

    def _access(self, pasid: int | None, va: int, pa: int, n: int, write: bool) -> None:
        acc = Access(self.name, self.sid, pasid, va, pa, n, write)
        for obs in self.observers:
            obs(acc)

    async def run(self, d: Descriptor) -> Completion:
        """Execute one descriptor to completion (or to its first fault)."""
        self.stats.descriptors += 1
        done = 0
        while done < d.length:
            dst = d.dst + done
            n = min(d.length - done, PAGE - dst % PAGE)
            if d.op is Op.COPY:
                src = d.src + done
                n = min(n, PAGE - src % PAGE)
                rsp = await self._xlate(d.pasid, src, write=False)
                if rsp["result"] != Result.OK_TRANSLATED:
                    return self._complete(self._fault(done, src, False, rsp))
                self._access(d.pasid, src, rsp["pa"], n, False)
                data = self.mem.read(rsp["pa"], n, source=f"dma:{self.name}")
                self.stats.bytes_read += n
            else:
                k = len(d.pattern)
                data = bytes(d.pattern[(done + i) % k] for i in range(n))
            rsp = await self._xlate(d.pasid, dst, write=True)
            if rsp["result"] != Result.OK_TRANSLATED:
                return self._complete(self._fault(done, dst, True, rsp))
            self._access(d.pasid, dst, rsp["pa"], n, True)
            self.mem.write(rsp["pa"], data, source=f"dma:{self.name}")
            self.stats.bytes_written += n
            done += n
        return self._complete(Completion(Status.OK, done))

    def _complete(self, c: Completion) -> Completion:
        self.completions.append(c)
        return c
