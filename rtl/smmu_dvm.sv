// DVM receiver (BTM=1): the CPU's broadcast TLB invalidations, one per dvm_valid/dvm_ready
// handshake, and the DVM sync that completes them (section 3.17; reference smmuv3.md §8.6).
//
// Operations (dvm_op, DVM_* below), EL1&0 stage 1 forms, the ASID in dvm_asid and VA[55:12]
// in dvm_va:
//   VAE1IS   TLB entries covering the VA with the ASID or global, and walk-cache entries
//   VALE1IS  the same, last level only (the walk cache stays)
//   ASIDE1IS the non-global TLB entries of the ASID, and its walk-cache entries
//   VMALLE1IS every TLB and walk-cache entry
//   SYNC     taken (dvm_ready) only once no translation that may use an entry an earlier
//            operation invalidated is still in flight: the DVM sync's completion
//   5..7     reserved: treated as VMALLE1IS (invalidating more is always allowed)
// Broadcast invalidations by ASID or VA reach only TLB entries made through a CD with ASET=0
// (shared with the CPU, CD.ASET); VMALLE1IS reaches every entry (§5.4 CD.ASET). The walk
// cache keeps no ASET and drops what matches either way (evicting more is always allowed).
//
// With CR2.PTM=1 (the SMMU may ignore broadcast maintenance) every operation is taken and
// ignored, and a SYNC completes at once. An EL2&0 form (dvm_e2h: from a kernel at EL2 with
// VHE) targets EL2-E2H entries, which this SMMU never makes: taken and ignored.
//
// Per cycle: an invalidation is taken when the command queue issues none in that cycle (the
// queue has the shared invalidation bus first) and drives inv_valid/inv combinationally in
// that cycle, as the command queue does; a SYNC is taken when neither an invalidation of the
// previous cycle nor a stale engine or response (`busy`, as CMD_SYNC waits for) remains.
`default_nettype none

module smmu_dvm
    import smmu_arch_pkg::*;
    import smmu_types_pkg::*;
#(
    parameter int ASID16 = 1
) (
    input  logic              clk,
    input  logic              rst_n,

    input  logic              dvm_valid,
    output logic              dvm_ready,
    input  logic [2:0]        dvm_op,
    input  logic [15:0]       dvm_asid,
    input  logic [43:0]       dvm_va,      // VA[55:12]
    input  logic              dvm_e2h,     // an EL2&0 form (a kernel at EL2 with VHE)

    input  logic              ptm,         // CR2.PTM
    input  logic              cq_inv,      // the command queue invalidates this cycle
    input  logic              busy,        // a stale engine or response is left
    output logic              inv_valid,
    output inv_t              inv
);
    localparam logic [2:0] DVM_VAE1IS = 3'd0, DVM_VALE1IS = 3'd1, DVM_ASIDE1IS = 3'd2,
                           DVM_VMALLE1IS = 3'd3, DVM_SYNC = 3'd4;

    logic inv_q;  // an invalidation was taken in the previous cycle
    wire  is_sync = dvm_op == DVM_SYNC;
    wire  is_inv = !is_sync;  // reserved codes invalidate everything (always allowed)

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) inv_q <= 1'b0;
        else inv_q <= inv_valid;
    end

    always @(*) begin
        if (is_sync) dvm_ready = ptm || (!inv_q && !busy);
        else if (is_inv && !ptm) dvm_ready = !cq_inv;
        else dvm_ready = 1'b1;                        // ignored with CR2.PTM
        // This SMMU has no Hyp (IDR0.Hyp is RES0 without stage 2): it makes no EL2-E2H
        // entries, so an EL2&0 form matches nothing here.
        inv_valid = dvm_valid && dvm_ready && is_inv && !ptm && !dvm_e2h;
        inv = '0;
        // 8-bit ASIDs: the low byte, as the command queue takes it
        inv.asid = (ASID16 != 0) ? dvm_asid[CD_ASID_W-1:0] : {8'h0, dvm_asid[7:0]};
        inv.va = dvm_va;
        inv.leaf = dvm_op == DVM_VALE1IS;
        inv.shared = dvm_op != DVM_VMALLE1IS;
        case (dvm_op)
            DVM_VAE1IS, DVM_VALE1IS: inv.op = INV_TLB_VA;
            DVM_ASIDE1IS: inv.op = INV_TLB_ASID;
            default: inv.op = INV_TLB_ALL;  // VMALLE1IS, and the reserved codes
        endcase
        if (dvm_op > DVM_SYNC) inv.shared = 1'b0;
    end
endmodule

`default_nettype wire
