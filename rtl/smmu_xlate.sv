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

    // Translation port
    input  logic                 t_req_valid,
    output logic                 t_req_ready,
    input  logic [TAG_W-1:0]     t_req_tag,
    input  logic [31:0]          t_req_sid,
    input  logic                 t_req_ssv,
    input  logic [19:0]          t_req_ssid,
    input  logic [63:0]          t_req_addr,
    input  logic                 t_req_rnw,
    input  logic                 t_req_ind,
    input  logic                 t_req_pnu,
    output logic                 t_rsp_valid,
    input  logic                 t_rsp_ready,
    output logic [TAG_W-1:0]     t_rsp_tag,
    output logic [1:0]           t_rsp_result,
    output logic [51:0]          t_rsp_pa,
    output logic [2:0]           t_rsp_perm,
    output logic [7:0]           t_rsp_attr,
    output logic [1:0]           t_rsp_sh,
    output logic [7:0]           t_rsp_fault,
    output logic                 t_rsp_walked,  // served by a miss engine, not the hit path

    // Configuration
    input  logic                 smmuen,
    input  logic                 gbpa_abort,
    input  logic                 recinvsid,
    input  logic [47:0]          strtab_base,
    input  logic [31:0]          strtab_cfg,

    // Invalidation (from the command queue), one per cycle
    input  logic                 inv_valid,
    input  logic [2:0]           inv_op,
    input  logic [31:0]          inv_sid,
    input  logic [31:0]          inv_sid_mask,
    input  logic [19:0]          inv_ssid,
    input  logic [15:0]          inv_asid,
    input  logic [35:0]          inv_va,
    input  logic                 inv_leaf,      // TLBI_NH_VA/VAA Leaf=1: walk cache stays
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
    // Invalidation operations (smmu_cmdq drives them)
    localparam logic [2:0] INV_CFG_SID = 3'd1, INV_CFG_CD = 3'd2, INV_TLB_ALL = 3'd3,
                           INV_TLB_ASID = 3'd4, INV_TLB_VA = 3'd5, INV_TLB_VAA = 3'd6;
    localparam int CI_W = (CTX_N > 1) ? $clog2(CTX_N) : 1;
    localparam int TI_W = (TLB_N > 1) ? $clog2(TLB_N) : 1;
    localparam int WI_W = (N_WALK > 1) ? $clog2(N_WALK) : 1;
    localparam int WN = (WALK_N > 0) ? WALK_N : 1;   // array size (WALK_N = 0: never valid)
    localparam int KI_W = (WN > 1) ? $clog2(WN) : 1;
    localparam int RSP_W = TAG_W + 2 + 52 + 3 + 8 + 2 + 8;

    // ---- stage 1 --------------------------------------------------------------------------
    logic             s1_v;
    logic [TAG_W-1:0] s1_tag;
    logic [31:0]      s1_sid;
    logic             s1_ssv;
    logic [19:0]      s1_ssid;
    logic [63:0]      s1_addr;
    logic             s1_rnw, s1_ind, s1_pnu;

    // ---- context cache ------------------------------------------------------------------
    logic        cv [CTX_N];
    logic [31:0] ck_sid [CTX_N];
    logic        ck_ssv [CTX_N];
    logic [19:0] ck_ssid [CTX_N];
    logic [19:0] cc_cdidx [CTX_N];
    logic [1:0]  cc_kind [CTX_N];
    logic [1:0]  cc_privcfg [CTX_N];
    logic [1:0]  cc_instcfg [CTX_N];
    logic [15:0] cc_asid [CTX_N];
    logic [5:0]  cc_t0sz [CTX_N];
    logic        cc_tbi0 [CTX_N];
    logic        cc_epd0 [CTX_N];
    logic [2:0]  cc_ips [CTX_N];
    logic        cc_affd [CTX_N];
    logic        cc_wxn [CTX_N];
    logic        cc_pan [CTX_N];
    logic        cc_a [CTX_N];
    logic        cc_r [CTX_N];
    logic        cc_had0 [CTX_N];
    logic [63:0] cc_mair [CTX_N];
    logic [43:0] cc_ttb0 [CTX_N];
    logic [CI_W-1:0] c_rr;

    // ---- IOTLB ----------------------------------------------------------------------------
    logic        tv [TLB_N];
    logic [15:0] tt_asid [TLB_N];
    logic        tt_global [TLB_N];
    logic [1:0]  tt_size [TLB_N];
    logic [35:0] tt_va [TLB_N];
    logic [35:0] tt_oa [TLB_N];
    logic [2:0]  tt_attrindx [TLB_N];
    logic [1:0]  tt_sh [TLB_N];
    logic        tt_ro [TLB_N];
    logic        tt_el0 [TLB_N];
    logic        tt_uxn [TLB_N];
    logic        tt_pxn [TLB_N];
    logic [TI_W-1:0] t_rr;

    // ---- walk cache ------------------------------------------------------------------------
    logic        kv [WN];
    logic [15:0] kk_asid [WN];
    logic [1:0]  kk_slvl [WN];
    logic [1:0]  kk_lvl [WN];
    logic [26:0] kk_va [WN];        // VA[47:21], bits below the level's span zero
    logic [35:0] kk_table [WN];
    logic [1:0]  kk_ap [WN];
    logic        kk_uxn [WN];
    logic        kk_pxn [WN];
    logic [15:0] kk_hi [WN];
    logic [KI_W-1:0] k_rr;

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

    function automatic logic [35:0] va_mask(input logic [1:0] size);
        case (size)
            2'd1: va_mask = {27'h7FF_FFFF, 9'h0};
            2'd2: va_mask = {18'h3_FFFF, 18'h0};
            default: va_mask = {36{1'b1}};
        endcase
    endfunction

    // ---- hit-path lookup (combinational on s1) -------------------------------------------
    logic            c_hit;
    logic [CI_W-1:0] c_sel;
    logic            l_hit;
    logic [TI_W-1:0] l_sel;
    logic [1:0]      f_kind;
    logic [15:0]     f_asid;

    always @(*) begin
        c_hit = 1'b0;
        c_sel = '0;
        for (int i = CTX_N - 1; i >= 0; i--) begin
            if (cv[i] && ck_sid[i] == s1_sid && ck_ssv[i] == s1_ssv &&
                (!s1_ssv || ck_ssid[i] == s1_ssid)) begin
                c_hit = 1'b1;
                c_sel = CI_W'(i);
            end
        end
        f_asid = cc_asid[c_sel];
        // SMMUEN=0: GBPA decides, no cache involved
        if (!smmuen) f_kind = gbpa_abort ? 2'd0 : 2'd1;
        else f_kind = cc_kind[c_sel];
        l_hit = 1'b0;
        l_sel = '0;
        for (int j = TLB_N - 1; j >= 0; j--) begin
            if (tv[j] && (tt_global[j] || tt_asid[j] == f_asid) &&
                ((tt_va[j] ^ s1_addr[47:12]) & va_mask(tt_size[j])) == 36'h0) begin
                l_hit = 1'b1;
                l_sel = TI_W'(j);
            end
        end
    end

    logic         fx_miss, fx_range, fx_evt_valid;
    logic [1:0]   fx_result, fx_sh;
    logic [51:0]  fx_pa;
    logic [2:0]   fx_perm;
    logic [7:0]   fx_attr, fx_fault;
    logic [EVENT_NBITS-1:0] fx_evt;

    smmu_xcalc #(.PA_BITS(PA_BITS)) u_hit (
        .addr(s1_addr), .rnw(s1_rnw), .ind(s1_ind), .pnu(s1_pnu), .sid(s1_sid),
        .ssv(s1_ssv), .ssid(s1_ssid),
        .c_kind(f_kind), .c_chk_ias(smmuen), .c_privcfg(cc_privcfg[c_sel]),
        .c_instcfg(cc_instcfg[c_sel]),
        .c_t0sz(cc_t0sz[c_sel]), .c_tbi0(cc_tbi0[c_sel]), .c_epd0(cc_epd0[c_sel]),
        .c_wxn(cc_wxn[c_sel]), .c_pan(cc_pan[c_sel]), .c_a(cc_a[c_sel]), .c_r(cc_r[c_sel]),
        .c_mair(cc_mair[c_sel]),
        .l_hit(l_hit), .l_oa(tt_oa[l_sel]), .l_size(tt_size[l_sel]),
        .l_attrindx(tt_attrindx[l_sel]), .l_sh(tt_sh[l_sel]), .l_ro(tt_ro[l_sel]),
        .l_el0(tt_el0[l_sel]), .l_uxn(tt_uxn[l_sel]), .l_pxn(tt_pxn[l_sel]),
        .x_fault(8'h0), .x_record(1'b0), .x_fetch(EVENT_FETCHADDR_W'(0)),
        .miss(fx_miss), .range_fault(fx_range), .result(fx_result), .pa(fx_pa),
        .perm(fx_perm), .attr(fx_attr), .sh(fx_sh), .fault(fx_fault),
        .evt_valid(fx_evt_valid), .evt(fx_evt)
    );

    // ---- engines --------------------------------------------------------------------------
    logic [N_WALK-1:0]  w_idle, w_start, w_stale;
    logic [N_WALK-1:0]  w_rsp_valid, w_rsp_ready, w_evt_valid, w_evt_ready;
    logic [N_WALK-1:0]  w_cf_valid, w_cf_ready, w_tf_valid, w_tf_ready;
    logic [N_WALK-1:0]  w_wl_req, w_wl_gnt, w_wf_valid, w_wf_ready;
    // walk-cache lookups and fills
    logic [15:0] wl_asid [N_WALK];
    logic [1:0]  wl_slvl [N_WALK];
    logic [26:0] wl_va [N_WALK];
    logic [2:0]  wl_ips [N_WALK];
    logic [15:0] wk_asid [N_WALK];
    logic [1:0]  wk_slvl [N_WALK];
    logic [1:0]  wk_lvl [N_WALK];
    logic [26:0] wk_va [N_WALK];
    logic [35:0] wk_table [N_WALK];
    logic [1:0]  wk_ap [N_WALK];
    logic        wk_uxn [N_WALK];
    logic        wk_pxn [N_WALK];
    logic [15:0] wk_hi [N_WALK];
    logic            kl_hit;
    logic [KI_W-1:0] kl_sel;
    logic [RSP_W-1:0]   w_rsp [N_WALK];
    logic [EVENT_NBITS-1:0] w_evt [N_WALK];
    // context fills
    logic [31:0] wc_sid [N_WALK];
    logic        wc_ssv [N_WALK];
    logic [19:0] wc_ssid [N_WALK];
    logic [19:0] wc_cdidx [N_WALK];
    logic [1:0]  wc_kind [N_WALK];
    logic [1:0]  wc_privcfg [N_WALK];
    logic [1:0]  wc_instcfg [N_WALK];
    logic [15:0] wc_asid [N_WALK];
    logic [5:0]  wc_t0sz [N_WALK];
    logic        wc_tbi0 [N_WALK];
    logic        wc_epd0 [N_WALK];
    logic [2:0]  wc_ips [N_WALK];
    logic        wc_affd [N_WALK];
    logic        wc_wxn [N_WALK];
    logic        wc_pan [N_WALK];
    logic        wc_a [N_WALK];
    logic        wc_r [N_WALK];
    logic        wc_had0 [N_WALK];
    logic [63:0] wc_mair [N_WALK];
    logic [43:0] wc_ttb0 [N_WALK];
    // IOTLB fills
    logic [15:0] wt_asid [N_WALK];
    logic        wt_global [N_WALK];
    logic [1:0]  wt_size [N_WALK];
    logic [35:0] wt_va [N_WALK];
    logic [35:0] wt_oa [N_WALK];
    logic [2:0]  wt_attrindx [N_WALK];
    logic [1:0]  wt_sh [N_WALK];
    logic        wt_ro [N_WALK];
    logic        wt_el0 [N_WALK];
    logic        wt_uxn [N_WALK];
    logic        wt_pxn [N_WALK];

    for (genvar g = 0; g < N_WALK; g++) begin : g_walk
        logic [TAG_W-1:0] r_tag;
        logic [1:0]  r_result, r_sh;
        logic [51:0] r_pa;
        logic [2:0]  r_perm;
        logic [7:0]  r_attr, r_fault;
        smmu_walker #(
            .TAG_W(TAG_W), .S1P(S1P), .CD2L(CD2L), .STALL_MODEL(STALL_MODEL),
            .TERM_MODEL(TERM_MODEL), .ST_LEVEL(ST_LEVEL), .SIDSIZE(SIDSIZE),
            .SSIDSIZE(SSIDSIZE), .OAS(OAS), .HTTU(HTTU), .ASID16(ASID16), .HYP(HYP),
            .ATS(ATS), .HAD(HAD), .WALK_N(WALK_N)
        ) u_w (
            .clk, .rst_n,
            .start(w_start[g]), .idle(w_idle[g]),
            .s_tag(s1_tag), .s_sid(s1_sid), .s_ssv(s1_ssv), .s_ssid(s1_ssid),
            .s_addr(s1_addr), .s_rnw(s1_rnw), .s_ind(s1_ind), .s_pnu(s1_pnu),
            .s_ctx_hit(c_hit), .s_kind(cc_kind[c_sel]), .s_privcfg(cc_privcfg[c_sel]),
            .s_instcfg(cc_instcfg[c_sel]), .s_asid(cc_asid[c_sel]), .s_t0sz(cc_t0sz[c_sel]),
            .s_tbi0(cc_tbi0[c_sel]), .s_epd0(cc_epd0[c_sel]), .s_ips(cc_ips[c_sel]),
            .s_affd(cc_affd[c_sel]), .s_wxn(cc_wxn[c_sel]), .s_pan(cc_pan[c_sel]),
            .s_a(cc_a[c_sel]), .s_r(cc_r[c_sel]), .s_had0(cc_had0[c_sel]),
            .s_mair(cc_mair[c_sel]), .s_ttb0(cc_ttb0[c_sel]),
            .strtab_base, .strtab_cfg, .recinvsid,
            .inv(inv_valid), .busy_stale(w_stale[g]),
            .wl_req(w_wl_req[g]), .wl_gnt(w_wl_gnt[g]), .wl_asid(wl_asid[g]),
            .wl_slvl(wl_slvl[g]), .wl_va(wl_va[g]), .wl_ips(wl_ips[g]),
            .wl_hit(kl_hit), .wl_lvl(kk_lvl[kl_sel]), .wl_table(kk_table[kl_sel]),
            .wl_ap(kk_ap[kl_sel]), .wl_uxn(kk_uxn[kl_sel]), .wl_pxn(kk_pxn[kl_sel]),
            .wl_hi(kk_hi[kl_sel]),
            .wf_valid(w_wf_valid[g]), .wf_ready(w_wf_ready[g]), .wf_asid(wk_asid[g]),
            .wf_slvl(wk_slvl[g]), .wf_lvl(wk_lvl[g]), .wf_va(wk_va[g]),
            .wf_table(wk_table[g]), .wf_ap(wk_ap[g]), .wf_uxn(wk_uxn[g]), .wf_pxn(wk_pxn[g]),
            .wf_hi(wk_hi[g]),
            .ar_valid(ar_valid[g]), .ar_ready(ar_ready[g]), .ar_addr(ar_addr[g*48 +: 48]),
            .ar_len(ar_len[g*8 +: 8]),
            .r_valid(r_valid[g]), .r_data, .r_resp, .r_last,
            .rsp_valid(w_rsp_valid[g]), .rsp_ready(w_rsp_ready[g]), .rsp_tag(r_tag),
            .rsp_result(r_result), .rsp_pa(r_pa), .rsp_perm(r_perm), .rsp_attr(r_attr),
            .rsp_sh(r_sh), .rsp_fault(r_fault),
            .evt_valid(w_evt_valid[g]), .evt_ready(w_evt_ready[g]), .evt(w_evt[g]),
            .cf_valid(w_cf_valid[g]), .cf_ready(w_cf_ready[g]), .cf_sid(wc_sid[g]),
            .cf_ssv(wc_ssv[g]), .cf_ssid(wc_ssid[g]), .cf_cdidx(wc_cdidx[g]),
            .cf_kind(wc_kind[g]), .cf_privcfg(wc_privcfg[g]), .cf_instcfg(wc_instcfg[g]),
            .cf_asid(wc_asid[g]), .cf_t0sz(wc_t0sz[g]), .cf_tbi0(wc_tbi0[g]),
            .cf_epd0(wc_epd0[g]), .cf_ips(wc_ips[g]), .cf_affd(wc_affd[g]),
            .cf_wxn(wc_wxn[g]), .cf_pan(wc_pan[g]), .cf_a(wc_a[g]), .cf_r(wc_r[g]),
            .cf_had0(wc_had0[g]), .cf_mair(wc_mair[g]), .cf_ttb0(wc_ttb0[g]),
            .tf_valid(w_tf_valid[g]), .tf_ready(w_tf_ready[g]), .tf_asid(wt_asid[g]),
            .tf_global(wt_global[g]), .tf_size(wt_size[g]), .tf_va(wt_va[g]),
            .tf_oa(wt_oa[g]), .tf_attrindx(wt_attrindx[g]), .tf_sh(wt_sh[g]),
            .tf_ro(wt_ro[g]), .tf_el0(wt_el0[g]), .tf_uxn(wt_uxn[g]), .tf_pxn(wt_pxn[g])
        );
        assign w_rsp[g] = {r_tag, r_result, r_pa, r_perm, r_attr, r_sh, r_fault};
    end

    // ---- arbitration (fixed priority, lowest engine first) --------------------------------
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

    // ---- walk-cache lookup (one engine per cycle; the deepest matching chain) ------------
    logic [1:0] kl_lvl;
    always @(*) begin
        kl_hit = 1'b0;
        kl_sel = '0;
        kl_lvl = '0;
        for (int k = 0; k < WN; k++) begin
            if (WALK_N != 0 && kv[k] && kk_asid[k] == wl_asid[wl_sel] &&
                kk_slvl[k] == wl_slvl[wl_sel] &&
                ((kk_va[k] ^ wl_va[wl_sel]) & lvl_mask(kk_lvl[k])) == 27'h0 &&
                (kk_hi[k] & ips_hi_mask(wl_ips[wl_sel])) == 16'h0 &&
                (!kl_hit || kk_lvl[k] > kl_lvl)) begin
                kl_hit = 1'b1;
                kl_sel = KI_W'(k);
                kl_lvl = kk_lvl[k];
            end
        end
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
    wire [RSP_W:0] push_data = eng_push ? {w_rsp[rsp_sel], 1'b1}
                                        : {s1_tag, fx_result, fx_pa, fx_perm, fx_attr,
                                           fx_sh, fx_fault, 1'b0};
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
    assign {t_rsp_tag, t_rsp_result, t_rsp_pa, t_rsp_perm, t_rsp_attr, t_rsp_sh,
            t_rsp_fault, t_rsp_walked} = rq0;

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            s1_v <= 1'b0; s1_tag <= '0; s1_sid <= '0; s1_ssv <= 1'b0; s1_ssid <= '0;
            s1_addr <= '0; s1_rnw <= 1'b0; s1_ind <= 1'b0; s1_pnu <= 1'b0;
            rq0 <= '0; rq1 <= '0; rq_n <= 2'd0;
        end else begin
            if (t_req_valid && t_req_ready) begin
                s1_v <= 1'b1;
                s1_tag <= t_req_tag; s1_sid <= t_req_sid; s1_ssv <= t_req_ssv;
                s1_ssid <= t_req_ssid; s1_addr <= t_req_addr; s1_rnw <= t_req_rnw;
                s1_ind <= t_req_ind; s1_pnu <= t_req_pnu;
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

    // ---- cache maintenance: fills and invalidations ---------------------------------------
    logic            cf_do, tf_do;
    logic [CI_W-1:0] cf_idx;
    logic [TI_W-1:0] tf_idx;
    logic            cf_found, tf_found;
    logic            wf_do, wf_found;
    logic [KI_W-1:0] wf_idx;
    logic [26:0]     wf_key;
    always @(*) begin
        cf_do = w_cf_any && !inv_valid;
        tf_do = w_tf_any && !inv_valid;
        // refill an entry with the same key, else a free one, else round robin
        cf_found = 1'b0; cf_idx = c_rr;
        for (int i = CTX_N - 1; i >= 0; i--)
            if (!cv[i]) begin cf_found = 1'b1; cf_idx = CI_W'(i); end
        for (int i = CTX_N - 1; i >= 0; i--)
            if (cv[i] && ck_sid[i] == wc_sid[cf_sel] && ck_ssv[i] == wc_ssv[cf_sel] &&
                ck_ssid[i] == wc_ssid[cf_sel]) begin cf_found = 1'b1; cf_idx = CI_W'(i); end
        tf_found = 1'b0; tf_idx = t_rr;
        for (int j = TLB_N - 1; j >= 0; j--)
            if (!tv[j]) begin tf_found = 1'b1; tf_idx = TI_W'(j); end
        // walk cache: same key (ASID, start level, level, region) else free else round robin
        wf_do = (WALK_N != 0) && w_wf_any && !inv_valid;
        wf_key = wk_va[wf_sel] & lvl_mask(wk_lvl[wf_sel]);
        wf_found = 1'b0; wf_idx = k_rr;
        for (int k = WN - 1; k >= 0; k--)
            if (!kv[k]) begin wf_found = 1'b1; wf_idx = KI_W'(k); end
        for (int k = WN - 1; k >= 0; k--)
            if (kv[k] && kk_asid[k] == wk_asid[wf_sel] && kk_slvl[k] == wk_slvl[wf_sel] &&
                kk_lvl[k] == wk_lvl[wf_sel] && kk_va[k] == wf_key) begin
                wf_found = 1'b1; wf_idx = KI_W'(k);
            end
    end

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            c_rr <= '0;
            t_rr <= '0;
            k_rr <= '0;
            for (int k = 0; k < WN; k++) begin
                kv[k] <= 1'b0; kk_asid[k] <= '0; kk_slvl[k] <= '0; kk_lvl[k] <= '0;
                kk_va[k] <= '0; kk_table[k] <= '0; kk_ap[k] <= '0; kk_uxn[k] <= 1'b0;
                kk_pxn[k] <= 1'b0; kk_hi[k] <= '0;
            end
            // Everything is reset, not only the valid bits, so no X ever leaves a cache.
            for (int i = 0; i < CTX_N; i++) begin
                cv[i] <= 1'b0; ck_sid[i] <= '0; ck_ssv[i] <= 1'b0; ck_ssid[i] <= '0;
                cc_cdidx[i] <= '0; cc_kind[i] <= '0; cc_privcfg[i] <= '0; cc_instcfg[i] <= '0;
                cc_asid[i] <= '0; cc_t0sz[i] <= '0; cc_tbi0[i] <= 1'b0; cc_epd0[i] <= 1'b0;
                cc_ips[i] <= '0; cc_affd[i] <= 1'b0; cc_wxn[i] <= 1'b0; cc_pan[i] <= 1'b0;
                cc_a[i] <= 1'b0; cc_r[i] <= 1'b0; cc_had0[i] <= 1'b0; cc_mair[i] <= '0;
                cc_ttb0[i] <= '0;
            end
            for (int j = 0; j < TLB_N; j++) begin
                tv[j] <= 1'b0; tt_asid[j] <= '0; tt_global[j] <= 1'b0; tt_size[j] <= '0;
                tt_va[j] <= '0; tt_oa[j] <= '0; tt_attrindx[j] <= '0; tt_sh[j] <= '0;
                tt_ro[j] <= 1'b0; tt_el0[j] <= 1'b0; tt_uxn[j] <= 1'b0; tt_pxn[j] <= 1'b0;
            end
        end else begin
            if (cf_do) begin
                cv[cf_idx] <= 1'b1;
                ck_sid[cf_idx] <= wc_sid[cf_sel];
                ck_ssv[cf_idx] <= wc_ssv[cf_sel];
                ck_ssid[cf_idx] <= wc_ssid[cf_sel];
                cc_cdidx[cf_idx] <= wc_cdidx[cf_sel];
                cc_kind[cf_idx] <= wc_kind[cf_sel];
                cc_privcfg[cf_idx] <= wc_privcfg[cf_sel];
                cc_instcfg[cf_idx] <= wc_instcfg[cf_sel];
                cc_asid[cf_idx] <= wc_asid[cf_sel];
                cc_t0sz[cf_idx] <= wc_t0sz[cf_sel];
                cc_tbi0[cf_idx] <= wc_tbi0[cf_sel];
                cc_epd0[cf_idx] <= wc_epd0[cf_sel];
                cc_ips[cf_idx] <= wc_ips[cf_sel];
                cc_affd[cf_idx] <= wc_affd[cf_sel];
                cc_wxn[cf_idx] <= wc_wxn[cf_sel];
                cc_pan[cf_idx] <= wc_pan[cf_sel];
                cc_a[cf_idx] <= wc_a[cf_sel];
                cc_r[cf_idx] <= wc_r[cf_sel];
                cc_had0[cf_idx] <= wc_had0[cf_sel];
                cc_mair[cf_idx] <= wc_mair[cf_sel];
                cc_ttb0[cf_idx] <= wc_ttb0[cf_sel];
                if (!cf_found) c_rr <= c_rr + CI_W'(1);
            end
            if (tf_do) begin
                tv[tf_idx] <= 1'b1;
                tt_asid[tf_idx] <= wt_asid[tf_sel];
                tt_global[tf_idx] <= wt_global[tf_sel];
                tt_size[tf_idx] <= wt_size[tf_sel];
                tt_va[tf_idx] <= wt_va[tf_sel] & va_mask(wt_size[tf_sel]);
                tt_oa[tf_idx] <= wt_oa[tf_sel];
                tt_attrindx[tf_idx] <= wt_attrindx[tf_sel];
                tt_sh[tf_idx] <= wt_sh[tf_sel];
                tt_ro[tf_idx] <= wt_ro[tf_sel];
                tt_el0[tf_idx] <= wt_el0[tf_sel];
                tt_uxn[tf_idx] <= wt_uxn[tf_sel];
                tt_pxn[tf_idx] <= wt_pxn[tf_sel];
                if (!tf_found) t_rr <= t_rr + TI_W'(1);
            end
            if (wf_do) begin
                kv[wf_idx] <= 1'b1;
                kk_asid[wf_idx] <= wk_asid[wf_sel];
                kk_slvl[wf_idx] <= wk_slvl[wf_sel];
                kk_lvl[wf_idx] <= wk_lvl[wf_sel];
                kk_va[wf_idx] <= wf_key;
                kk_table[wf_idx] <= wk_table[wf_sel];
                kk_ap[wf_idx] <= wk_ap[wf_sel];
                kk_uxn[wf_idx] <= wk_uxn[wf_sel];
                kk_pxn[wf_idx] <= wk_pxn[wf_sel];
                kk_hi[wf_idx] <= wk_hi[wf_sel];
                if (!wf_found) k_rr <= (k_rr == KI_W'(WN - 1)) ? '0 : k_rr + KI_W'(1);
            end
            if (inv_valid) begin
                // Walk cache (reference §5.2, models/smmu/caches.py): a chain depends on every
                // descriptor from its start level down, so a VA invalidation with Leaf=0 drops
                // it when the VA lies in the region of the chain's first (start-level)
                // descriptor; Leaf=1 keeps it. Entries are never global. CFGI_* leave it.
                for (int k = 0; k < WN; k++) begin
                    case (inv_op)
                        INV_TLB_ALL: kv[k] <= 1'b0;
                        INV_TLB_ASID: if (kk_asid[k] == inv_asid) kv[k] <= 1'b0;
                        INV_TLB_VA:
                            if (!inv_leaf && kk_asid[k] == inv_asid &&
                                ((kk_va[k] ^ inv_va[35:9]) & lvl_mask(kk_slvl[k])) == 27'h0)
                                kv[k] <= 1'b0;
                        INV_TLB_VAA:
                            if (!inv_leaf &&
                                ((kk_va[k] ^ inv_va[35:9]) & lvl_mask(kk_slvl[k])) == 27'h0)
                                kv[k] <= 1'b0;
                        default: ;
                    endcase
                end
                for (int i = 0; i < CTX_N; i++) begin
                    case (inv_op)
                        INV_CFG_SID:
                            if (((ck_sid[i] ^ inv_sid) & inv_sid_mask) == 32'h0) cv[i] <= 1'b0;
                        INV_CFG_CD:
                            if (ck_sid[i] == inv_sid && cc_cdidx[i] == inv_ssid) cv[i] <= 1'b0;
                        default: ;
                    endcase
                end
                for (int j = 0; j < TLB_N; j++) begin
                    case (inv_op)
                        INV_TLB_ALL: tv[j] <= 1'b0;
                        INV_TLB_ASID: if (!tt_global[j] && tt_asid[j] == inv_asid) tv[j] <= 1'b0;
                        INV_TLB_VA:
                            if ((tt_global[j] || tt_asid[j] == inv_asid) &&
                                ((tt_va[j] ^ inv_va) & va_mask(tt_size[j])) == 36'h0)
                                tv[j] <= 1'b0;
                        INV_TLB_VAA:
                            if (((tt_va[j] ^ inv_va) & va_mask(tt_size[j])) == 36'h0)
                                tv[j] <= 1'b0;
                        default: ;
                    endcase
                end
            end
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
