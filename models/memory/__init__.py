"""Simulator-free physical memory shared by the models, the software stack and the AXI slave."""

from .alloc import FrameAllocator
from .physmem import (
    PAGE_SIZE,
    Access,
    ExternalAbort,
    FaultKind,
    FaultOn,
    FaultRange,
    PhysicalMemory,
)

__all__ = [
    "PAGE_SIZE",
    "Access",
    "ExternalAbort",
    "FaultKind",
    "FaultOn",
    "FaultRange",
    "FrameAllocator",
    "PhysicalMemory",
]
