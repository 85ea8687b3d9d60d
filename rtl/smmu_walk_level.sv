// One level of the walk cache (smmu_walk_cache): N chains that end in a level-LVL table
// descriptor, fully associative.
//
// An entry is tagged like the model's WALK entry of level LVL: ASID (never global), VA[55:
// shift(LVL)] (as the half, VA[55], and VA[47:shift(LVL)]), plus the start level of the walk
// that read it (a chain is only reused by walks starting at the same level). It holds the
// descriptor's NextTableAddr, the raw APTable/UXNTable/PXNTable ORed from the start level
// down to LVL and the ORed NextTableAddr[47:32] (a walk with a smaller IPS must not use it).
//   - Lookup, combinational: the entry with the key. A fill refills the entry that has its
//     key, so at most one entry matches and the chain is an OR of the matching entries.
//   - Fill, at the clock edge of fill_do: the entry with the same key, else the lowest free
//     one, else the round-robin pointer's (which then advances).
//   - Invalidation, at the clock edge of inv_valid (reference §5.2, models/smmu/caches.py):
//     TLBI_NH_ALL/NSNH_ALL everything, TLBI_NH_ASID every entry of the ASID; a chain depends
//     on every descriptor from its start level down, so TLBI_NH_VA/VAA with Leaf=0 drop it
//     when the VA lies in the region of its first (start-level) descriptor (VA: with the
//     ASID; VAA: any ASID; Addr[55:48] all equal to the entry's half); Leaf=1 keeps it.
//     CFGI_* leave it.
`default_nettype none

module smmu_walk_level
    import smmu_arch_pkg::*;
    import smmu_types_pkg::*;
#(
    parameter int LVL = 2,
    parameter int N = 16             // 0: never holds anything
) (
    input  logic        clk,
    input  logic        rst_n,

    input  walk_req_t   lk,
    output logic        lk_hit,
    output walk_chain_t lk_chain,     // zero without a hit

    input  logic        fill_do,      // fill_valid, this level offered, no invalidation
    input  walk_entry_t fill,

    input  logic        inv_valid,
    input  inv_t        inv
);
    localparam int NN = (N > 0) ? N : 1;   // array size (N = 0: never valid)
    localparam int KI_W = (NN > 1) ? $clog2(NN) : 1;

    // VA[47:21] bits that name the region a level-`l` table descriptor maps
    function automatic logic [26:0] lvl_mask(input logic [1:0] l);
        case (l)
            2'd0: lvl_mask = {9'h1FF, 18'h0};
            2'd1: lvl_mask = {18'h3_FFFF, 9'h0};
            default: lvl_mask = {27{1'b1}};
        endcase
    endfunction
    localparam logic [26:0] MASK = (LVL == 0) ? {9'h1FF, 18'h0} :
                                   (LVL == 1) ? {18'h3_FFFF, 9'h0} : {27{1'b1}};

    // NextTableAddr[47:32] bits beyond an effective IPS (none beyond 48 bits)
    function automatic logic [15:0] ips_hi_mask(input logic [CD_IPS_W-1:0] ips);
        ips_hi_mask = (oas_bits(ips) >= 48) ? 16'h0000 : (16'hFFFF << (oas_bits(ips) - 32));
    endfunction

    logic            kv [NN];
    walk_entry_t     ke [NN];
    logic [KI_W-1:0] k_rr;          // round-robin replacement pointer
    logic            wf_found;
    logic [KI_W-1:0] wf_idx;
    walk_entry_t     wf_new;
    logic [NN-1:0]   k_inv;
    // Entries are copied out of the array whole (Icarus 11 cannot select a member of an
    // array element); not every field of each copy is used.
    // verilator lint_off UNUSEDSIGNAL
    walk_entry_t     k_e, k_f, k_i;
    // verilator lint_on UNUSEDSIGNAL

    always @(*) begin
        lk_hit = 1'b0;
        lk_chain = '0;
        for (int k = 0; k < NN; k++) begin
            k_e = ke[k];
            if (N != 0 && kv[k] && k_e.asid == lk.asid && k_e.slvl == lk.slvl &&
                k_e.upper == lk.upper && k_e.va == (lk.va & MASK) &&
                (k_e.chain.hi & ips_hi_mask(lk.ips)) == 16'h0) begin
                lk_hit = 1'b1;
                lk_chain = lk_chain | k_e.chain;
            end
        end
    end

    always @(*) begin
        wf_new = fill;
        wf_new.va = fill.va & MASK;
        wf_found = 1'b0; wf_idx = k_rr;
        for (int k = NN - 1; k >= 0; k--)
            if (!kv[k]) begin wf_found = 1'b1; wf_idx = KI_W'(k); end
        for (int k = NN - 1; k >= 0; k--) begin
            k_f = ke[k];
            if (kv[k] && k_f.asid == fill.asid && k_f.slvl == fill.slvl &&
                k_f.upper == fill.upper && k_f.va == wf_new.va) begin
                wf_found = 1'b1; wf_idx = KI_W'(k);
            end
        end
    end

    // invalidation: Addr[55:48] names a half only when all its bits agree
    logic inv_lo, inv_hi, k_cov;
    always @(*) begin
        inv_lo = inv.va[43:36] == 8'h00;
        inv_hi = inv.va[43:36] == 8'hFF;
        for (int k = 0; k < NN; k++) begin
            k_i = ke[k];
            k_cov = !inv.leaf && (k_i.upper ? inv_hi : inv_lo) &&
                    ((k_i.va ^ inv.va[35:9]) & lvl_mask(k_i.slvl)) == 27'h0;
            case (inv.op)
                INV_TLB_ALL: k_inv[k] = 1'b1;
                INV_TLB_ASID: k_inv[k] = k_i.asid == inv.asid;
                INV_TLB_VA: k_inv[k] = k_cov && k_i.asid == inv.asid;
                INV_TLB_VAA: k_inv[k] = k_cov;
                default: k_inv[k] = 1'b0;
            endcase
        end
    end

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            k_rr <= '0;
            // Everything is reset, not only the valid bits, so no X ever leaves the cache.
            for (int k = 0; k < NN; k++) begin
                kv[k] <= 1'b0;
                ke[k] <= '0;
            end
        end else begin
            if (N != 0 && fill_do) begin
                kv[wf_idx] <= 1'b1;
                ke[wf_idx] <= wf_new;
                if (!wf_found) k_rr <= (k_rr == KI_W'(NN - 1)) ? '0 : k_rr + KI_W'(1);
            end
            if (inv_valid)
                for (int k = 0; k < NN; k++)
                    if (k_inv[k]) kv[k] <= 1'b0;
        end
    end

    // The configuration-cache fields of an invalidation, and VA[20:12] (a chain's region is
    // at least 2 MiB), are not needed here.
    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{inv.sid, inv.sid_mask, inv.ssid, inv.va[8:0], inv.shared};
    // verilator lint_on UNUSEDSIGNAL
endmodule

`default_nettype wire
