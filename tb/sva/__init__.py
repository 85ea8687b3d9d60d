"""The Linux SVA software stack, in Python and laid out like Linux's drivers/iommu/.

Nothing here imports cocotb, pyuvm or the rest of tb/: the stack reaches the hardware only
through :class:`~tb.sva.platform.Platform`, which the RTL and the functional model implement.

Map (module: the Linux file it mirrors):

    iommu.py            drivers/iommu/iommu.c, include/linux/iommu.h: the IOMMU core.
                        IommuOps (struct iommu_ops), DevIommu (struct dev_iommu: ops, priv,
                        sva_param, iopf_param), iommu_probe_device,
                        iommu_dev_{has,enable,disable}_feature
    iommu_sva.py        drivers/iommu/iommu-sva.c (v5 SVA series): io_mm (the mm's notifier),
                        bonds, PASIDs; iommu_sva_bind_device / unbind / get_pasid
    ioasid.py           drivers/iommu/ioasid.c: the system-wide PASID space
    iopgtable.py        drivers/iommu/io-pgtable-arm.c: page tables of DMA domains
    io_pgfault.py       drivers/iommu/io-pgfault.c and iommu-sva.c iommu_sva_handle_iopf: the
                        IOPF queue, fault groups, page responses (see below)
    arm/arm_smmu_v3/    drivers/iommu/arm/arm-smmu-v3/: the SMMUv3 driver
        arm_smmu_v3.py      arm-smmu-v3.c: arm_smmu_ops (ArmSmmuOps), arm_smmu_device_probe
        driver.py           arm-smmu-v3.h struct arm_smmu_device; probe/release_device
        device.py           arm-smmu-v3.c: hardware probe, bring-up, stream table, GERROR
        probe.py            arm-smmu-v3.c: arm_smmu_device_hw_probe (ID registers)
        master.py           arm-smmu-v3.h struct arm_smmu_master, the StreamID map
        domain.py           arm-smmu-v3.c: stage-1 DMA domains (arm_smmu_domain)
        cd.py               arm-smmu-v3.c: CD tables, arm_smmu_write_ctx_desc
        asid.py             arm-smmu-v3.c arm_smmu_asid_xa, -sva.c arm_smmu_share_asid
        cmdq.py, evtq.py    arm-smmu-v3.c: command queue, event queue reader
        fault.py            arm-smmu-v3.c: arm_smmu_evtq_thread, arm_smmu_handle_evt,
                            arm_smmu_page_response; -sva.c: enabling IOPF on a master
        pri.py, priq_consumer.py  v5 arm-smmu-v3.c: arm_smmu_priq_thread, arm_smmu_handle_ppr,
                            CMD_PRI_RESP, arm_smmu_enable_pri; the PRI queue reader
        tlb.py              arm-smmu-v3.c: arm_smmu_tlb_inv_*, arm_smmu_atc_inv_*
        arm_smmu_v3_sva.py  arm-smmu-v3-sva.c: SVA enable, shared CDs, io_mm ops, sva_bind
    pci.py              drivers/pci/ats.c: a function's ATS, PRI and PASID capabilities and
                        pci_enable_ats/pri/pasid and friends
    platform.py         (model) MMIO, DMA memory and time: what readl/writel and
                        dma_alloc_coherent are to Linux
    blocking.py         (model) running the driver's coroutines from synchronous mmu
                        notifier callbacks
    system.py           (model) a whole system: an SMMU and its driver, CPUs, processes

Layering, with no import circle: platform, blocking, ioasid, iopgtable and iommu import
nothing of the stack; iommu_sva imports the core. The driver imports the core and iommu_sva,
never the reverse: at probe it registers its IommuOps in the master's DevIommu, and the core
reaches it only through ``dev.iommu.ops``. Inside the driver, arm_smmu_v3.py sits on top: its
ops table reaches the SVA file and the domains, which import driver.py.

I/O page faults: io_pgfault.py (after io-pgfault.c) holds the IOPF queue, page-request groups
and page responses; it imports nothing of the stack, and iommu_sva imports it. It hooks in
where Linux's does:
- iommu_sva supplies the handler the queue runs each fault group through (IommuSva.iopf_handler:
  iommu_sva_handle_iopf, handle_mm_fault on the mm of the fault's PASID), and unbind tears the
  CD down, then flushes the device's faults (IommuSva.iopf_queue_flush_dev), then frees the
  PASID;
- the SMMUv3 driver allocates a queue when the SMMU can stall or has PRI, adds a
  stall-enabled master, or a PCIe function with PRI (PRI enabled at the function), to it
  when SVA is enabled on it (DevIommu.iopf_param); its event thread reports stall records
  (arm_smmu_v3/fault.py) and its PRI thread page requests (arm_smmu_v3/pri.py);
- responses go back to the driver through IommuOps.page_response (CMD_RESUME for a stall,
  CMD_PRI_RESP for a page request group).
``without_iopf`` (DevIommu.sva_without_iopf) remains for devices that cannot fault.
"""
