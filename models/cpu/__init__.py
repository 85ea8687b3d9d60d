"""The CPU side of a process: page tables, VMAs, ASIDs, and the CPU's own configuration.

- :mod:`.mm`: :class:`MM`, one address space with demand paging and Linux arm64 PTEs.
- :mod:`.pgprot`: the PTE/MAIR conventions those tables follow.
- :mod:`.asid`: the arm64 ASID allocator with SVA pinning.
- :mod:`.notifier`: MMU notifiers (secondary-MMU invalidation and release).
- :mod:`.tlbi`: the broadcast TLBIs the kernel issues, as recorded in ``MM.tlbi_log``.
"""

from .asid import AsidAllocator
from .features import CpuFeatures
from .mm import MM, VMA, FaultResult, MMContext, SegmentationFault
from .notifier import (
    MMUNotifier,
    MMUNotifierOps,
    mmu_notifier_get,
    mmu_notifier_put,
    mmu_notifier_register,
    mmu_notifier_synchronize,
    mmu_notifier_unregister,
)
from .pgprot import MAIR_EL1, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE
from .tlbi import Tlbi, TlbiOp

__all__ = [
    "MM", "VMA", "FaultResult", "MMContext", "SegmentationFault",
    "AsidAllocator", "CpuFeatures",
    "MMUNotifier", "MMUNotifierOps", "mmu_notifier_get", "mmu_notifier_put",
    "mmu_notifier_register", "mmu_notifier_synchronize", "mmu_notifier_unregister",
    "MAIR_EL1", "PROT_EXEC", "PROT_NONE", "PROT_READ", "PROT_WRITE",
    "Tlbi", "TlbiOp",
]
