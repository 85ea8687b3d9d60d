// Translation unit: the TBU-side port, stage 1 (the hit path), N_WALK miss engines
// (smmu_walker), the response FIFO, and the arbitration of what the engines produce. The
// caches are modules of their own: smmu_cfg_cache (configuration cache), smmu_iotlb and
// smmu_walk_cache.
//
// Hit path, per cycle (docs/rtl.md):
//   cycle 0  t_req handshake; the request is registered into stage 1 (s1).
//   cycle 1  s1 looks up the configuration cache (key StreamID, SSV, SubstreamID) and, with
//            the context's ASID, the IOTLB; smmu_xcalc turns (request, context, leaf) into the
//            outcome. A complete outcome is presented on t_rsp in this cycle if the 2-entry
//            response FIFO is empty (else pushed behind it), and its event record goes to the
//            event queue; anything else is handed to an idle miss engine. t_rsp_* depends on
//            registers only (s1, the FIFO, the engines), never on t_req_*.
// s1 advances every cycle unless its outcome cannot leave (response FIFO full, event FIFO
// full, or a miss with neither a merge slot nor an idle engine); t_req_ready is `s1 empty
// or s1 advances`, and no parked miss re-entering stage 1 (with a stall model also: no stall
// retry entering, and room for every transaction in flight to stall), computed from
// registered state only, so it never depends on t_req_valid or t_rsp_ready.
//
// Engines finish out of order; their responses share the response FIFO with the hit path
// (engines first, lowest index first), their records share the event port, their fills share
// one configuration-cache, one IOTLB and one walk-cache fill port per cycle (lowest engine
// first). A cycle with an invalidation accepts no fill: the filling engine turns stale at the
// same edge. Engines look the walk cache up in WINIT through one shared port (lowest engine
// first) and fill it in DONE; it is not on the hit path.
`default_nettype none

module smmu_xlate
    import smmu_arch_pkg::*;
    import smmu_types_pkg::*;
#(
    parameter int TAG_W = 8,
    parameter int N_WALK = 4,
    parameter int CTX_N = 64,
    parameter int TLB_N = 256,
    parameter int TLB_WAYS = 4,
    parameter int TLB_BLK_N = 16,
    parameter int WALK_N = 16,
    parameter int WALK_UP_N = 8,
    parameter int MERGE_N = 16,
    parameter int S1P = 1,
    parameter int CD2L = 1,
    parameter int STALL_MODEL = 1,
    parameter int STALL_MAX = 0,
    parameter int TERM_MODEL = 0,
    parameter int ST_LEVEL = 1,
    parameter int SIDSIZE = 16,
    parameter int SSIDSIZE = 16,
    parameter int OAS = 5,
    parameter int HTTU = 0,
    parameter int ASID16 = 1,
    parameter int HYP = 0,
    parameter int ATS = 0,
    parameter int HAD = 0,
    localparam int WI_W = (N_WALK > 1) ? $clog2(N_WALK) : 1,
    localparam int SL_W = (STALL_MAX > 1) ? $clog2(STALL_MAX) : 1,
    localparam int MI_W = (MERGE_N > 1) ? $clog2(MERGE_N) : 1
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
    output logic                 t_rsp_walked,  // a miss: served by an engine, or parked behind one

    // Configuration
    input  logic                 smmuen,
    input  logic                 gbpa_abort,
    input  logic                 atschk,     // CR0.ATSCHK: ATS-Translated traffic checked
    input  logic                 recinvsid,
    input  logic [47:0]          strtab_base,
    input  logic [31:0]          strtab_cfg,

    // Invalidation (from the command queue or the DVM port), one per cycle
    input  logic                 inv_valid,
    input  inv_t                 inv,
    output logic                 sync_busy,     // a stale engine is still running

    // Event records; a stall record carries its slot and is reported back (smmu_evtq)
    output logic                 evt_valid,
    input  logic                 evt_ready,
    output logic [EVENT_NBITS-1:0] evt,
    output logic                 evt_stall,
    output logic [SL_W-1:0]      evt_slot,
    input  logic                 st_done,
    input  logic                 st_drop,
    input  logic [SL_W-1:0]      st_slot,
    input  logic                 evtq_writable,

    // Stall commands (smmu_cmdq)
    input  logic                 resume_valid,
    input  logic                 term_valid,
    input  logic [31:0]          stall_sid,
    input  logic [CMD_STAG_W-1:0] stall_stag,
    input  logic                 stall_ac,
    input  logic                 stall_ab,

    // Memory reads, one port per engine (flattened; the top arbitrates)
    output logic [N_WALK-1:0]    ar_valid,
    input  logic [N_WALK-1:0]    ar_ready,
    output logic [N_WALK*48-1:0] ar_addr,
    output logic [N_WALK*8-1:0]  ar_len,
    output logic [N_WALK-1:0]    ar_lock,
    input  logic [N_WALK-1:0]    r_valid,
    input  logic [63:0]          r_data,
    input  logic [1:0]           r_resp,
    input  logic                 r_last,

    // HTTU descriptor updates: one engine's exclusive write at a time, its ID the engine's
    output logic                 uw_awvalid,
    input  logic                 uw_awready,
    output logic [47:0]          uw_awaddr,
    output logic [WI_W-1:0]      uw_id,
    output logic                 uw_wvalid,
    input  logic                 uw_wready,
    output logic [63:0]          uw_wdata,
    input  logic                 uw_bvalid,
    input  logic [1:0]           uw_bresp
);
    localparam int PA_BITS = oas_bits(IDR5_OAS_W'(OAS));
    localparam int RSP_W = TAG_W + $bits(xrsp_t);

    // ---- stage 1 --------------------------------------------------------------------------
    logic             s1_v;
    logic             s1_merged;    // a parked miss: its response counts as walked
    logic [TAG_W-1:0] s1_tag;
    xreq_t            s1;

    // ---- engines and their arbitration (fixed priority, lowest engine first) -------------
    logic [N_WALK-1:0]  w_idle, w_start, w_stale, w_ctx_fetch;
    logic [N_WALK-1:0]  w_rsp_valid, w_rsp_ready, w_evt_valid, w_evt_ready;
    logic [N_WALK-1:0]  w_stall, w_rsp_norm, w_rsp_stl;  // outcome to the FIFO / stall unit
    xreq_t                  w_req [N_WALK];
    logic [N_WALK-1:0]  w_cf_valid, w_cf_ready, w_tf_valid, w_tf_ready;
    logic [N_WALK-1:0]  w_wl_req, w_wl_gnt, w_wf_valid, w_wf_ready;
    logic [RSP_W-1:0]       w_rsp [N_WALK];    // {tag, response}
    logic [EVENT_NBITS-1:0] w_evt [N_WALK];
    ctx_entry_t             wc [N_WALK];       // configuration-cache fills
    tlb_entry_t             wt [N_WALK];       // IOTLB fills
    walk_req_t              wl [N_WALK];       // walk-cache lookups
    walk_fill_t             wk [N_WALK];       // walk-cache fills

    logic              any_idle, w_rsp_any, w_evt_any, w_cf_any, w_tf_any, w_wl_any, w_wf_any;
    logic              w_stl_any;

    // ---- same-page and same-context miss merging ------------------------------------------
    // A miss to the page (VA[63:12]) and context (StreamID, SSV, SubstreamID) of a busy
    // engine's request parks in a merge slot instead of walking again; so does a miss in the
    // configuration cache to the context a busy engine is fetching (its request missed there
    // too). When that engine goes idle (its response and fills done), the parked request
    // enters stage 1 again, as a new arrival would, and finds the IOTLB (or the
    // configuration cache, and the walk cache) filled, or walks itself if the engine filled
    // nothing. Merging only ever delays a request behind an engine's work: the parked request
    // has used no cache yet, so no invalidation can make it stale.
    logic                 m_take;       // s1's miss parks this cycle
    logic                 m_retry_valid, m_retry_ready;
    logic [TAG_W-1:0]     m_retry_tag;
    xreq_t                m_retry_req;
    logic [MI_W:0]        m_busy_n;     // parked requests (transactions in flight)
    logic [WI_W-1:0]   idle_sel, rsp_sel, evt_sel, cf_sel, tf_sel, wl_sel, wf_sel, stl_sel;
    assign w_rsp_norm = w_rsp_valid & ~w_stall;
    assign w_rsp_stl = w_rsp_valid & w_stall;
    always @(*) begin
        any_idle = 1'b0; idle_sel = '0;
        w_rsp_any = 1'b0; rsp_sel = '0;
        w_stl_any = 1'b0; stl_sel = '0;
        w_evt_any = 1'b0; evt_sel = '0;
        w_cf_any = 1'b0; cf_sel = '0;
        w_tf_any = 1'b0; tf_sel = '0;
        w_wl_any = 1'b0; wl_sel = '0;
        w_wf_any = 1'b0; wf_sel = '0;
        for (int i = N_WALK - 1; i >= 0; i--) begin
            if (w_idle[i]) begin any_idle = 1'b1; idle_sel = WI_W'(i); end
            if (w_rsp_norm[i]) begin w_rsp_any = 1'b1; rsp_sel = WI_W'(i); end
            if (w_rsp_stl[i]) begin w_stl_any = 1'b1; stl_sel = WI_W'(i); end
            if (w_evt_valid[i]) begin w_evt_any = 1'b1; evt_sel = WI_W'(i); end
            if (w_cf_valid[i]) begin w_cf_any = 1'b1; cf_sel = WI_W'(i); end
            if (w_tf_valid[i]) begin w_tf_any = 1'b1; tf_sel = WI_W'(i); end
            if (w_wl_req[i]) begin w_wl_any = 1'b1; wl_sel = WI_W'(i); end
            if (w_wf_valid[i]) begin w_wf_any = 1'b1; wf_sel = WI_W'(i); end
        end
    end

    // ---- caches ---------------------------------------------------------------------------
    // Each offers one fill port; the lowest engine with a fill uses it (cf_sel, tf_sel,
    // wf_sel), and no cache accepts a fill in a cycle with an invalidation.
    logic        c_hit, l_hit, kl_hit;
    logic        cf_ready, tf_ready, wf_ready;
    ctx_t        c_ctx;
    leaf_t       l_leaf;
    walk_chain_t kl_chain;
    ctx_key_t    s1_key;
    assign s1_key.sid = s1.sid;
    assign s1_key.ssv = s1.ssv;
    assign s1_key.ssid = s1.ssid;

    // configuration cache: looked up by stage 1
    smmu_cfg_cache #(.CTX_N(CTX_N)) u_cfg (
        .clk, .rst_n,
        .lk_key(s1_key), .lk_hit(c_hit), .lk_ctx(c_ctx),
        .fill_valid(w_cf_any), .fill_ready(cf_ready), .fill(wc[cf_sel]),
        .inv_valid, .inv
    );

    // IOTLB: looked up by stage 1 with the ASID of its context
    smmu_iotlb #(.TLB_N(TLB_N), .TLB_WAYS(TLB_WAYS), .TLB_BLK_N(TLB_BLK_N)) u_tlb (
        .clk, .rst_n,
        .lk_asid(c_ctx.asid), .lk_aset(c_ctx.aset), .lk_upper(s1.addr[55]),
        .lk_va(s1.addr[47:12]), .lk_hit(l_hit), .lk_leaf(l_leaf),
        .fill_valid(w_tf_any), .fill_ready(tf_ready), .fill(wt[tf_sel]),
        .inv_valid, .inv
    );

    // walk cache: looked up by the engine granted this cycle (wl_sel), engines only
    smmu_walk_cache #(.WALK_N(WALK_N), .WALK_UP_N(WALK_UP_N)) u_walkc (
        .clk, .rst_n,
        .lk(wl[wl_sel]), .lk_hit(kl_hit), .lk_chain(kl_chain),
        .fill_valid(w_wf_any), .fill_ready(wf_ready), .fill(wk[wf_sel]),
        .inv_valid, .inv
    );

    // ---- walks into one 2 MiB region --------------------------------------------------------
    // A granted lookup that finds no level-2 chain, while other engines (leaders) walk the
    // same (ASID, start level, half, VA[47:21], IPS) and may still fill its level-2 chain,
    // does not start: the engine stays in WINIT, remembers those leaders (w_wait_on) and asks
    // again once none of them leads, to find the chain they filled, or to walk itself: an
    // engine waits at most once per request (w_waited), so a region that never gets a
    // level-2 chain cannot keep it waiting. Leaders are past WINIT and never wait, and a
    // waiter waits only for a set of leaders that only shrinks, so the wait ends. The lookup
    // port is not asked while holding.
    logic [N_WALK-1:0] w_lead, w_hold, kl_match, w_waited;
    logic [N_WALK-1:0] w_wait_on [N_WALK];
    logic              kl_wait, w_wait_nz;
    always @(*) begin
        for (int j = 0; j < N_WALK; j++) kl_match[j] = w_lead[j] && wl[j] == wl[wl_sel];
        kl_wait = w_wl_any && !w_waited[wl_sel] && !(kl_hit && kl_chain.lvl == 2'd2) &&
                  kl_match != '0;
        w_wait_nz = 1'b0;
        for (int i = 0; i < N_WALK; i++) begin
            w_hold[i] = (w_wait_on[i] & w_lead) != '0;
            w_wait_nz = w_wait_nz || w_wait_on[i] != '0;
        end
    end
    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            w_waited <= '0;
            for (int i = 0; i < N_WALK; i++) w_wait_on[i] <= '0;
        end else if (kl_wait || w_wait_nz || w_start != '0) begin
            // (otherwise nothing below changes: skipped, as the stall unit's slots, for
            // event-driven simulators' sake; docs/rtl.md)
            for (int i = 0; i < N_WALK; i++) begin
                w_wait_on[i] <= (kl_wait && wl_sel == WI_W'(i)) ? kl_match
                                                                 : (w_wait_on[i] & w_lead);
                if (w_start[i]) w_waited[i] <= 1'b0;
                else if (kl_wait && wl_sel == WI_W'(i)) w_waited[i] <= 1'b1;
            end
        end
    end

    // ---- hit path: outcome of s1 ----------------------------------------------------------
    logic [1:0]   f_kind;
    always @(*) begin
        // SMMUEN=0: GBPA decides, no cache involved
        if (!smmuen) f_kind = gbpa_abort ? CTX_ABORT : CTX_BYPASS;
        else f_kind = c_ctx.kind;
    end

    logic         fx_miss, fx_dirty, fx_nowalk, fx_evt_valid, fx_stall;
    xrsp_t        fx_rsp;
    logic [EVENT_NBITS-1:0] fx_evt;

    smmu_xcalc #(.PA_BITS(PA_BITS)) u_hit (
        .req(s1),
        .c_kind(f_kind), .c_chk_ias(smmuen), .c_ats_ok(c_ctx.ats_ok), .c_atschk(atschk),
        .c_privcfg(c_ctx.privcfg),
        .c_instcfg(c_ctx.instcfg), .c_t0sz(c_ctx.t0sz), .c_tbi0(c_ctx.tbi0),
        .c_epd0(c_ctx.epd0), .c_t1sz(c_ctx.t1sz), .c_tbi1(c_ctx.tbi1), .c_epd1(c_ctx.epd1),
        .c_wxn(c_ctx.wxn), .c_pan(c_ctx.pan), .c_hd(c_ctx.hd), .c_s(c_ctx.s), .c_a(c_ctx.a),
        .c_r(c_ctx.r), .c_mair(c_ctx.mair),
        .l_hit(l_hit), .leaf(l_leaf),
        .x_fault(8'h0), .x_record(1'b0), .x_fetch(EVENT_FETCHADDR_W'(0)),
        .miss(fx_miss), .dirty(fx_dirty), .no_walk(fx_nowalk), .rsp(fx_rsp),
        .stall(fx_stall),
        .evt_valid(fx_evt_valid), .evt(fx_evt)
    );

    // ---- HTTU updates: the lowest engine asking is granted the write port until its B -------
    logic [N_WALK-1:0] u_aw_valid, u_aw_ready, u_w_valid, u_w_ready, u_b_valid;
    logic [47:0]       u_aw_addr [N_WALK];
    logic [63:0]       u_w_data [N_WALK];
    logic              u_busy;
    logic [WI_W-1:0]   u_g, u_pick;
    logic              u_any;
    always @(*) begin
        u_any = 1'b0; u_pick = '0;
        for (int i = N_WALK - 1; i >= 0; i--)
            if (u_aw_valid[i]) begin u_any = 1'b1; u_pick = WI_W'(i); end
        for (int i = 0; i < N_WALK; i++) begin
            u_aw_ready[i] = u_busy && u_g == WI_W'(i) && uw_awready;
            u_w_ready[i] = u_busy && u_g == WI_W'(i) && uw_wready;
            u_b_valid[i] = u_busy && u_g == WI_W'(i) && uw_bvalid;
        end
    end
    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            u_busy <= 1'b0; u_g <= '0;
        end else if (!u_busy) begin
            u_busy <= u_any;
            u_g <= u_pick;
        end else if (uw_bvalid) u_busy <= 1'b0;
    end
    assign uw_awvalid = u_busy && u_aw_valid[u_g];
    assign uw_awaddr = u_aw_addr[u_g];
    assign uw_id = u_g;
    assign uw_wvalid = u_busy && u_w_valid[u_g];
    assign uw_wdata = u_w_data[u_g];

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
            .start(w_start[g]), .idle(w_idle[g]), .ctx_fetch(w_ctx_fetch[g]),
            .s_tag(s1_tag), .s_req(s1), .s_ctx_hit(c_hit), .s_ctx(c_ctx), .atschk,
            .strtab_base, .strtab_cfg, .recinvsid,
            .inv(inv_valid), .busy_stale(w_stale[g]),
            .wl_req(w_wl_req[g]), .wl_gnt(w_wl_gnt[g]), .wl(wl[g]),
            .wl_wait(kl_wait), .wl_hold(w_hold[g]), .wl_lead(w_lead[g]),
            .wl_hit(kl_hit), .wl_chain(kl_chain),
            .wf_valid(w_wf_valid[g]), .wf_ready(w_wf_ready[g]), .wf(wk[g]),
            .ar_valid(ar_valid[g]), .ar_ready(ar_ready[g]), .ar_addr(ar_addr[g*48 +: 48]),
            .ar_len(ar_len[g*8 +: 8]), .ar_lock(ar_lock[g]),
            .r_valid(r_valid[g]), .r_data, .r_resp, .r_last,
            .aw_valid(u_aw_valid[g]), .aw_ready(u_aw_ready[g]), .aw_addr(u_aw_addr[g]),
            .w_valid(u_w_valid[g]), .w_ready(u_w_ready[g]), .w_data(u_w_data[g]),
            .b_valid(u_b_valid[g]), .b_resp(uw_bresp),
            .rsp_valid(w_rsp_valid[g]), .rsp_ready(w_rsp_ready[g]), .rsp_tag(r_tag),
            .rsp(r_rsp), .rsp_stall(w_stall[g]), .req(w_req[g]),
            .evt_valid(w_evt_valid[g]), .evt_ready(w_evt_ready[g]), .evt(w_evt[g]),
            .cf_valid(w_cf_valid[g]), .cf_ready(w_cf_ready[g]), .cf(wc[g]),
            .tf_valid(w_tf_valid[g]), .tf_ready(w_tf_ready[g]), .tf(wt[g])
        );
        assign w_rsp[g] = {r_tag, r_rsp};
    end

    // ---- response FIFO (2 entries) --------------------------------------------------------
    // Each entry carries one more bit than a response: whether a miss engine produced it.
    // rs0/rs1: the entry was translated with cache contents an invalidation has since
    // targeted (it was in the FIFO, or being pushed, during an invalidation, or a stale
    // engine produced it). CMD_SYNC waits until no such entry is left (§4.7.3: every
    // transaction translated with an invalidated entry has completed).
    logic [RSP_W:0] rq0, rq1;
    logic             rs0, rs1;
    logic [1:0]       rq_n;
    wire              rq_space = (rq_n != 2'd2);
    wire              rq_pop = t_rsp_valid && t_rsp_ready;

    // ---- stall unit ---------------------------------------------------------------------
    // Stalling outcomes enter it (engines first, lowest first, then the hit path); its
    // records share the event port (after the engines), its terminations the response FIFO
    // (after the engines), and its retries enter stage 1 ahead of t_req.
    logic                   st_in_valid, st_in_ready;
    logic [TAG_W-1:0]       st_in_tag;
    xreq_t                  st_in_req;
    logic [EVENT_NBITS-1:0] st_in_evt;
    logic                   st_evt_valid, st_evt_ready;
    logic [EVENT_NBITS-1:0] st_evt;
    logic [SL_W-1:0]        st_evt_slot;
    logic                   st_retry_valid, st_retry_ready;
    logic [TAG_W-1:0]       st_retry_tag;
    xreq_t                  st_retry_req;
    logic                   st_rsp_valid, st_rsp_ready;
    logic [TAG_W-1:0]       st_rsp_tag;
    xrsp_t                  st_rsp;
    logic                   st_admit;    // room for every transaction in flight to stall

    if (STALL_MODEL != int'(STALL_MODEL_TERMINATE_ONLY)) begin : g_stall
        logic [SL_W:0] st_free_n;
        logic [WI_W:0] busy_n;
        smmu_stall #(.TAG_W(TAG_W), .STALL_MAX(STALL_MAX), .TERM_MODEL(TERM_MODEL)) u_stall (
            .clk, .rst_n, .smmuen,
            .in_valid(st_in_valid), .in_ready(st_in_ready), .in_tag(st_in_tag),
            .in_req(st_in_req), .in_evt(st_in_evt),
            .evt_valid(st_evt_valid), .evt_ready(st_evt_ready), .evt(st_evt),
            .evt_slot(st_evt_slot), .st_done, .st_drop, .st_slot, .writable(evtq_writable),
            .resume_valid, .resume_sid(stall_sid), .resume_stag(stall_stag),
            .resume_ac(stall_ac), .resume_ab(stall_ab),
            .term_valid, .term_sid(stall_sid),
            .retry_valid(st_retry_valid), .retry_ready(st_retry_ready),
            .retry_tag(st_retry_tag), .retry_req(st_retry_req),
            .rsp_valid(st_rsp_valid), .rsp_ready(st_rsp_ready), .rsp_tag(st_rsp_tag),
            .rsp(st_rsp), .free_n(st_free_n)
        );
        // Admission: a new request is taken only while the free slots outnumber the
        // transactions in flight (stage 1 and the busy engines), so every transaction that
        // stalls finds a slot at once. A retry frees its slot as it enters, so it needs no
        // room; without this, a stall waiting for a slot in stage 1 or an engine could block
        // the very retries that would free one. With STALL_MAX held, t_req waits
        // (IDR5.STALL_MAX: ingress back-pressures).
        always @(*) begin
            busy_n = '0;
            for (int i = 0; i < N_WALK; i++) busy_n = busy_n + (WI_W+1)'(!w_idle[i]);
        end
        assign st_admit = 32'(st_free_n) > 32'(busy_n) + 32'(m_busy_n) + 32'(s1_v);
    end else begin : g_no_stall
        // STALL_MODEL=0b01: CD.S=1 is ILLEGAL (C_BAD_CD), nothing ever stalls.
        assign st_in_ready = 1'b0;
        assign st_evt_valid = 1'b0; assign st_evt = '0; assign st_evt_slot = '0;
        assign st_retry_valid = 1'b0; assign st_retry_tag = '0; assign st_retry_req = '0;
        assign st_rsp_valid = 1'b0; assign st_rsp_tag = '0; assign st_rsp = '0;
        assign st_admit = 1'b1;
        // verilator lint_off UNUSEDSIGNAL
        wire unused_stall = ^{st_in_valid, st_in_tag, st_in_req, st_in_evt, st_evt_ready,
                              st_retry_ready, st_rsp_ready, st_done, st_drop, st_slot,
                              evtq_writable, resume_valid, term_valid, stall_sid, stall_stag,
                              stall_ac, stall_ab};
        // verilator lint_on UNUSEDSIGNAL
    end

    // ---- stage-1 outcome ------------------------------------------------------------------
    // An ATS-Translated transaction with ATSCHK=0, or beyond the OAS, needs no context.
    wire at_nolookup = s1.at && (!atschk || (s1.addr >> PA_BITS) != 64'h0);
    wire need_walk = smmuen && (!c_hit || fx_miss) && !at_nolookup;
    wire front_stall = !need_walk && fx_stall;
    wire front_evt = !need_walk && fx_evt_valid;
    wire s1_adv = s1_v && (need_walk ? (m_take || any_idle)
                         : front_stall ? (st_in_ready && !w_stl_any)
                         : (rq_space && !w_rsp_any && !st_rsp_valid &&
                            (!front_evt || (evt_ready && !w_evt_any && !st_evt_valid))));
    wire front_push = s1_v && s1_adv && !need_walk && !front_stall;
    wire eng_push = rq_space && w_rsp_any;
    wire stl_push = rq_space && !w_rsp_any && st_rsp_valid;
    wire [RSP_W:0] push_data = eng_push ? {w_rsp[rsp_sel], 1'b1}
                             : stl_push ? {st_rsp_tag, st_rsp, 1'b0}
                                        : {s1_tag, fx_rsp, s1_merged};
    wire do_push = eng_push || stl_push || front_push;
    wire push_stale = inv_valid || (eng_push && w_stale[rsp_sel]);
    assign st_rsp_ready = stl_push;

    assign st_in_valid = w_stl_any || (s1_v && front_stall);
    assign st_in_tag = w_stl_any ? w_rsp[stl_sel][RSP_W-1 -: TAG_W] : s1_tag;
    assign st_in_req = w_stl_any ? w_req[stl_sel] : s1;
    assign st_in_evt = w_stl_any ? w_evt[stl_sel] : fx_evt;

    // A retry takes stage 1 as a new arrival would, ahead of the port: the stall unit's
    // first, then a parked miss.
    wire s1_free = !s1_v || s1_adv;
    assign st_retry_ready = s1_free;
    assign m_retry_ready = s1_free && !st_retry_valid;
    assign t_req_ready = s1_free && !st_retry_valid && !m_retry_valid && st_admit;
    always @(*) begin
        for (int i = 0; i < N_WALK; i++) begin
            w_start[i] = s1_adv && need_walk && !m_take && (idle_sel == WI_W'(i));
            w_rsp_ready[i] = (eng_push && (rsp_sel == WI_W'(i))) ||
                             (w_stl_any && st_in_ready && (stl_sel == WI_W'(i)));
            w_evt_ready[i] = evt_ready && (evt_sel == WI_W'(i));
            w_cf_ready[i] = cf_ready && (cf_sel == WI_W'(i));
            w_tf_ready[i] = tf_ready && (tf_sel == WI_W'(i));
            w_wl_gnt[i] = w_wl_any && (wl_sel == WI_W'(i));
            w_wf_ready[i] = wf_ready && (wf_sel == WI_W'(i));
        end
    end

    // ---- miss merging: the parking slots ---------------------------------------------
    if (MERGE_N > 0) begin : g_merge
        logic [MERGE_N-1:0] mv, mrdy;
        logic [TAG_W-1:0]   mtag [MERGE_N];
        xreq_t              mreq [MERGE_N];
        logic [WI_W-1:0]    mlead [MERGE_N];
        logic               lead_hit, free_any, rdy_any;
        logic [WI_W-1:0]    lead_sel;
        logic [MI_W-1:0]    free_sel, rdy_sel;
        logic [N_WALK-1:0]  lead_m;     // engines on s1's page, or fetching its context
        for (genvar g = 0; g < N_WALK; g++) begin : g_lead
            // verilator lint_off UNUSEDSIGNAL
            xreq_t q;    // (its access bits take no part in the match)
            // verilator lint_on UNUSEDSIGNAL
            assign q = w_req[g];
            assign lead_m[g] = !w_idle[g] && q.sid == s1.sid && q.ssv == s1.ssv &&
                               q.ssid == s1.ssid &&
                               (q.addr[63:12] == s1.addr[63:12] || (!c_hit && w_ctx_fetch[g]));
        end
        always @(*) begin
            lead_hit = 1'b0; lead_sel = '0;
            for (int i = N_WALK - 1; i >= 0; i--)
                if (lead_m[i]) begin lead_hit = 1'b1; lead_sel = WI_W'(i); end
            free_any = 1'b0; free_sel = '0;
            rdy_any = 1'b0; rdy_sel = '0;
            m_busy_n = '0;
            for (int i = MERGE_N - 1; i >= 0; i--) begin
                if (!mv[i]) begin free_any = 1'b1; free_sel = MI_W'(i); end
                if (mv[i] && mrdy[i]) begin rdy_any = 1'b1; rdy_sel = MI_W'(i); end
                m_busy_n = m_busy_n + (MI_W+1)'(mv[i]);
            end
        end
        assign m_take = s1_v && need_walk && lead_hit && free_any;
        assign m_retry_valid = rdy_any;
        assign m_retry_tag = mtag[rdy_sel];
        assign m_retry_req = mreq[rdy_sel];
        always_ff @(posedge clk or negedge rst_n) begin
            if (!rst_n) begin
                mv <= '0; mrdy <= '0;
                for (int i = 0; i < MERGE_N; i++) begin
                    mtag[i] <= '0; mreq[i] <= '0; mlead[i] <= '0;
                end
            end else begin
                if (mv != '0)  // (the same without it; docs/rtl.md)
                    for (int i = 0; i < MERGE_N; i++)
                        if (mv[i] && w_idle[mlead[i]]) mrdy[i] <= 1'b1;
                if (m_retry_valid && m_retry_ready) begin
                    mv[rdy_sel] <= 1'b0; mrdy[rdy_sel] <= 1'b0;
                end
                if (m_take && s1_adv) begin
                    mv[free_sel] <= 1'b1; mrdy[free_sel] <= 1'b0;
                    mtag[free_sel] <= s1_tag; mreq[free_sel] <= s1; mlead[free_sel] <= lead_sel;
                end
            end
        end
    end else begin : g_no_merge
        assign m_take = 1'b0;
        assign m_retry_valid = 1'b0; assign m_retry_tag = '0; assign m_retry_req = '0;
        assign m_busy_n = '0;
        // verilator lint_off UNUSEDSIGNAL
        wire unused_merge = ^{m_retry_ready, w_req[0]};
        // verilator lint_on UNUSEDSIGNAL
    end

    assign evt_valid = w_evt_any || st_evt_valid || (s1_v && s1_adv && front_evt);
    assign evt = w_evt_any ? w_evt[evt_sel] : st_evt_valid ? st_evt : fx_evt;
    assign evt_stall = !w_evt_any && st_evt_valid;
    assign evt_slot = st_evt_slot;
    assign st_evt_ready = evt_ready && !w_evt_any;

    // An empty FIFO is bypassed: what is pushed this cycle is presented at once (a hit one
    // cycle after its request), and enters the FIFO only if t_rsp_ready does not take it.
    // push_data comes from s1 and the engines' registers, never from t_req_*.
    wire rq_bypass = (rq_n == 2'd0);
    assign t_rsp_valid = !rq_bypass || do_push;
    assign {t_rsp_tag, t_rsp, t_rsp_walked} = rq_bypass ? push_data : rq0;

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            s1_v <= 1'b0; s1_merged <= 1'b0; s1_tag <= '0; s1 <= '0;
            rq0 <= '0; rq1 <= '0; rq_n <= 2'd0;
            rs0 <= 1'b0; rs1 <= 1'b0;
        end else begin
            if (st_retry_valid && st_retry_ready) begin
                s1_v <= 1'b1;
                s1_merged <= 1'b0;
                s1_tag <= st_retry_tag;
                s1 <= st_retry_req;
            end else if (m_retry_valid && m_retry_ready) begin
                s1_v <= 1'b1;
                s1_merged <= 1'b1;
                s1_tag <= m_retry_tag;
                s1 <= m_retry_req;
            end else if (t_req_valid && t_req_ready) begin
                s1_v <= 1'b1;
                s1_merged <= 1'b0;
                s1_tag <= t_req_tag;
                s1 <= t_req;
            end else if (s1_adv) s1_v <= 1'b0;

            // A bypassed push taken by t_rsp_ready (2'b11 with rq_n = 0) leaves the FIFO empty.
            case ({do_push, rq_pop})
                2'b10: begin
                    if (rq_n == 2'd0) begin rq0 <= push_data; rs0 <= push_stale; end
                    else begin rq1 <= push_data; rs1 <= push_stale; end
                    if (rq_n != 2'd0) rs0 <= rs0 || inv_valid;
                    rq_n <= rq_n + 2'd1;
                end
                2'b01: begin
                    rq0 <= rq1; rs0 <= rs1 || inv_valid;
                    rq_n <= rq_n - 2'd1;
                end
                2'b11: begin
                    if (rq_n == 2'd1) begin rq0 <= push_data; rs0 <= push_stale; end
                    else if (rq_n == 2'd2) begin
                        rq0 <= rq1; rs0 <= rs1 || inv_valid;
                        rq1 <= push_data; rs1 <= push_stale;
                    end
                end
                default: begin
                    rs0 <= rs0 || inv_valid;
                    rs1 <= rs1 || inv_valid;
                end
            endcase
        end
    end

    assign sync_busy = (w_stale != '0) || (rq_n != 2'd0 && rs0) || (rq_n == 2'd2 && rs1);

    // fx_nowalk only matters inside the engines (they must not walk an out-of-range input or
    // a disabled half); the hit path gets the same fault through fx_rsp. A write needing the
    // dirty update (fx_dirty) is a miss like any other here.
    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{fx_nowalk, fx_dirty};
    // verilator lint_on UNUSEDSIGNAL
endmodule

`default_nettype wire
