// Walk cache: one array per table level (smmu_walk_level), used by the miss engines only
// (never on the hit path); WALK_N = 0 removes it (docs/rtl.md, "Walk cache").
//
// Level 2 holds WALK_N chains, levels 0 and 1 WALK_UP_N each: a chain ending at level l
// serves every walk into the region that descriptor maps (512 GiB, 1 GiB, 2 MiB), so a walk
// into a new 2 MiB region of a known 1 GiB region reads two descriptors, not four.
//   - Lookup, combinational, one engine per cycle (smmu_xlate grants the lowest): the arrays
//     are probed together and the deepest hit wins.
//   - Fill, at the clock edge: a walk offers the chain down to every level it read a table
//     descriptor at, and each level's array takes its own in the same cycle. No fill in a
//     cycle with an invalidation (fill_ready is low).
//   - Invalidation: each array at once, by the same rule (smmu_walk_level).
`default_nettype none

module smmu_walk_cache
    import smmu_arch_pkg::*;
    import smmu_types_pkg::*;
#(
    parameter int WALK_N = 16,
    parameter int WALK_UP_N = 8
) (
    input  logic        clk,
    input  logic        rst_n,

    // lookup
    input  walk_req_t   lk,
    output logic        lk_hit,
    output walk_chain_t lk_chain,     // the deepest hit's chain (zero without a hit)

    // fill
    input  logic        fill_valid,
    output logic        fill_ready,
    input  walk_fill_t  fill,

    // invalidation
    input  logic        inv_valid,
    input  inv_t        inv
);
    localparam int UP_N = (WALK_N > 0) ? WALK_UP_N : 0;

    logic         h0, h1, h2;
    walk_chain_t  c0, c1, c2;
    walk_entry_t  f0, f1, f2;
    logic         fill_do;

    assign fill_ready = !inv_valid;
    assign fill_do = fill_valid && !inv_valid;

    always @(*) begin
        f2.asid = fill.asid;
        f2.slvl = fill.slvl;
        f2.upper = fill.upper;
        f2.va = fill.va;
        f2.chain = fill.c2;
        f1 = f2;
        f1.chain = fill.c1;
        f0 = f2;
        f0.chain = fill.c0;
    end

    smmu_walk_level #(.LVL(0), .N(UP_N)) u_l0 (
        .clk, .rst_n, .lk, .lk_hit(h0), .lk_chain(c0),
        .fill_do(fill_do && fill.v[0]), .fill(f0), .inv_valid, .inv
    );
    smmu_walk_level #(.LVL(1), .N(UP_N)) u_l1 (
        .clk, .rst_n, .lk, .lk_hit(h1), .lk_chain(c1),
        .fill_do(fill_do && fill.v[1]), .fill(f1), .inv_valid, .inv
    );
    smmu_walk_level #(.LVL(2), .N(WALK_N)) u_l2 (
        .clk, .rst_n, .lk, .lk_hit(h2), .lk_chain(c2),
        .fill_do(fill_do && fill.v[2]), .fill(f2), .inv_valid, .inv
    );

    assign lk_hit = h0 || h1 || h2;
    assign lk_chain = h2 ? c2 : h1 ? c1 : c0;
endmodule

`default_nettype wire
