// Translation unit: the TBU-side port, the hit path, the configuration cache, the IOTLB and
// N_WALK miss engines (smmu_walker).
//
// Hit path, per cycle (docs/rtl.md):
//   cycle 0  t_req handshake; the request is registered into stage 1 (s1).
//   cycle 1  s1 looks up the context cache (key StreamID, SSV, SubstreamID) and, with the
//            context's ASID, the IOTLB; smmu_xcalc turns (request, context, leaf) into the
//            outcome. A complete outcome is pushed into the 2-entry response FIFO at the end
//            of the cycle (and its event record into the event queue); anything else is
//            handed to an idle miss engine.
//   cycle 2  t_rsp_valid.
// s1 advances every cycle unless its outcome cannot leave (response FIFO full, event FIFO
// full, or no idle engine for a miss); t_req_ready is `s1 empty or s1 advances`, computed
// from registered state only, so it never depends on t_req_valid or t_rsp_ready.
//
// Engines finish out of order; their responses share the response FIFO with the hit path
// (engines first, lowest index first), their records share the event port, their fills share
// one context-cache write port, one IOTLB write port and one walk-cache write port per cycle.
// A cycle with an invalidation accepts no fill: the filling engine turns stale at the same
// edge.
//
// Walk cache (WALK_N entries, 0: none): each entry is a chain of valid table descriptors from
// the start level down to level `lvl` (0..2) for one VA region, tagged like the model's
// WALK entries: ASID (never global), the level, VA[47:shift(lvl)], plus the walk's start
// level (a chain is only reused by walks starting at the same level). It holds the last
// descriptor's NextTableAddr, the raw APTable/UXNTable/PXNTable ORed over the chain and the
// ORed NextTableAddr[47:32] of the chain (a walk with a smaller IPS must not use it). Engines
// look it up in WINIT through one shared port (lowest engine first, deepest entry wins) and
// fill it in DONE. It is not on the hit path.
`default_nettype none

module smmu_xlate
    import smmu_arch_pkg::*;
    import smmu_types_pkg::*;
#(
    parameter int TAG_W = 8,
    parameter int N_WALK = 4,
    parameter int CTX_N = 8,
    parameter int TLB_N = 16,
    parameter int WALK_N = 16,
    parameter int S1P = 1,
    parameter int CD2L = 1,
    parameter int STALL_MODEL = 1,
    parameter int TERM_MODEL = 0,
    parameter int ST_LEVEL = 1,
    parameter int SIDSIZE = 16,
    parameter int SSIDSIZE = 16,
    parameter int OAS = 5,
    parameter int HTTU = 0,
    parameter int ASID16 = 1,
    parameter int HYP = 0,
    parameter int ATS = 0,
    parameter int HAD = 0
) (
    input  logic                 clk,
    input  logic                 rst_n,

    // Translation port (the fields of smmu_top's t_req_* / t_rsp_*)
    input  logic                 t_req_valid,
    output logic                 t_req_ready,
    input  logic [TAG_W-1:0]     t_req_tag,
    input  xreq_t                t_req,
    output logic                 t_rsp_valid,
    input  logic                 t_rsp_ready,
    output logic [TAG_W-1:0]     t_rsp_tag,
    output xrsp_t                t_rsp,
    output logic                 t_rsp_walked,  // served by a miss engine, not the hit path

    // Configuration
    input  logic                 smmuen,
    input  logic                 gbpa_abort,
    input  logic                 recinvsid,
    input  logic [47:0]          strtab_base,
    input  logic [31:0]          strtab_cfg,

    // Invalidation (from the command queue), one per cycle
    input  logic                 inv_valid,
    input  inv_t                 inv,
    output logic                 sync_busy,     // a stale engine is still running

    // Event records
    output logic                 evt_valid,
    input  logic                 evt_ready,
    output logic [EVENT_NBITS-1:0] evt,

    // Memory reads, one port per engine (flattened; the top arbitrates)
    output logic [N_WALK-1:0]    ar_valid,
    input  logic [N_WALK-1:0]    ar_ready,
    output logic [N_WALK*48-1:0] ar_addr,
    output logic [N_WALK*8-1:0]  ar_len,
    input  logic [N_WALK-1:0]    r_valid,
    input  logic [63:0]          r_data,
    input  logic [1:0]           r_resp,
    input  logic                 r_last
);
    localparam int PA_BITS = oas_bits(IDR5_OAS_W'(OAS));
    localparam int CI_W = (CTX_N > 1) ? $clog2(CTX_N) : 1;
    localparam int TI_W = (TLB_N > 1) ? $clog2(TLB_N) : 1;
    localparam int WI_W = (N_WALK > 1) ? $clog2(N_WALK) : 1;
    localparam int WN = (WALK_N > 0) ? WALK_N : 1;   // array size (WALK_N = 0: never valid)
    localparam int KI_W = (WN > 1) ? $clog2(WN) : 1;
    localparam int RSP_W = TAG_W + $bits(xrsp_t);

    // ---- stage 1 --------------------------------------------------------------------------
    logic             s1_v;
    logic [TAG_W-1:0] s1_tag;
    xreq_t            s1;

    // VA[47:21] bits that name the region a level-`l` table descriptor maps
    function automatic logic [26:0] lvl_mask(input logic [1:0] l);
        case (l)
            2'd0: lvl_mask = {9'h1FF, 18'h0};
            2'd1: lvl_mask = {18'h3_FFFF, 9'h0};
            default: lvl_mask = {27{1'b1}};
        endcase
    endfunction

    // NextTableAddr[47:32] bits beyond an effective IPS (none beyond 48 bits)
    function automatic logic [15:0] ips_hi_mask(input logic [CD_IPS_W-1:0] ips);
        ips_hi_mask = (oas_bits(ips) >= 48) ? 16'h0000 : (16'hFFFF << (oas_bits(ips) - 32));
    endfunction

    // VA[47:12] bits that name the page, block or section of a leaf of size `size`
    function automatic logic [35:0] va_mask(input logic [1:0] size);
        case (size)
            SIZE_2M: va_mask = {27'h7FF_FFFF, 9'h0};
            SIZE_1G: va_mask = {18'h3_FFFF, 18'h0};
            default: va_mask = {36{1'b1}};
        endcase
    endfunction

    // ---- engines and their arbitration (fixed priority, lowest engine first) -------------
    logic [N_WALK-1:0]  w_idle, w_start, w_stale;
    logic [N_WALK-1:0]  w_rsp_valid, w_rsp_ready, w_evt_valid, w_evt_ready;
    logic [N_WALK-1:0]  w_cf_valid, w_cf_ready, w_tf_valid, w_tf_ready;
    logic [N_WALK-1:0]  w_wl_req, w_wl_gnt, w_wf_valid, w_wf_ready;
    logic [RSP_W-1:0]       w_rsp [N_WALK];    // {tag, response}
    logic [EVENT_NBITS-1:0] w_evt [N_WALK];
    ctx_entry_t             wc [N_WALK];       // configuration-cache fills
    tlb_entry_t             wt [N_WALK];       // IOTLB fills
    walk_req_t              wl [N_WALK];       // walk-cache lookups
    walk_entry_t            wk [N_WALK];       // walk-cache fills

    logic              any_idle, w_rsp_any, w_evt_any, w_cf_any, w_tf_any, w_wl_any, w_wf_any;
    logic [WI_W-1:0]   idle_sel, rsp_sel, evt_sel, cf_sel, tf_sel, wl_sel, wf_sel;
    always @(*) begin
        any_idle = 1'b0; idle_sel = '0;
        w_rsp_any = 1'b0; rsp_sel = '0;
        w_evt_any = 1'b0; evt_sel = '0;
        w_cf_any = 1'b0; cf_sel = '0;
        w_tf_any = 1'b0; tf_sel = '0;
        w_wl_any = 1'b0; wl_sel = '0;
        w_wf_any = 1'b0; wf_sel = '0;
        for (int i = N_WALK - 1; i >= 0; i--) begin
            if (w_idle[i]) begin any_idle = 1'b1; idle_sel = WI_W'(i); end
            if (w_rsp_valid[i]) begin w_rsp_any = 1'b1; rsp_sel = WI_W'(i); end
            if (w_evt_valid[i]) begin w_evt_any = 1'b1; evt_sel = WI_W'(i); end
            if (w_cf_valid[i]) begin w_cf_any = 1'b1; cf_sel = WI_W'(i); end
            if (w_tf_valid[i]) begin w_tf_any = 1'b1; tf_sel = WI_W'(i); end
            if (w_wl_req[i]) begin w_wl_any = 1'b1; wl_sel = WI_W'(i); end
            if (w_wf_valid[i]) begin w_wf_any = 1'b1; wf_sel = WI_W'(i); end
        end
    end

    // The winning engine's fill or lookup (whole array elements: Icarus 11 cannot select a
    // member of an array element).
    ctx_entry_t  cf_in;
    tlb_entry_t  tf_in;
    walk_req_t   wl_in;
    walk_entry_t wf_in;
    assign cf_in = wc[cf_sel];
    assign tf_in = wt[tf_sel];
    assign wl_in = wl[wl_sel];
    assign wf_in = wk[wf_sel];

    // ---- configuration cache: CTX_N entries, fully associative ---------------------------
    logic            cv [CTX_N];
    ctx_entry_t      ce [CTX_N];
    logic [CI_W-1:0] c_rr;
    logic            c_hit;
    logic [CI_W-1:0] c_sel;
    ctx_t            c_ctx;
    logic            cf_do, cf_found;
    logic [CI_W-1:0] cf_idx;
    logic [CTX_N-1:0] c_inv;
    // entries copied out of the array; not every field of each copy is used
    // verilator lint_off UNUSEDSIGNAL
    ctx_entry_t      c_e, c_s, c_f, c_i;
    // verilator lint_on UNUSEDSIGNAL

    // lookup: key StreamID, SSV, SubstreamID (the SubstreamID only with SSV)
    always @(*) begin
        c_hit = 1'b0;
        c_sel = '0;
        for (int i = CTX_N - 1; i >= 0; i--) begin
            c_e = ce[i];
            if (cv[i] && c_e.key.sid == s1.sid && c_e.key.ssv == s1.ssv &&
                (!s1.ssv || c_e.key.ssid == s1.ssid)) begin
                c_hit = 1'b1;
                c_sel = CI_W'(i);
            end
        end
        c_s = ce[c_sel];
        c_ctx = c_s.ctx;
    end

    // fill: an entry with the same key, else a free one, else round robin
    always @(*) begin
        cf_do = w_cf_any && !inv_valid;
        cf_found = 1'b0; cf_idx = c_rr;
        for (int i = CTX_N - 1; i >= 0; i--)
            if (!cv[i]) begin cf_found = 1'b1; cf_idx = CI_W'(i); end
        for (int i = CTX_N - 1; i >= 0; i--) begin
            c_f = ce[i];
            if (cv[i] && c_f.key == cf_in.key) begin cf_found = 1'b1; cf_idx = CI_W'(i); end
        end
    end

    // invalidation: CFGI_STE/_RANGE/_ALL/_CD_ALL by StreamID (range), CFGI_CD by CD index
    always @(*) begin
        for (int i = 0; i < CTX_N; i++) begin
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
            // Everything is reset, not only the valid bits, so no X ever leaves a cache.
            for (int i = 0; i < CTX_N; i++) begin
                cv[i] <= 1'b0;
                ce[i] <= '0;
            end
        end else begin
            if (cf_do) begin
                cv[cf_idx] <= 1'b1;
                ce[cf_idx] <= cf_in;
                if (!cf_found) c_rr <= c_rr + CI_W'(1);
            end
            if (inv_valid)
                for (int i = 0; i < CTX_N; i++)
                    if (c_inv[i]) cv[i] <= 1'b0;
        end
    end

    // ---- IOTLB: TLB_N leaves, fully associative --------------------------------------------
    logic            tv [TLB_N];
    tlb_entry_t      te [TLB_N];
    logic [TI_W-1:0] t_rr;
    logic            l_hit;
    logic [TI_W-1:0] l_sel;
    leaf_t           l_leaf;
    logic [15:0]     f_asid;
    logic            tf_do, tf_found;
    logic [TI_W-1:0] tf_idx;
    tlb_entry_t      tf_new;
    logic [TLB_N-1:0] t_inv;
    // verilator lint_off UNUSEDSIGNAL
    tlb_entry_t      t_e, t_s, t_i;
    // verilator lint_on UNUSEDSIGNAL

    // lookup: valid, global or the context's ASID, VA[47:12] under the entry's size
    assign f_asid = c_ctx.asid;
    always @(*) begin
        l_hit = 1'b0;
        l_sel = '0;
        for (int j = TLB_N - 1; j >= 0; j--) begin
            t_e = te[j];
            if (tv[j] && (t_e.gbl || t_e.asid == f_asid) &&
                ((t_e.va ^ s1.addr[47:12]) & va_mask(t_e.leaf.size)) == 36'h0) begin
                l_hit = 1'b1;
                l_sel = TI_W'(j);
            end
        end
        t_s = te[l_sel];
        l_leaf = t_s.leaf;
    end

    // fill: a free entry, else round robin; VA bits below the leaf's size are cleared
    always @(*) begin
        tf_do = w_tf_any && !inv_valid;
        tf_found = 1'b0; tf_idx = t_rr;
        for (int j = TLB_N - 1; j >= 0; j--)
            if (!tv[j]) begin tf_found = 1'b1; tf_idx = TI_W'(j); end
        tf_new = tf_in;
        tf_new.va = tf_in.va & va_mask(tf_in.leaf.size);
    end

    // invalidation: TLBI_NH_ALL/NSNH_ALL all, NH_ASID non-global of the ASID, NH_VA the VA
    // with the ASID or global, NH_VAA the VA with any ASID
    always @(*) begin
        for (int j = 0; j < TLB_N; j++) begin
            t_i = te[j];
            case (inv.op)
                INV_TLB_ALL: t_inv[j] = 1'b1;
                INV_TLB_ASID: t_inv[j] = !t_i.gbl && t_i.asid == inv.asid;
                INV_TLB_VA: t_inv[j] = (t_i.gbl || t_i.asid == inv.asid) &&
                                       ((t_i.va ^ inv.va) & va_mask(t_i.leaf.size)) == 36'h0;
                INV_TLB_VAA: t_inv[j] = ((t_i.va ^ inv.va) & va_mask(t_i.leaf.size)) == 36'h0;
                default: t_inv[j] = 1'b0;
            endcase
        end
    end

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            t_rr <= '0;
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

    // ---- walk cache: WALK_N chains, fully associative (engines only) ----------------------
    logic            kv [WN];
    walk_entry_t     ke [WN];
    logic [KI_W-1:0] k_rr;
    logic            kl_hit;
    logic [KI_W-1:0] kl_sel;
    logic [1:0]      kl_lvl;
    walk_chain_t     kl_chain;
    logic            wf_do, wf_found;
    logic [KI_W-1:0] wf_idx;
    logic [26:0]     wf_key;
    walk_entry_t     wf_new;
    logic [WN-1:0]   k_inv;
    // verilator lint_off UNUSEDSIGNAL
    walk_entry_t     k_e, k_s, k_f, k_i;
    // verilator lint_on UNUSEDSIGNAL

    // lookup (one engine per cycle): the deepest matching chain
    always @(*) begin
        kl_hit = 1'b0;
        kl_sel = '0;
        kl_lvl = '0;
        for (int k = 0; k < WN; k++) begin
            k_e = ke[k];
            if (WALK_N != 0 && kv[k] && k_e.asid == wl_in.asid && k_e.slvl == wl_in.slvl &&
                ((k_e.va ^ wl_in.va) & lvl_mask(k_e.chain.lvl)) == 27'h0 &&
                (k_e.chain.hi & ips_hi_mask(wl_in.ips)) == 16'h0 &&
                (!kl_hit || k_e.chain.lvl > kl_lvl)) begin
                kl_hit = 1'b1;
                kl_sel = KI_W'(k);
                kl_lvl = k_e.chain.lvl;
            end
        end
        k_s = ke[kl_sel];
        kl_chain = k_s.chain;
    end

    // fill: same key (ASID, start level, level, region) else free else round robin
    always @(*) begin
        wf_do = (WALK_N != 0) && w_wf_any && !inv_valid;
        wf_key = wf_in.va & lvl_mask(wf_in.chain.lvl);
        wf_found = 1'b0; wf_idx = k_rr;
        for (int k = WN - 1; k >= 0; k--)
            if (!kv[k]) begin wf_found = 1'b1; wf_idx = KI_W'(k); end
        for (int k = WN - 1; k >= 0; k--) begin
            k_f = ke[k];
            if (kv[k] && k_f.asid == wf_in.asid && k_f.slvl == wf_in.slvl &&
                k_f.chain.lvl == wf_in.chain.lvl && k_f.va == wf_key) begin
                wf_found = 1'b1; wf_idx = KI_W'(k);
            end
        end
        wf_new = wf_in;
        wf_new.va = wf_key;
    end

    // Invalidation (reference §5.2, models/smmu/caches.py): a chain depends on every
    // descriptor from its start level down, so a VA invalidation with Leaf=0 drops it when
    // the VA lies in the region of the chain's first (start-level) descriptor; Leaf=1 keeps
    // it. Entries are never global. CFGI_* leave it.
    always @(*) begin
        for (int k = 0; k < WN; k++) begin
            k_i = ke[k];
            case (inv.op)
                INV_TLB_ALL: k_inv[k] = 1'b1;
                INV_TLB_ASID: k_inv[k] = k_i.asid == inv.asid;
                INV_TLB_VA: k_inv[k] = !inv.leaf && k_i.asid == inv.asid &&
                                       ((k_i.va ^ inv.va[35:9]) & lvl_mask(k_i.slvl)) == 27'h0;
                INV_TLB_VAA: k_inv[k] = !inv.leaf &&
                                        ((k_i.va ^ inv.va[35:9]) & lvl_mask(k_i.slvl)) == 27'h0;
                default: k_inv[k] = 1'b0;
            endcase
        end
    end

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            k_rr <= '0;
            for (int k = 0; k < WN; k++) begin
                kv[k] <= 1'b0;
                ke[k] <= '0;
            end
        end else begin
            if (wf_do) begin
                kv[wf_idx] <= 1'b1;
                ke[wf_idx] <= wf_new;
                if (!wf_found) k_rr <= (k_rr == KI_W'(WN - 1)) ? '0 : k_rr + KI_W'(1);
            end
            if (inv_valid)
                for (int k = 0; k < WN; k++)
                    if (k_inv[k]) kv[k] <= 1'b0;
        end
    end

    // ---- hit path: outcome of s1 ----------------------------------------------------------
    logic [1:0]   f_kind;
    always @(*) begin
        // SMMUEN=0: GBPA decides, no cache involved
        if (!smmuen) f_kind = gbpa_abort ? CTX_ABORT : CTX_BYPASS;
        else f_kind = c_ctx.kind;
    end

    logic         fx_miss, fx_range, fx_evt_valid;
    xrsp_t        fx_rsp;
    logic [EVENT_NBITS-1:0] fx_evt;

    smmu_xcalc #(.PA_BITS(PA_BITS)) u_hit (
        .req(s1),
        .c_kind(f_kind), .c_chk_ias(smmuen), .c_privcfg(c_ctx.privcfg),
        .c_instcfg(c_ctx.instcfg), .c_t0sz(c_ctx.t0sz), .c_tbi0(c_ctx.tbi0),
        .c_epd0(c_ctx.epd0), .c_wxn(c_ctx.wxn), .c_pan(c_ctx.pan), .c_a(c_ctx.a),
        .c_r(c_ctx.r), .c_mair(c_ctx.mair),
        .l_hit(l_hit), .leaf(l_leaf),
        .x_fault(8'h0), .x_record(1'b0), .x_fetch(EVENT_FETCHADDR_W'(0)),
        .miss(fx_miss), .range_fault(fx_range), .rsp(fx_rsp),
        .evt_valid(fx_evt_valid), .evt(fx_evt)
    );

    // ---- engines --------------------------------------------------------------------------
    for (genvar g = 0; g < N_WALK; g++) begin : g_walk
        logic [TAG_W-1:0] r_tag;
        xrsp_t            r_rsp;
        smmu_walker #(
            .TAG_W(TAG_W), .S1P(S1P), .CD2L(CD2L), .STALL_MODEL(STALL_MODEL),
            .TERM_MODEL(TERM_MODEL), .ST_LEVEL(ST_LEVEL), .SIDSIZE(SIDSIZE),
            .SSIDSIZE(SSIDSIZE), .OAS(OAS), .HTTU(HTTU), .ASID16(ASID16), .HYP(HYP),
            .ATS(ATS), .HAD(HAD), .WALK_N(WALK_N)
        ) u_w (
            .clk, .rst_n,
            .start(w_start[g]), .idle(w_idle[g]),
            .s_tag(s1_tag), .s_req(s1), .s_ctx_hit(c_hit), .s_ctx(c_ctx),
            .strtab_base, .strtab_cfg, .recinvsid,
            .inv(inv_valid), .busy_stale(w_stale[g]),
            .wl_req(w_wl_req[g]), .wl_gnt(w_wl_gnt[g]), .wl(wl[g]),
            .wl_hit(kl_hit), .wl_chain(kl_chain),
            .wf_valid(w_wf_valid[g]), .wf_ready(w_wf_ready[g]), .wf(wk[g]),
            .ar_valid(ar_valid[g]), .ar_ready(ar_ready[g]), .ar_addr(ar_addr[g*48 +: 48]),
            .ar_len(ar_len[g*8 +: 8]),
            .r_valid(r_valid[g]), .r_data, .r_resp, .r_last,
            .rsp_valid(w_rsp_valid[g]), .rsp_ready(w_rsp_ready[g]), .rsp_tag(r_tag),
            .rsp(r_rsp),
            .evt_valid(w_evt_valid[g]), .evt_ready(w_evt_ready[g]), .evt(w_evt[g]),
            .cf_valid(w_cf_valid[g]), .cf_ready(w_cf_ready[g]), .cf(wc[g]),
            .tf_valid(w_tf_valid[g]), .tf_ready(w_tf_ready[g]), .tf(wt[g])
        );
        assign w_rsp[g] = {r_tag, r_rsp};
    end

    // ---- response FIFO (2 entries) --------------------------------------------------------
    // Each entry carries one more bit than a response: whether a miss engine produced it.
    logic [RSP_W:0] rq0, rq1;
    logic [1:0]       rq_n;
    wire              rq_space = (rq_n != 2'd2);
    wire              rq_pop = t_rsp_valid && t_rsp_ready;

    // ---- stage-1 outcome ------------------------------------------------------------------
    wire need_walk = smmuen && (!c_hit || fx_miss);
    wire front_evt = !need_walk && fx_evt_valid;
    wire s1_adv = s1_v && (need_walk ? any_idle
                                     : (rq_space && !w_rsp_any &&
                                        (!front_evt || (evt_ready && !w_evt_any))));
    wire front_push = s1_v && s1_adv && !need_walk;
    wire eng_push = rq_space && w_rsp_any;
    wire [RSP_W:0] push_data = eng_push ? {w_rsp[rsp_sel], 1'b1} : {s1_tag, fx_rsp, 1'b0};
    wire do_push = eng_push || front_push;

    assign t_req_ready = !s1_v || s1_adv;
    always @(*) begin
        for (int i = 0; i < N_WALK; i++) begin
            w_start[i] = s1_adv && need_walk && (idle_sel == WI_W'(i));
            w_rsp_ready[i] = eng_push && (rsp_sel == WI_W'(i));
            w_evt_ready[i] = evt_ready && (evt_sel == WI_W'(i));
            w_cf_ready[i] = !inv_valid && (cf_sel == WI_W'(i));
            w_tf_ready[i] = !inv_valid && (tf_sel == WI_W'(i));
            w_wl_gnt[i] = w_wl_any && (wl_sel == WI_W'(i));
            w_wf_ready[i] = !inv_valid && (wf_sel == WI_W'(i));
        end
    end

    assign evt_valid = w_evt_any || (s1_v && s1_adv && front_evt);
    assign evt = w_evt_any ? w_evt[evt_sel] : fx_evt;

    assign t_rsp_valid = (rq_n != 2'd0);
    assign {t_rsp_tag, t_rsp, t_rsp_walked} = rq0;

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            s1_v <= 1'b0; s1_tag <= '0; s1 <= '0;
            rq0 <= '0; rq1 <= '0; rq_n <= 2'd0;
        end else begin
            if (t_req_valid && t_req_ready) begin
                s1_v <= 1'b1;
                s1_tag <= t_req_tag;
                s1 <= t_req;
            end else if (s1_adv) s1_v <= 1'b0;

            case ({do_push, rq_pop})
                2'b10: begin
                    if (rq_n == 2'd0) rq0 <= push_data; else rq1 <= push_data;
                    rq_n <= rq_n + 2'd1;
                end
                2'b01: begin
                    rq0 <= rq1;
                    rq_n <= rq_n - 2'd1;
                end
                2'b11: begin
                    if (rq_n == 2'd1) rq0 <= push_data;
                    else begin rq0 <= rq1; rq1 <= push_data; end
                end
                default: ;
            endcase
        end
    end

    assign sync_busy = (w_stale != '0);

    // fx_range only matters inside the engines (they must not walk an out-of-range input);
    // the hit path gets the same fault through fx_fault.
    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{fx_range};
    // verilator lint_on UNUSEDSIGNAL
endmodule

`default_nettype wire
