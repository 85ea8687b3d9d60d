// IOTLB: TLB_N leaves, fully associative, one lookup per cycle (docs/rtl.md).
//
// An entry is a leaf at its size (4 KiB, 2 MiB, 1 GiB) for one ASID (or global, nG = 0,
// tagged with the ASET of the CD it was walked through), with the permissions already merged
// with the table attributes (unless HADx), and the half (TTB0 or TTB1, VA[55]) it belongs to.
//   - Lookup, combinational: the lowest valid entry that is of lk_asid (non-global) or global
//     with lk_aset (section 3.17.1: a global entry matches only lookups through a
//     configuration of the same ASET), of the same half, and whose VA[47:12] matches under
//     its size. The hit path looks up stage 1's request every cycle with the ASID of its
//     configuration-cache context.
//   - Fill, at the clock edge: the entry of the same page (ASID or global with ASET, half,
//     size, VA) if there is one, replaced in place (an HTTU update refills a page it had
//     cached read-only: the old copy must not shadow the new one), else the lowest free
//     entry, else the round-robin pointer (which then advances); the VA bits below the
//     leaf's size are cleared. No fill in a cycle with an invalidation (fill_ready is low).
//   - Invalidation, at the clock edge of inv_valid: TLBI_NH_ALL/NSNH_ALL every entry,
//     TLBI_NH_ASID the non-global entries of the ASID, TLBI_NH_VA the entries covering the VA
//     with the ASID or global, TLBI_NH_VAA the entries covering the VA. ASET plays no part
//     (section 3.17: CMD_TLBI_* invalidate matching entries regardless of their ASET; a
//     broadcast TLBI from the DVM port, inv.shared, only those of ASET=0). An
//     entry covers Addr[55:12] when Addr[55:48] is its VA[55:48] (all zeros for TTB0, all
//     ones for TTB1: every address that passed the range check has them so) and Addr[47:12]
//     matches under its size.
`default_nettype none

module smmu_iotlb
    import smmu_arch_pkg::*;
    import smmu_types_pkg::*;
#(
    parameter int TLB_N = 16
) (
    input  logic                 clk,
    input  logic                 rst_n,

    // lookup
    input  logic [CD_ASID_W-1:0] lk_asid,
    input  logic                 lk_aset,
    input  logic                 lk_upper,    // VA[55]
    input  logic [35:0]          lk_va,       // VA[47:12]
    output logic                 lk_hit,
    output leaf_t                lk_leaf,     // the hit entry's leaf (entry 0's without a hit)

    // fill
    input  logic                 fill_valid,
    output logic                 fill_ready,
    input  tlb_entry_t           fill,

    // invalidation
    input  logic                 inv_valid,
    input  inv_t                 inv
);
    localparam int TI_W = (TLB_N > 1) ? $clog2(TLB_N) : 1;

    // VA[47:12] bits that name the page, block or section of a leaf of size `size`
    function automatic logic [35:0] va_mask(input logic [1:0] size);
        case (size)
            SIZE_2M: va_mask = {27'h7FF_FFFF, 9'h0};
            SIZE_1G: va_mask = {18'h3_FFFF, 18'h0};
            default: va_mask = {36{1'b1}};
        endcase
    endfunction

    logic            tv [TLB_N];
    tlb_entry_t      te [TLB_N];
    logic [TI_W-1:0] t_rr;          // round-robin replacement pointer
    logic [TI_W-1:0] l_sel;
    logic            tf_do, tf_found, tf_same;
    logic [TI_W-1:0] tf_idx;
    tlb_entry_t      tf_new;
    logic [TLB_N-1:0] t_inv;
    // Entries are copied out of the array whole (Icarus 11 cannot select a member of an
    // array element); not every field of each copy is used.
    // verilator lint_off UNUSEDSIGNAL
    tlb_entry_t      t_e, t_s, t_i, t_f;
    // verilator lint_on UNUSEDSIGNAL

    // lookup: valid, the ASID (non-global) or the ASET (global), the half, VA[47:12] under
    // the size
    always @(*) begin
        lk_hit = 1'b0;
        l_sel = '0;
        for (int j = TLB_N - 1; j >= 0; j--) begin
            t_e = te[j];
            if (tv[j] && (t_e.gbl ? t_e.aset == lk_aset : t_e.asid == lk_asid) &&
                t_e.upper == lk_upper &&
                ((t_e.va ^ lk_va) & va_mask(t_e.leaf.size)) == 36'h0) begin
                lk_hit = 1'b1;
                l_sel = TI_W'(j);
            end
        end
        t_s = te[l_sel];
        lk_leaf = t_s.leaf;
    end

    // fill: a free entry, else round robin; VA bits below the leaf's size are cleared
    assign fill_ready = !inv_valid;
    always @(*) begin
        tf_do = fill_valid && !inv_valid;
        tf_new = fill;
        tf_new.va = fill.va & va_mask(fill.leaf.size);
        tf_found = 1'b0; tf_same = 1'b0; tf_idx = t_rr;
        for (int j = TLB_N - 1; j >= 0; j--)
            if (!tv[j]) begin tf_found = 1'b1; tf_idx = TI_W'(j); end
        for (int j = TLB_N - 1; j >= 0; j--) begin
            t_f = te[j];
            if (tv[j] && t_f.gbl == tf_new.gbl &&
                (tf_new.gbl ? t_f.aset == tf_new.aset : t_f.asid == tf_new.asid) &&
                t_f.upper == tf_new.upper && t_f.leaf.size == tf_new.leaf.size &&
                t_f.va == tf_new.va) begin
                tf_same = 1'b1; tf_idx = TI_W'(j);
            end
        end
        if (tf_same) tf_found = 1'b1;
    end

    // invalidation: Addr[55:48] names a half only when all its bits agree
    logic inv_lo, inv_hi, t_cov;
    always @(*) begin
        inv_lo = inv.va[43:36] == 8'h00;
        inv_hi = inv.va[43:36] == 8'hFF;
        for (int j = 0; j < TLB_N; j++) begin
            t_i = te[j];
            t_cov = (t_i.upper ? inv_hi : inv_lo) &&
                    ((t_i.va ^ inv.va[35:0]) & va_mask(t_i.leaf.size)) == 36'h0;
            case (inv.op)
                INV_TLB_ALL: t_inv[j] = 1'b1;
                INV_TLB_ASID: t_inv[j] = !t_i.gbl && t_i.asid == inv.asid;
                INV_TLB_VA: t_inv[j] = (t_i.gbl || t_i.asid == inv.asid) && t_cov;
                INV_TLB_VAA: t_inv[j] = t_cov;
                default: t_inv[j] = 1'b0;
            endcase
            // a broadcast TLBI by ASID or VA leaves entries of ASET=1 contexts (CD.ASET)
            if (inv.shared && t_i.aset) t_inv[j] = 1'b0;
        end
    end

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            t_rr <= '0;
            // Everything is reset, not only the valid bits, so no X ever leaves the cache.
            for (int j = 0; j < TLB_N; j++) begin
                tv[j] <= 1'b0;
                te[j] <= '0;
            end
        end else begin
            if (tf_do) begin
                tv[tf_idx] <= 1'b1;
                te[tf_idx] <= tf_new;
                if (!tf_found) t_rr <= t_rr + TI_W'(1);
            end
            if (inv_valid)
                for (int j = 0; j < TLB_N; j++)
                    if (t_inv[j]) tv[j] <= 1'b0;
        end
    end

    // The configuration-cache fields of an invalidation, and Leaf (the IOTLB drops leaves
    // either way), are for the other caches.
    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{inv.sid, inv.sid_mask, inv.ssid, inv.leaf};
    // verilator lint_on UNUSEDSIGNAL
endmodule

`default_nettype wire
