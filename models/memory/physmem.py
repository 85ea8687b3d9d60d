"""Sparse, thread-safe physical memory shared by every model and by the RTL's AXI memory port.

One :class:`PhysicalMemory` object is *the* system memory: the reference SMMU model, the CPU
page-table builder, the software stack and the cocotb AXI slave all read and write the same
object, so a descriptor written by software is exactly what the RTL fetches.

Storage is a dict of 4 KiB pages created on first write; anything never written reads as zero,
which matches what tests expect of freshly "allocated" tables without paying for them.

All accesses, including the backdoor, hold one lock. That makes :meth:`PhysicalMemory.cas64`
atomic against every other access (the SMMU's hardware table updates race with CPU software in
the SVA tests) and keeps plain-threaded Python users safe; cocotb users pay almost nothing.

Faults model bus errors of the interconnect: an access that touches a fault range raises
:class:`ExternalAbort` and has no side effect at all, so a test can check that a faulting write
did not half-update a descriptor. The AXI slave asks :meth:`PhysicalMemory.fault_at` instead
and answers SLVERR/DECERR itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from models.arch.geometry import GRANULE_SHIFT

__all__ = [
    "PAGE_SIZE",
    "Access",
    "ExternalAbort",
    "FaultKind",
    "FaultOn",
    "FaultRange",
    "PhysicalMemory",
]

PAGE_SHIFT = GRANULE_SHIFT  # a frame is one translation granule
PAGE_SIZE = 1 << PAGE_SHIFT
_PAGE_MASK = PAGE_SIZE - 1

FaultKind = Literal["slverr", "decerr"]
FaultOn = Literal["rw", "r", "w"]
_KINDS: frozenset[str] = frozenset({"slverr", "decerr"})
_DIRECTIONS: frozenset[str] = frozenset({"rw", "r", "w"})

BytesLike = bytes | bytearray | memoryview


class ExternalAbort(Exception):
    """A bus error on a memory access (what AXI reports as SLVERR or DECERR)."""

    def __init__(self, addr: int, kind: FaultKind, is_write: bool) -> None:
        self.addr = addr
        self.kind = kind
        self.is_write = is_write
        direction = "write" if is_write else "read"
        super().__init__(f"external abort ({kind}) on {direction} at {addr:#x}")

    def __reduce__(self):  # keep it picklable despite the custom __init__
        return (type(self), (self.addr, self.kind, self.is_write))


@dataclass(frozen=True, eq=False)
class FaultRange:
    """An injected fault; also the handle returned by :meth:`PhysicalMemory.add_fault`.

    Compared by identity so two identical ranges can be added and removed independently.
    """

    start: int
    end: int  # exclusive
    kind: FaultKind
    on: FaultOn

    def matches(self, addr: int, length: int, is_write: bool) -> bool:
        if length <= 0 or ("w" if is_write else "r") not in self.on:
            return False
        return self.start < addr + length and addr < self.end


@dataclass(frozen=True)
class Access:
    """One logged access.

    ``data`` is what was read or written; for a faulted read it is empty (nothing was read), for
    a faulted write it is what the caller tried to write. For ``"cas"`` it is the old value
    (8 bytes little-endian, empty if faulted) and ``swapped`` tells whether ``new`` was stored.
    """

    op: Literal["r", "w", "cas"]
    addr: int
    size: int
    data: bytes
    source: str | None = None
    fault: FaultKind | None = None  # fault kind when the access raised ExternalAbort
    swapped: bool | None = None  # cas only

    @property
    def faulted(self) -> bool:
        return self.fault is not None


class PhysicalMemory:
    """Byte-addressable little-endian memory of ``2**pa_bits`` bytes."""

    def __init__(self, pa_bits: int = 48) -> None:
        if not 1 <= pa_bits <= 64:
            raise ValueError(f"pa_bits must be in 1..64, got {pa_bits}")
        self.pa_bits = pa_bits
        self.size = 1 << pa_bits
        self._pages: dict[int, bytearray] = {}
        self._faults: list[FaultRange] = []
        # Change tracking for readers that memoize what they read (the SMMU model): stores per
        # page, and an epoch for what changes everything (clear, any fault range change).
        self._versions: dict[int, int] = {}
        self._epoch = 0
        self._stores = 0  # every store so far: a memo of any read compares it (``stamp``)
        self._lock = threading.Lock()
        self.log: list[Access] | None = None
        self._word_watchers: list[Callable[[int, int, int, int, str | None, bool], None]] = []

    # -- housekeeping -----------------------------------------------------------------------
    @property
    def pages_allocated(self) -> int:
        return len(self._pages)

    def clear(self) -> None:
        """Forget all contents (everything reads as zero again); faults and log are kept."""
        with self._lock:
            self._pages.clear()
            self._epoch += 1

    def enable_log(self) -> None:
        """Start logging; an already running log keeps its entries."""
        with self._lock:
            if self.log is None:
                self.log = []

    def disable_log(self) -> None:
        with self._lock:
            self.log = None

    def take_log(self) -> list[Access]:
        """Entries logged so far (empty if logging is off); the log is left empty but enabled."""
        with self._lock:
            if self.log is None:
                return []
            out, self.log = self.log, []
            return out

    # -- fault injection --------------------------------------------------------------------
    def add_fault(self, start: int, end: int, kind: FaultKind = "slverr",
                  on: FaultOn = "rw") -> FaultRange:
        """Make accesses touching [start, end) in direction ``on`` abort with ``kind``."""
        if kind not in _KINDS:
            raise ValueError(f"fault kind must be one of {sorted(_KINDS)}, got {kind!r}")
        if on not in _DIRECTIONS:
            raise ValueError(f"fault direction must be one of {sorted(_DIRECTIONS)}, got {on!r}")
        if not 0 <= start < end <= self.size:
            raise ValueError(
                f"fault range [{start:#x}, {end:#x}) is empty or outside the "
                f"{self.pa_bits}-bit physical address space"
            )
        fault = FaultRange(start, end, kind, on)
        with self._lock:
            self._faults.append(fault)
            self._epoch += 1
        return fault

    def remove_fault(self, handle: FaultRange) -> None:
        with self._lock:
            for i, f in enumerate(self._faults):
                if f is handle:
                    del self._faults[i]
                    self._epoch += 1
                    return
        raise ValueError(f"fault {handle!r} is not installed")

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._epoch += 1

    @property
    def faults(self) -> tuple[FaultRange, ...]:
        with self._lock:
            return tuple(self._faults)

    def fault_at(self, addr: int, length: int, is_write: bool) -> FaultKind | None:
        """Kind of fault an access would hit, or None; never raises for a fault."""
        self._check_range(addr, length)
        with self._lock:
            hit = self._find_fault(addr, length, is_write)
        return None if hit is None else hit[1]

    # -- change tracking --------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        """Changes with clear() and with every fault range added or removed."""
        return self._epoch

    @property
    def stamp(self) -> tuple[int, int]:
        """Changes whenever any read could see other bytes or faults than before (a store
        anywhere, a fault range added or removed, a clear): for memos too coarse for
        :meth:`page_versions`."""
        return self._epoch, self._stores

    def page_versions(self, addr: int, length: int) -> tuple[tuple[int, int], ...]:
        """(page, stores into it so far) for each page of a range: what a memo of a read
        of that range compares with :meth:`unchanged`, together with :attr:`epoch`."""
        first, last = addr >> PAGE_SHIFT, (addr + max(length, 1) - 1) >> PAGE_SHIFT
        if first == last:  # the usual case; one dict lookup needs no lock
            return ((first, self._versions.get(first, 0)),)
        with self._lock:
            return tuple((pn, self._versions.get(pn, 0)) for pn in range(first, last + 1))

    def unchanged(self, epoch: int, pages: Iterable[tuple[int, int]]) -> bool:
        """Whether reads recorded at ``epoch`` with ``pages`` (:meth:`page_versions`) would
        still see the same bytes and the same faults."""
        get = self._versions.get
        return epoch == self._epoch and all(get(pn, 0) == v for pn, v in pages)

    # -- byte access ------------------------------------------------------------------------
    def read(self, addr: int, length: int, *, source: str | None = None) -> bytes:
        self._check_range(addr, length)
        with self._lock:
            # (the miss is the common case: it is decided without building a record)
            if self._find_fault(addr, length, False) is not None:
                self._abort_if_faulted("r", addr, length, b"", source, is_write=False)
            data = self._load(addr, length)
            if self.log is not None:
                self.log.append(Access("r", addr, length, data, source))
            return data

    def write(self, addr: int, data: BytesLike, *, source: str | None = None) -> None:
        data = bytes(data)
        n = len(data)
        self._check_range(addr, n)
        with self._lock:
            if self._faults:  # (the miss is the common case, as for read)
                self._abort_if_faulted("w", addr, n, data, source, is_write=True)
            if self._word_watchers and n == 8 and not addr & 7:
                self._store_watched(addr, data, source, False)
            else:
                self._store(addr, data)
            if self.log is not None:  # (a record is built only for a log)
                self.log.append(Access("w", addr, n, data, source))

    def watch_words(self, fn: Callable[[int, int, int, int, str | None, bool], None]) -> None:
        """Call ``fn(stores, addr, old, new, source, cas)`` after every aligned 8-byte store
        made by :meth:`write` or a successful :meth:`cas64` (``cas``; page-table descriptors
        are stored so), ``stores`` being the store count of :attr:`stamp` after it. Called with
        the lock held, possibly from another thread: ``fn`` must not call back into the
        memory. :meth:`poke` is not reported."""
        self._word_watchers.append(fn)

    def _store_watched(self, addr: int, data: bytes, source: str | None, cas: bool) -> None:
        old = int.from_bytes(self._load(addr, 8), "little")
        self._store(addr, data)
        new = int.from_bytes(data, "little")
        for fn in self._word_watchers:
            fn(self._stores, addr, old, new, source, cas)

    # -- word access (little-endian, naturally aligned) -------------------------------------
    def read8(self, addr: int, *, source: str | None = None) -> int:
        return self.read(addr, 1, source=source)[0]

    def write8(self, addr: int, value: int, *, source: str | None = None) -> None:
        self.write(addr, _encode(value, 1), source=source)

    def read32(self, addr: int, *, source: str | None = None) -> int:
        self._check_aligned(addr, 4)
        return int.from_bytes(self.read(addr, 4, source=source), "little")

    def write32(self, addr: int, value: int, *, source: str | None = None) -> None:
        self._check_aligned(addr, 4)
        self.write(addr, _encode(value, 4), source=source)

    def read64(self, addr: int, *, source: str | None = None) -> int:
        self._check_aligned(addr, 8)
        return int.from_bytes(self.read(addr, 8, source=source), "little")

    def write64(self, addr: int, value: int, *, source: str | None = None) -> None:
        self._check_aligned(addr, 8)
        self.write(addr, _encode(value, 8), source=source)

    def cas64(self, addr: int, expected: int, new: int, *, source: str | None = None) -> int:
        """Atomically store ``new`` if the word equals ``expected``; returns the old word.

        A CAS is a read and a write: it aborts if a fault matches either direction, reporting
        a read-direction fault in preference (the read happens first on a real bus).
        """
        self._check_range(addr, 8)
        self._check_aligned(addr, 8)
        new_bytes = _encode(new, 8)
        _encode(expected, 8)  # reject out-of-range expected values rather than never matching
        with self._lock:
            for is_write in (False, True):
                self._abort_if_faulted("cas", addr, 8, b"", source, is_write=is_write)
            old_bytes = self._load(addr, 8)
            old = int.from_bytes(old_bytes, "little")
            swapped = old == expected
            if swapped:
                if self._word_watchers:
                    self._store_watched(addr, new_bytes, source, True)
                else:
                    self._store(addr, new_bytes)
            self._record(Access("cas", addr, 8, old_bytes, source, swapped=swapped))
            return old

    # -- backdoor ---------------------------------------------------------------------------
    def peek(self, addr: int, length: int) -> bytes:
        """Read ignoring faults and without logging."""
        self._check_range(addr, length)
        with self._lock:
            return self._load(addr, length)

    def poke(self, addr: int, data: BytesLike) -> None:
        """Write ignoring faults and without logging."""
        data = bytes(data)
        self._check_range(addr, len(data))
        with self._lock:
            self._store(addr, data)

    # -- internals (callers hold the lock where it matters) ---------------------------------
    def _check_range(self, addr: int, length: int) -> None:
        if length < 0:
            raise ValueError(f"negative length {length} at address {addr:#x}")
        if addr < 0 or addr >= self.size or addr + length > self.size:
            raise ValueError(
                f"access of {length} byte(s) at address {addr:#x} is outside the "
                f"{self.pa_bits}-bit physical address space"
            )

    @staticmethod
    def _check_aligned(addr: int, size: int) -> None:
        if addr % size:
            raise ValueError(f"{8 * size}-bit access at address {addr:#x} is misaligned")

    def _find_fault(self, addr: int, length: int,
                    is_write: bool) -> tuple[int, FaultKind] | None:
        """(first faulting byte, kind); the lowest faulting byte wins, then the oldest fault."""
        best: tuple[int, FaultKind] | None = None
        end, direction = addr + length, "w" if is_write else "r"
        for f in self._faults:
            # FaultRange.matches, inlined: every access of the model and the bus asks
            if length > 0 and f.start < end and addr < f.end and direction in f.on:
                first = max(addr, f.start)
                if best is None or first < best[0]:
                    best = (first, f.kind)
        return best

    def _abort_if_faulted(self, op: Literal["r", "w", "cas"], addr: int, length: int,
                          data: bytes, source: str | None, *, is_write: bool) -> None:
        hit = self._find_fault(addr, length, is_write)
        if hit is None:
            return
        first, kind = hit
        self._record(Access(op, addr, length, data, source, fault=kind,
                            swapped=False if op == "cas" else None))
        raise ExternalAbort(first, kind, is_write)

    def _record(self, access: Access) -> None:
        if self.log is not None:
            self.log.append(access)

    def _chunks(self, addr: int, length: int) -> Iterable[tuple[int, int, int]]:
        """(page number, offset in page, byte count) pieces of a range, in address order."""
        end = addr + length
        while addr < end:
            off = addr & _PAGE_MASK
            n = min(PAGE_SIZE - off, end - addr)
            yield addr >> PAGE_SHIFT, off, n
            addr += n

    def _load(self, addr: int, length: int) -> bytes:
        off = addr & _PAGE_MASK
        if off + length <= PAGE_SIZE:  # within one page: most accesses, and cheaper
            page = self._pages.get(addr >> PAGE_SHIFT)
            return bytes(length) if page is None else bytes(page[off:off + length])
        out = bytearray(length)
        pos = 0
        for pn, off, n in self._chunks(addr, length):
            page = self._pages.get(pn)
            if page is not None:
                out[pos:pos + n] = page[off:off + n]
            pos += n
        return bytes(out)

    def _store(self, addr: int, data: bytes) -> None:
        self._stores += 1
        off = addr & _PAGE_MASK
        if 0 < len(data) <= PAGE_SIZE - off:  # within one page: most stores, and cheaper
            pn = addr >> PAGE_SHIFT
            self._versions[pn] = self._versions.get(pn, 0) + 1
            page = self._pages.get(pn)
            if page is None:
                page = self._pages[pn] = bytearray(PAGE_SIZE)
            page[off:off + len(data)] = data
            return
        pos = 0
        for pn, off, n in self._chunks(addr, len(data)):
            self._versions[pn] = self._versions.get(pn, 0) + 1
            page = self._pages.get(pn)
            if page is None:
                page = self._pages[pn] = bytearray(PAGE_SIZE)
            page[off:off + n] = data[pos:pos + n]
            pos += n


def _encode(value: int, size: int) -> bytes:
    if not isinstance(value, int):
        raise TypeError(f"memory word value must be an int, got {type(value).__name__}")
    if not 0 <= value < 1 << (8 * size):
        raise ValueError(f"value {value:#x} does not fit in {8 * size} bits")
    return int(value).to_bytes(size, "little")
