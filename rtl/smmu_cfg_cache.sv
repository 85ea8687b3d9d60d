// Configuration cache: CTX_N resolved contexts, fully associative (docs/rtl.md).
//
// An entry is the resolved context of a (StreamID, SSV, SubstreamID): abort, bypass or
// stage-1 translate with the STE and CD fields the hit path needs. Configuration errors are
// never cached.
//   - Lookup, combinational: the valid entry whose key matches (the SubstreamID is compared
//     only with SSV; keys are unique). The hit path looks up stage 1's request every cycle.
//   - Fill, at the clock edge: an entry with the same key, else the lowest free one, else
//     the round-robin pointer (which then advances). No fill in a cycle with an
//     invalidation (fill_ready is low).
//   - Invalidation, at the clock edge of inv_valid: CFGI_STE, CFGI_STE_RANGE/CFGI_ALL,
//     CFGI_CD_ALL by StreamID (under inv.sid_mask), CFGI_CD by StreamID and CD index.
`default_nettype none

module smmu_cfg_cache
    import smmu_types_pkg::*;
#(
    parameter int CTX_N = 64
) (
    input  logic       clk,
    input  logic       rst_n,

    // lookup
    input  ctx_key_t   lk_key,
    output logic       lk_hit,
    output ctx_t       lk_ctx,      // the hit entry's context (zero without a hit)

    // fill
    input  logic       fill_valid,
    output logic       fill_ready,
    input  ctx_entry_t fill,

    // invalidation
    input  logic       inv_valid,
    input  inv_t       inv
);
    localparam int CI_W = (CTX_N > 1) ? $clog2(CTX_N) : 1;

    logic            cv [CTX_N];
    ctx_entry_t      ce [CTX_N];
    logic [CI_W-1:0] c_rr;          // round-robin replacement pointer
    logic            cf_do, cf_found;
    logic [CI_W-1:0] cf_idx;
    logic [CTX_N-1:0] c_inv;
    // Entries are copied out of the array whole (Icarus 11 cannot select a member of an
    // array element); not every field of each copy is used.
    // verilator lint_off UNUSEDSIGNAL
    ctx_entry_t      c_e, c_f, c_i;
    // verilator lint_on UNUSEDSIGNAL

    // lookup: key StreamID, SSV, SubstreamID (the SubstreamID only with SSV). A key is in
    // at most one entry (a fill of a cached key refills its entry), so the hit entry's
    // context is the OR of every entry's under its match bit: a tree as deep as log2(CTX_N),
    // not a chain through every entry.
    logic [CTX_N-1:0] c_m;
    always @(*) begin
        lk_ctx = '0;
        for (int i = 0; i < CTX_N; i++) begin
            c_e = ce[i];
            c_m[i] = cv[i] && c_e.key.sid == lk_key.sid && c_e.key.ssv == lk_key.ssv &&
                     (!lk_key.ssv || c_e.key.ssid == lk_key.ssid);
            lk_ctx = lk_ctx | (c_m[i] ? c_e.ctx : '0);
        end
        lk_hit = |c_m;
    end

    // fill: an entry with the same key, else a free one, else round robin
    assign fill_ready = !inv_valid;
    always @(*) begin
        cf_do = fill_valid && !inv_valid;
        cf_found = 1'b0; cf_idx = c_rr;
        for (int i = CTX_N - 1; i >= 0; i--)
            if (!cv[i]) begin cf_found = 1'b1; cf_idx = CI_W'(i); end
        for (int i = CTX_N - 1; i >= 0; i--) begin
            c_f = ce[i];
            if (cv[i] && c_f.key == fill.key) begin cf_found = 1'b1; cf_idx = CI_W'(i); end
        end
    end

    // invalidation: by StreamID (range), or by StreamID and CD index; evaluated only in a
    // cycle with an invalidation
    always @(*) begin
        c_inv = '0;
        c_i = '0;
        if (inv_valid) for (int i = 0; i < CTX_N; i++) begin
            c_i = ce[i];
            case (inv.op)
                INV_CFG_SID: c_inv[i] = ((c_i.key.sid ^ inv.sid) & inv.sid_mask) == 32'h0;
                INV_CFG_CD: c_inv[i] = c_i.key.sid == inv.sid && c_i.cdidx == inv.ssid;
                default: c_inv[i] = 1'b0;
            endcase
        end
    end

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            c_rr <= '0;
            // Everything is reset, not only the valid bits, so no X ever leaves the cache.
            for (int i = 0; i < CTX_N; i++) begin
                cv[i] <= 1'b0;
                ce[i] <= '0;
            end
        end else begin
            if (cf_do) begin
                cv[cf_idx] <= 1'b1;
                ce[cf_idx] <= fill;
                if (!cf_found) c_rr <= c_rr + CI_W'(1);
            end
            if (inv_valid)
                for (int i = 0; i < CTX_N; i++)
                    if (c_inv[i]) cv[i] <= 1'b0;
        end
    end

    // The walk-cache and IOTLB fields of an invalidation are for the other caches.
    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{inv.asid, inv.va, inv.leaf, inv.shared};
    // verilator lint_on UNUSEDSIGNAL
endmodule

`default_nettype wire
