"""A DMA engine on the translation port: descriptor-driven copy and fill between virtual
buffers, each access translated by the SMMU, data moved in the shared physical memory.

Transaction level and backend-agnostic (no cocotb, no pyuvm): the engine gets a
``translate`` coroutine function with the translation port's request fields (on the RTL a
sequence item on the translation agent, so the scoreboard checks every response; on the
functional model ``ModelPlatform.translate``). Data moves burst by burst (a page at most,
never across a 4 KiB boundary): translate the source burst and read it at once, translate
the destination burst and write it at once, so nothing runs between a translation and the
memory access that uses it (a real TBU forwards the transaction with its translation; a
CMD_SYNC that completes later covers it).

A transaction the SMMU stalls simply waits for its response (the I/O page fault is the
host's business); a translation that aborts ends the descriptor with an error completion
naming the failing VA, the access and the fault; the bursts before it were moved. The loop
is :class:`DescriptorRunner`'s, shared with the PCIe endpoint (tb/devices/pcie_ep.py).
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


class DescriptorRunner:
    """What every DMA-capable device here shares: descriptors run burst by burst, each access
    translated by the subclass's :meth:`_pa` and used at once (no await between the
    translation and the memory access), ``observers`` getting every :class:`Access` just
    before the data moves (the isolation checker subscribes)."""

    SOURCE = "dma"  # the memory log's source tag: "<SOURCE>:<name>"
    # The most bytes one access moves with one translation. Never more than a page: an AXI
    # burst does not cross a 4 KiB boundary (AMBA AXI A3.4.1), so neither does a TBU's
    # translation of it.
    burst: int = PAGE
    name: str
    sid: int
    mem: PhysicalMemory
    observers: list[Callable[[Access], None]]
    stats: DmaStats
    completions: list[Completion]

    async def _pa(self, pasid: int | None, va: int, write: bool, done: int) -> int | Completion:
        """The PA of ``va`` for this access, or the FAULT completion that ends the
        descriptor after ``done`` bytes."""
        raise NotImplementedError

    def _access(self, pasid: int | None, va: int, pa: int, n: int, write: bool) -> None:
        acc = Access(self.name, self.sid, pasid, va, pa, n, write)
        for obs in self.observers:
            obs(acc)

    async def run(self, d: Descriptor) -> Completion:
        """Execute one descriptor to completion (or to its first fault)."""
        self.stats.descriptors += 1
        source = f"{self.SOURCE}:{self.name}"
        done = 0
        while done < d.length:
            dst = d.dst + done
            n = min(d.length - done, self.burst, PAGE - dst % PAGE)
            if d.op is Op.COPY:
                src = d.src + done
                n = min(n, PAGE - src % PAGE)
                pa = await self._pa(d.pasid, src, False, done)
                if isinstance(pa, Completion):
                    return self._complete(pa)
                self._access(d.pasid, src, pa, n, False)
                data = self.mem.read(pa, n, source=source)
                self.stats.bytes_read += n
            else:
                k = len(d.pattern)
                off = done % k
                data = (d.pattern * ((off + n) // k + 1))[off:off + n]
            pa = await self._pa(d.pasid, dst, True, done)
            if isinstance(pa, Completion):
                return self._complete(pa)
            self._access(d.pasid, dst, pa, n, True)
            self.mem.write(pa, data, source=source)
            self.stats.bytes_written += n
            done += n
        return self._complete(Completion(Status.OK, done))

    def _complete(self, c: Completion) -> Completion:
        self.completions.append(c)
        return c


class DmaEngine(DescriptorRunner):
    """One DMA channel with its own StreamID on the translation port."""

    def __init__(self, name: str, sid: int, mem: PhysicalMemory, translate: Translate, *,
                 burst: int = PAGE) -> None:
        if not 0 < burst <= PAGE:
            raise ValueError(f"burst {burst} bytes: a DMA access moves 1 to {PAGE} bytes")
        self.burst = burst
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

    async def _pa(self, pasid: int | None, va: int, write: bool, done: int) -> int | Completion:
        rsp = await self._xlate(pasid, va, write)
        if rsp["result"] != Result.OK_TRANSLATED:
            return self._fault(done, va, write, rsp)
        return rsp["pa"]
