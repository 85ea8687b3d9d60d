// RTL sources in compile order: packages first, then modules. Paths are relative to the
// repository root. Used by `make lint` (verilator -f, iverilog -c) and tb/cli/runner.py.
rtl/smmu_arch_pkg.sv
rtl/smmu_types_pkg.sv
rtl/smmu_axil_slave.sv
rtl/smmu_cfg_cache.sv
rtl/smmu_cmdq.sv
rtl/smmu_dvm.sv
rtl/smmu_outq_ptr.sv
rtl/smmu_evtq.sv
rtl/smmu_priq.sv
rtl/smmu_wr_arb.sv
rtl/smmu_iotlb.sv
rtl/smmu_rd_arb.sv
rtl/smmu_regs.sv
rtl/smmu_stall.sv
rtl/smmu_top.sv
rtl/smmu_walk_level.sv
rtl/smmu_walk_cache.sv
rtl/smmu_walker.sv
rtl/smmu_xcalc.sv
rtl/smmu_xlate.sv
