// IOTLB: TLB_N 4 KiB leaves in TLB_N / TLB_WAYS sets of TLB_WAYS ways, and TLB_BLK_N 2 MiB and
// 1 GiB leaves in a fully associative array of their own; one lookup per cycle (docs/rtl.md).
// TLB_WAYS = TLB_N makes the page array fully associative too.
//
// An entry is a leaf at its size (4 KiB, 2 MiB, 1 GiB) for one ASID (or global, nG = 0,
// tagged with the ASET of the CD it was walked through), with the permissions already merged
// with the table attributes (unless HADx), and the half (TTB0 or TTB1, VA[55]) it belongs to.
// A page lives in the set VA[12+:SI_W] indexes; a block anywhere in the block array. Keeping
// blocks apart makes a lookup one probe of one set plus a compare of TLB_BLK_N entries,
// instead of a probe per size: the sets' read multiplexers are what a wide IOTLB in flip-flops
// costs.
//   - Lookup, combinational: the ways of the page's set, and every block entry; an entry
//     matches if it is valid, of lk_asid (non-global) or global with lk_aset (section 3.17.1:
//     a global entry matches only lookups through a configuration of the same ASET), of the
//     same half, and its VA[47:12] matches under its size. A page wins over a block, then the
//     lowest way or entry (any matching entry is a legal answer: the model's envelope allows
//     each). The hit path looks up stage 1's request every cycle with the ASID of its
//     configuration-cache context.
//   - Fill, at the clock edge, into the page's set or the block array: the entry holding the
//     same leaf (ASID or global with ASET, half, size, VA) if there is one, replaced in place
//     (an HTTU update refills a page it had cached read-only: the old copy must not shadow
//     the new one), else the lowest free one, else the set's (or the block array's)
//     round-robin pointer (which then advances); the VA bits below the leaf's size are
//     cleared. No fill in a cycle with an invalidation (fill_ready is low).
//   - Invalidation, at the clock edge of inv_valid, every entry of both arrays at once:
//     TLBI_NH_ALL/NSNH_ALL every entry, TLBI_NH_ASID the non-global entries of the ASID,
//     TLBI_NH_VA the entries covering the VA with the ASID or global, TLBI_NH_VAA the entries
//     covering the VA. ASET plays no part (section 3.17: CMD_TLBI_* invalidate matching
//     entries regardless of their ASET; a broadcast TLBI from the DVM port, inv.shared, only
//     those of ASET=0). An entry covers Addr[55:12] when Addr[55:48] is its VA[55:48] (all
//     zeros for TTB0, all ones for TTB1: every address that passed the range check has them
//     so) and Addr[47:12] matches under its size.
`default_nettype none

module smmu_iotlb
    import smmu_arch_pkg::*;
    import smmu_types_pkg::*;
#(
    parameter int TLB_N = 256,
    parameter int TLB_WAYS = 4,
    parameter int TLB_BLK_N = 16    // 0: blocks are not cached
) (
    input  logic                 clk,
    input  logic                 rst_n,

    // lookup
    input  logic [CD_ASID_W-1:0] lk_asid,
    input  logic                 lk_aset,
    input  logic                 lk_upper,    // VA[55]
    input  logic [35:0]          lk_va,       // VA[47:12]
    output logic                 lk_hit,
    output leaf_t                lk_leaf,     // the hit entry's leaf (an entry's without a hit)

    // fill
    input  logic                 fill_valid,
    output logic                 fill_ready,
    input  tlb_entry_t           fill,

    // invalidation
    input  logic                 inv_valid,
    input  inv_t                 inv
);
    localparam int SETS = TLB_N / TLB_WAYS;
    localparam int TI_W = (TLB_N > 1) ? $clog2(TLB_N) : 1;
    localparam int WI_W = (TLB_WAYS > 1) ? $clog2(TLB_WAYS) : 1;
    localparam int SI_W = (SETS > 1) ? $clog2(SETS) : 1;
    localparam int BN = (TLB_BLK_N > 0) ? TLB_BLK_N : 1;   // block array size (0: never valid)
    localparam int BI_W = (BN > 1) ? $clog2(BN) : 1;

    // VA[47:12] bits that name the page, block or section of a leaf of size `size`
    function automatic logic [35:0] va_mask(input logic [1:0] size);
        case (size)
            SIZE_2M: va_mask = {27'h7FF_FFFF, 9'h0};
            SIZE_1G: va_mask = {18'h3_FFFF, 18'h0};
            default: va_mask = {36{1'b1}};
        endcase
    endfunction

    // the set a page at VA[47:12] `va` lives in: VA[12+:SI_W]
    function automatic logic [SI_W-1:0] set_of(input logic [SI_W-1:0] va);
        set_of = (SETS == 1) ? '0 : va;
    endfunction

    // whether invalidation `iv` removes entry `e`, `cov`: the entry covers the VA (the
    // entry's leaf and VA, the invalidation's VA and configuration fields, play no part here)
    // verilator lint_off UNUSEDSIGNAL
    function automatic logic inv_hits(input tlb_entry_t e, input logic cov, input inv_t iv);
        case (iv.op)
            INV_TLB_ALL: inv_hits = 1'b1;
            INV_TLB_ASID: inv_hits = !e.gbl && e.asid == iv.asid;
            INV_TLB_VA: inv_hits = (e.gbl || e.asid == iv.asid) && cov;
            INV_TLB_VAA: inv_hits = cov;
            default: inv_hits = 1'b0;
        endcase
        // a broadcast TLBI by ASID or VA leaves entries of ASET=1 contexts (CD.ASET)
        if (iv.shared && e.aset) inv_hits = 1'b0;
    endfunction
    // verilator lint_on UNUSEDSIGNAL

    // the entry index of way `w` of set `set`
    function automatic logic [TI_W-1:0] at(input logic [SI_W-1:0] set, input int w);
        at = TI_W'(32'(set) * TLB_WAYS + w);
    endfunction

    logic            tv [TLB_N];
    tlb_entry_t      te [TLB_N];
    logic [WI_W-1:0] t_rr [SETS];  // round-robin replacement pointer of each set
    logic            bv [BN];
    tlb_entry_t      be [BN];
    logic [BI_W-1:0] b_rr;         // the block array's round-robin pointer
    logic [TI_W-1:0] l_sel;
    logic [BI_W-1:0] lb_sel;
    logic            lp_hit, lb_hit;
    logic            tf_do, tf_blk, tf_found, tf_same, bf_found, bf_same;
    logic [SI_W-1:0] tf_set, l_set;
    logic [WI_W-1:0] tf_way;
    logic [TI_W-1:0] tf_idx;
    logic [BI_W-1:0] bf_idx;
    tlb_entry_t      tf_new;
    logic [TLB_N-1:0] t_inv;
    logic [BN-1:0]   b_inv;
    // Entries are copied out of the arrays whole (Icarus 11 cannot select a member of an
    // array element); not every field of each copy is used.
    // verilator lint_off UNUSEDSIGNAL
    tlb_entry_t      t_e, t_s, t_i, t_f, b_e, b_s, b_i, b_f;
    // verilator lint_on UNUSEDSIGNAL

    // lookup: the ways of the page's set (valid, the ASID (non-global) or the ASET (global),
    // the half, VA[47:12]), and every block (the same, VA[47:12] under its size)
    always @(*) begin
        lp_hit = 1'b0;
        l_sel = '0;
        l_set = set_of(lk_va[SI_W-1:0]);
        for (int w = TLB_WAYS - 1; w >= 0; w--) begin
            t_e = te[at(l_set, w)];
            if (tv[at(l_set, w)] && (t_e.gbl ? t_e.aset == lk_aset : t_e.asid == lk_asid) &&
                t_e.upper == lk_upper && t_e.va == lk_va) begin
                lp_hit = 1'b1;
                l_sel = at(l_set, w);
            end
        end
        lb_hit = 1'b0;
        lb_sel = '0;
        for (int b = BN - 1; b >= 0; b--) begin
            b_e = be[b];
            if (TLB_BLK_N != 0 && bv[b] &&
                (b_e.gbl ? b_e.aset == lk_aset : b_e.asid == lk_asid) &&
                b_e.upper == lk_upper && ((b_e.va ^ lk_va) & va_mask(b_e.leaf.size)) == 36'h0) begin
                lb_hit = 1'b1;
                lb_sel = BI_W'(b);
            end
        end
        t_s = te[l_sel];
        b_s = be[lb_sel];
        lk_hit = lp_hit || lb_hit;
        lk_leaf = lp_hit ? t_s.leaf : b_s.leaf;
    end

    // fill: a page into its set (the same page's way, else a free way, else the set's round
    // robin), a block into the block array (the same block's entry, else a free one, else
    // round robin); VA bits below the leaf's size are cleared
    assign fill_ready = !inv_valid;
    always @(*) begin
        tf_new = fill;
        tf_new.va = fill.va & va_mask(fill.leaf.size);
        tf_blk = fill.leaf.size != SIZE_4K;
        tf_do = fill_valid && !inv_valid && (!tf_blk || TLB_BLK_N != 0);
        tf_set = set_of(tf_new.va[SI_W-1:0]);
        tf_found = 1'b0; tf_same = 1'b0; tf_way = t_rr[tf_set];
        for (int w = TLB_WAYS - 1; w >= 0; w--)
            if (!tv[at(tf_set, w)]) begin tf_found = 1'b1; tf_way = WI_W'(w); end
        for (int w = TLB_WAYS - 1; w >= 0; w--) begin
            t_f = te[at(tf_set, w)];
            if (tv[at(tf_set, w)] && t_f.gbl == tf_new.gbl &&
                (tf_new.gbl ? t_f.aset == tf_new.aset : t_f.asid == tf_new.asid) &&
                t_f.upper == tf_new.upper && t_f.va == tf_new.va) begin
                tf_same = 1'b1; tf_way = WI_W'(w);
            end
        end
        if (tf_same) tf_found = 1'b1;
        tf_idx = at(tf_set, int'(tf_way));
        bf_found = 1'b0; bf_same = 1'b0; bf_idx = b_rr;
        for (int b = BN - 1; b >= 0; b--)
            if (!bv[b]) begin bf_found = 1'b1; bf_idx = BI_W'(b); end
        for (int b = BN - 1; b >= 0; b--) begin
            b_f = be[b];
            if (bv[b] && b_f.gbl == tf_new.gbl &&
                (tf_new.gbl ? b_f.aset == tf_new.aset : b_f.asid == tf_new.asid) &&
                b_f.upper == tf_new.upper && b_f.leaf.size == tf_new.leaf.size &&
                b_f.va == tf_new.va) begin
                bf_same = 1'b1; bf_idx = BI_W'(b);
            end
        end
        if (bf_same) bf_found = 1'b1;
    end

    // invalidation: Addr[55:48] names a half only when all its bits agree. Evaluated only
    // in a cycle with an invalidation.
    logic inv_lo, inv_hi, t_cov, b_cov;
    always @(*) begin
        inv_lo = inv.va[43:36] == 8'h00;
        inv_hi = inv.va[43:36] == 8'hFF;
        t_inv = '0;
        t_i = '0;
        t_cov = 1'b0;
        b_inv = '0;
        b_i = '0;
        b_cov = 1'b0;
        if (inv_valid) begin
            for (int j = 0; j < TLB_N; j++) begin
                t_i = te[j];
                t_cov = (t_i.upper ? inv_hi : inv_lo) && t_i.va == inv.va[35:0];
                t_inv[j] = inv_hits(t_i, t_cov, inv);
            end
            for (int j = 0; j < BN; j++) begin
                b_i = be[j];
                b_cov = (b_i.upper ? inv_hi : inv_lo) &&
                        ((b_i.va ^ inv.va[35:0]) & va_mask(b_i.leaf.size)) == 36'h0;
                b_inv[j] = inv_hits(b_i, b_cov, inv);
            end
        end
    end

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            for (int i = 0; i < SETS; i++) t_rr[i] <= '0;
            b_rr <= '0;
            // Everything is reset, not only the valid bits, so no X ever leaves the cache.
            for (int j = 0; j < TLB_N; j++) begin
                tv[j] <= 1'b0;
                te[j] <= '0;
            end
            for (int j = 0; j < BN; j++) begin
                bv[j] <= 1'b0;
                be[j] <= '0;
            end
        end else begin
            if (tf_do && !tf_blk) begin
                tv[tf_idx] <= 1'b1;
                te[tf_idx] <= tf_new;
                if (!tf_found)
                    t_rr[tf_set] <= (t_rr[tf_set] == WI_W'(TLB_WAYS - 1)) ? '0
                                                                         : t_rr[tf_set] + WI_W'(1);
            end
            if (tf_do && tf_blk) begin
                bv[bf_idx] <= 1'b1;
                be[bf_idx] <= tf_new;
                if (!bf_found) b_rr <= (b_rr == BI_W'(BN - 1)) ? '0 : b_rr + BI_W'(1);
            end
            if (inv_valid) begin
                for (int j = 0; j < TLB_N; j++)
                    if (t_inv[j]) tv[j] <= 1'b0;
                for (int j = 0; j < BN; j++)
                    if (b_inv[j]) bv[j] <= 1'b0;
            end
        end
    end

    // The configuration-cache fields of an invalidation, and Leaf (the IOTLB drops leaves
    // either way), are for the other caches.
    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{inv.sid, inv.sid_mask, inv.ssid, inv.leaf};
    // verilator lint_on UNUSEDSIGNAL
endmodule

`default_nettype wire
