// One miss engine: resolves a translation request that missed in the hit path.
//
// It fetches what the caches did not have (L1STD, STE, L1CD, CD), validates it, walks the
// stage-1 tables, and ends in DONE with everything the request produced: a response, maybe
// an event record, maybe a context-cache fill and an IOTLB fill. Each of those four leaves
// through its own valid/ready port; the engine returns to IDLE when all have gone.
//
// Several engines run in parallel (smmu_xlate, parameter N_WALK); each owns one AXI read ID,
// so it has at most one read outstanding and needs no reordering.
//
// Walk cache (smmu_xlate, parameters WALK_N, WALK_UP_N): in WINIT the engine asks the shared
// walk-cache lookup port for the deepest cached table descriptor on the way to its VA (key:
// ASID, start level, half, VA bits above the level). On a hit it continues the walk at the
// next level from the cached next-table address, with the cached (raw, accumulated)
// APTable/UXNTable/PXNTable; a 4-level walk with levels 0-2 cached reads one descriptor. With
// no level-2 chain cached while other engines walk the same 2 MiB region (wl_wait), it stays
// in WINIT until they are done (wl_hold) and asks again. In DONE it offers, as one fill, the
// chain down to every level it read a table descriptor at itself.
//
// Invalidation: `inv` pulses whenever the command queue (or, with BTM, the DVM port)
// invalidates anything. An engine that
// is busy at that moment may hold data fetched before the invalidation, so it becomes
// `stale`: it still answers its request (the translation was in flight before the
// invalidation, which the architecture allows) but it drops its cache fills, and CMD_SYNC
// waits for every stale engine to finish (`busy_stale`).
//
// Field positions and encodings of the L1STD, STE, L1CD, CD and translation table descriptors
// and the event IDs come from smmu_arch_pkg (generated from models/arch).
`default_nettype none

module smmu_walker
    import smmu_arch_pkg::*;
    import smmu_types_pkg::*;
#(
    parameter int TAG_W = 8,
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
    parameter int HAD = 0,
    parameter int WALK_N = 16       // walk-cache entries in smmu_xlate (0: never looks up)
) (
    input  logic              clk,
    input  logic              rst_n,

    // Start (accepted when idle): the request and what the hit path found
    input  logic              start,
    output logic              idle,
    output logic              ctx_fetch,     // busy with a request whose context missed
    input  logic [TAG_W-1:0]  s_tag,
    input  xreq_t             s_req,
    input  logic              s_ctx_hit,     // s_ctx comes from the configuration cache
    input  ctx_t              s_ctx,
    input  logic              atschk,

    // Configuration registers
    input  logic [47:0]       strtab_base,
    input  logic [31:0]       strtab_cfg,
    input  logic              recinvsid,

    input  logic              inv,
    output logic              busy_stale,

    // Walk-cache lookup (WINIT; shared port, the engine waits for wl_gnt)
    output logic              wl_req,
    input  logic              wl_gnt,
    input  logic              wl_wait,       // with wl_gnt: wait for a leader's chain
    input  logic              wl_hold,       // a leader waited for is still walking
    output logic              wl_lead,       // walking, and may fill the level-2 chain of wl
    output walk_req_t         wl,
    input  logic              wl_hit,
    input  walk_chain_t       wl_chain,      // the deepest cached chain on the way to the VA
    // Walk-cache fill (DONE)
    output logic              wf_valid,
    input  logic              wf_ready,
    output walk_fill_t        wf,

    // Memory reads (one outstanding)
    output logic              ar_valid,
    input  logic              ar_ready,
    output logic [47:0]       ar_addr,
    output logic [7:0]        ar_len,
    output logic              ar_lock,     // exclusive: a descriptor this walk may update
    input  logic              r_valid,
    input  logic [63:0]       r_data,
    input  logic [1:0]        r_resp,
    input  logic              r_last,

    // Descriptor update (HTTU): an exclusive write of one beat under the engine's read ID
    output logic              aw_valid,
    input  logic              aw_ready,
    output logic [47:0]       aw_addr,
    output logic              w_valid,
    input  logic              w_ready,
    output logic [63:0]       w_data,
    input  logic              b_valid,
    input  logic [1:0]        b_resp,

    // Response
    output logic              rsp_valid,
    input  logic              rsp_ready,
    output logic [TAG_W-1:0]  rsp_tag,
    output xrsp_t             rsp,
    output logic              rsp_stall,   // the outcome stalls: to the stall unit, with req
    output xreq_t             req,
    // Event record (none for a stall: the stall unit writes it with its STAG, from evt)
    output logic              evt_valid,
    input  logic              evt_ready,
    output logic [EVENT_NBITS-1:0] evt,
    // Configuration-cache fill
    output logic              cf_valid,
    input  logic              cf_ready,
    output ctx_entry_t        cf,
    // IOTLB fill
    output logic              tf_valid,
    input  logic              tf_ready,
    output tlb_entry_t        tf
);
    localparam logic [3:0] S_IDLE = 4'd0, S_AR = 4'd1, S_R = 4'd2, S_PROC = 4'd3,
                           S_WINIT = 4'd4, S_DONE = 4'd5, S_LEAF = 4'd6, S_AW = 4'd7,
                           S_W = 4'd8, S_B = 4'd9;
    localparam logic [2:0] PH_L1STD = 3'd0, PH_STE = 3'd1, PH_L1CD = 3'd2, PH_CD = 3'd3,
                           PH_WALK = 3'd4;
    localparam int ADDR_W = 48;     // the address path (memory port) is 48 bits wide

    // Address bits of an IPS / OAS code, at most the address path.
    function automatic int ips_bits(input logic [CD_IPS_W-1:0] code);
        ips_bits = (oas_bits(code) < ADDR_W) ? oas_bits(code) : ADDR_W;
    endfunction
    // (Icarus 11: a constant function may not call a package function, hence no ips_bits here)
    localparam int PA_BITS = (oas_bits(CD_IPS_W'(OAS)) < ADDR_W) ? oas_bits(CD_IPS_W'(OAS))
                                                                 : ADDR_W;

    // STE.Config bits: Config[2] set = not abort; then stage 1 and stage 2 enables.
    localparam logic [STE_CONFIG_W-1:0] CFG_EN = STREAM_CONFIG_BYPASS;
    localparam logic [STE_CONFIG_W-1:0] CFG_S1 = STREAM_CONFIG_S1_TRANS & ~STREAM_CONFIG_BYPASS;
    localparam logic [STE_CONFIG_W-1:0] CFG_S2 = STREAM_CONFIG_S2_TRANS & ~STREAM_CONFIG_BYPASS;

    // ---- state --------------------------------------------------------------------------
    logic [3:0]        st;
    logic [2:0]        ph;
    logic [TAG_W-1:0]  q_tag;
    xreq_t             q;              // the request
    logic              ctx_hit;
    ctx_t              k;              // its context
    logic [19:0]       k_cdidx;
    // STE fields needed for the CD fetch
    logic [1:0]        k_s1fmt;
    // read
    logic [47:0]       rd_addr;
    logic [1:0]        rd_len;
    logic [1:0]        beat;
    logic [63:0]       d0, d1, d2, d3;
    logic              rerr;
    // walk
    logic [1:0]        lvl;
    logic [1:0]        aptab;          // accumulated APTable: [1] no write, [0] no EL0
    logic              pxnt, uxnt;
    // walk-cache view of the walk: raw table attributes and NextTableAddr[47:32] ORed over
    // the chain, and the chain down to each level whose table descriptor was read from
    // memory (the fill: wfv[l] and wfc[l])
    logic [1:0]        r_ap;
    logic              r_uxn, r_pxn;
    logic [15:0]       r_hi;
    logic [2:0]        wfv;
    walk_chain_t       wfc0, wfc1, wfc2, wfc_new;
    // outcome
    logic              l_hit, l_global;
    leaf_t             lf;             // the leaf walked
    // HTTU: AF to be set by the SMMU; the update's new descriptor and whether it dirties;
    // a leaf not to cache (its AF update was not made: a permission fault)
    logic              l_af0, u_dirty, l_nofill;
    logic              rexok;          // the read was answered EXOKAY (an exclusive held)
    logic [63:0]       u_desc;
    logic [7:0]        x_fault;
    logic              x_record;
    logic [EVENT_FETCHADDR_W-1:0] x_fetch;
    logic              cfill_need;
    logic              stale;
    logic              rsp_done, evt_done, cf_done, tf_done, wf_done;

    // ---- outcome of the request (same module as the hit path) --------------------------
    logic              xc_miss, xc_dirty, xc_nowalk, xc_evt_valid, xc_stall;
    xrsp_t             xc_rsp;
    logic [EVENT_NBITS-1:0] xc_evt;

    // The bypass input-address limit is the OAS itself (section 3.4), as on the hit path,
    // not the memory port's 48 bits.
    smmu_xcalc #(.PA_BITS(oas_bits(CD_IPS_W'(OAS)))) u_xc (
        .req(q),
        .c_kind(k.kind), .c_chk_ias(1'b1), .c_ats_ok(k.ats_ok), .c_atschk(atschk),
        .c_privcfg(k.privcfg), .c_instcfg(k.instcfg),
        .c_t0sz(k.t0sz), .c_tbi0(k.tbi0), .c_epd0(k.epd0),
        .c_t1sz(k.t1sz), .c_tbi1(k.tbi1), .c_epd1(k.epd1), .c_wxn(k.wxn), .c_pan(k.pan), .c_hd(k.hd),
        .c_s(k.s), .c_a(k.a), .c_r(k.r), .c_mair(k.mair),
        .l_hit(l_hit), .leaf(lf),
        .x_fault(x_fault), .x_record(x_record), .x_fetch(x_fetch),
        .miss(xc_miss), .dirty(xc_dirty), .no_walk(xc_nowalk), .rsp(xc_rsp),
        .stall(xc_stall),
        .evt_valid(xc_evt_valid), .evt(xc_evt)
    );

    // ---- decode of the data just read (state S_PROC) ------------------------------------
    logic [7:0]  dc_fault;
    logic        dc_record;       // for non-translation-class faults
    logic        dc_done;         // go to DONE (with dc_fault, or a final context/leaf)
    logic        dc_winit;        // context established: start the walk
    logic        dc_read;         // issue another read
    logic [47:0] dc_addr;
    logic [1:0]  dc_len;
    logic [2:0]  dc_ph;
    logic [1:0]  dc_kind;         // CTX_*: what an STE resolved to (abort / bypass / translate)
    logic        dc_leaf;
    logic [19:0] dc_cdidx;

    // helpers
    // the 32 bytes just read: STE or CD dw0..dw3 (L1STD, L1CD and descriptors use dw0 only)
    wire [4*64-1:0] blk = {d3, d2, d1, d0};
    logic [3:0]  split;
    logic [47:0] st_lin_base, st_l1_base;
    logic [6:0]  st_l1_bits;
    logic [5:0]  st_log2;
    logic [31:0] sid_lo;
    logic [L1STD_SPAN_W-1:0] span;
    logic [STE_CONFIG_W-1:0] cfg;
    logic        cfg_en, cfg_s1, cfg_s2, ste_ats;
    logic [STE_S1CDMAX_W-1:0] cdmax;
    logic [STE_S1FMT_W-1:0] s1fmt;
    logic [STE_S1DSS_W-1:0] s1dss;
    logic [STE_STRW_W-1:0] strw;
    logic [47:0] ste_cdptr, l1std_ptr, l1cd_ptr, tbl_addr;
    logic [CD_IPS_W-1:0] cd_ips;
    logic [CD_T0SZ_W-1:0] cd_t0sz;
    logic [CD_T1SZ_W-1:0] cd_t1sz;
    int          cd_ipsb;
    logic        ste_illegal, cd_illegal;
    logic [47:0] oa48;
    logic [3:0]  cdsplit;
    logic [19:0] cd_lo;           // CD index within its leaf table
    logic [1:0]  lvl_n;
    logic [8:0]  idx_n;
    int          ipsb, pab;

    always @(*) begin
        // STRTAB_BASE_CFG.SPLIT: 6, 8 or 10 (anything else behaves as 6)
        split = (strtab_cfg[STRTAB_BASE_CFG_SPLIT_LSB +: STRTAB_BASE_CFG_SPLIT_W] == 5'd8) ? 4'd8 :
                (strtab_cfg[STRTAB_BASE_CFG_SPLIT_LSB +: STRTAB_BASE_CFG_SPLIT_W] == 5'd10) ? 4'd10
                                                                                          : 4'd6;
        st_log2 = (int'(strtab_cfg[STRTAB_BASE_CFG_LOG2SIZE_LSB +: STRTAB_BASE_CFG_LOG2SIZE_W])
                   > SIDSIZE) ? 6'(SIDSIZE)
                              : strtab_cfg[STRTAB_BASE_CFG_LOG2SIZE_LSB +:
                                           STRTAB_BASE_CFG_LOG2SIZE_W];
        sid_lo = q.sid & ((32'h1 << split) - 32'h1);
        // Stream table base alignment (section 6.3.24), from the literal LOG2SIZE: linear,
        // ADDR[LOG2SIZE+5:0] = 0; 2-level, ADDR[MAX(5, LOG2SIZE-SPLIT-1+3):0] = 0.
        st_lin_base = strtab_base & ~((48'h40 << strtab_cfg[STRTAB_BASE_CFG_LOG2SIZE_LSB +:
                                                            STRTAB_BASE_CFG_LOG2SIZE_W]) - 48'h1);
        st_l1_bits = 7'(strtab_cfg[STRTAB_BASE_CFG_LOG2SIZE_LSB +: STRTAB_BASE_CFG_LOG2SIZE_W])
                     - 7'(split) + 7'd3;
        st_l1_base = strtab_base & ~((48'h1 << ((st_l1_bits[6] || st_l1_bits < 7'd6)
                                                 ? 7'd6 : st_l1_bits)) - 48'h1);
        span = blk[L1STD_SPAN_LSB +: L1STD_SPAN_W];
        cfg = blk[STE_CONFIG_LSB +: STE_CONFIG_W];
        cfg_en = |(cfg & CFG_EN);
        cfg_s1 = |(cfg & CFG_S1);
        cfg_s2 = |(cfg & CFG_S2);
        ste_ats = (ATS != 0) && cfg_s1 && blk[STE_EATS_LSB +: STE_EATS_W] == ATS_MODE_FULL;
        // S1CDMax is IGNORED without substreams (section 5.2): a single CD
        cdmax = (SSIDSIZE == 0) ? '0 : blk[STE_S1CDMAX_LSB +: STE_S1CDMAX_W];
        s1fmt = blk[STE_S1FMT_LSB +: STE_S1FMT_W];
        s1dss = blk[STE_S1DSS_LSB +: STE_S1DSS_W];
        strw = blk[STE_STRW_LSB +: STE_STRW_W];
        ste_cdptr = 48'(blk[STE_S1CONTEXTPTR_LSB +: STE_S1CONTEXTPTR_W]) << STE_S1CONTEXTPTR_ADDR_LO;
        // L2Ptr[5+(Span-1):0] are treated as 0: the array is aligned to its size (section
        // 5.1); only used once Span is found in 1..SPLIT+1
        l1std_ptr = (48'(blk[L1STD_L2PTR_LSB +: L1STD_L2PTR_W]) << L1STD_L2PTR_ADDR_LO) &
                    ~((48'h40 << (span - 5'd1)) - 48'h1);
        // a 64 KiB leaf table is 64 KiB aligned: L2Ptr[15:12] are RES0 and not used (section 5.3)
        l1cd_ptr = (48'(blk[L1CD_L2PTR_LSB +: L1CD_L2PTR_W]) << L1CD_L2PTR_ADDR_LO) &
                   ((k_s1fmt == S1_FORMAT_TWO_LEVEL_64K) ? ~48'hFFFF : ~48'h0);
        tbl_addr = 48'(blk[DESC_TABLE_NEXTTABLEADDR_LSB +: DESC_TABLE_NEXTTABLEADDR_W])
                   << DESC_TABLE_NEXTTABLEADDR_ADDR_LO;
        cd_ips = blk[CD_IPS_LSB +: CD_IPS_W];
        cd_t0sz = blk[CD_T0SZ_LSB +: CD_T0SZ_W];
        cd_t1sz = blk[CD_T1SZ_LSB +: CD_T1SZ_W];
        cd_ipsb = ips_bits((cd_ips > CD_IPS_W'(OAS)) ? CD_IPS_W'(OAS) : cd_ips);
        // CDs per leaf table: 4 KiB / 64 KiB of 64-byte CDs
        cdsplit = (k_s1fmt == S1_FORMAT_TWO_LEVEL_4K) ? 4'd6 : 4'd10;
        cd_lo = k_cdidx & ((20'h1 << cdsplit) - 20'h1);
        ipsb = ips_bits(k.ips);
        pab = PA_BITS;
        lvl_n = lvl + 2'd1;
        idx_n = 9'((q.addr[47:0] >> (6'd39 - 6'd9 * {4'h0, lvl_n})) & 48'h1FF);

        // STE checks for the implemented features (reference §2.2, §2.6)
        ste_illegal = cfg_s2                                             // stage 2: S2P=0
                    || (cfg_s1 && S1P == 0)
                    || (cfg_s1 && (int'(cdmax) > SSIDSIZE) && SSIDSIZE != 0)
                    || (cfg_s1 && cdmax != '0 && s1fmt != S1_FORMAT_LINEAR && CD2L == 0 &&
                        SSIDSIZE != 0)
                    || (cfg_s1 && blk[STE_S1STALLD_LSB] &&
                        STALL_MODEL != int'(STALL_MODEL_STALL_AND_TERMINATE))
                    || (cfg_s1 && (!STREAM_WORLD_VALID[strw] ||
                                   (strw == STREAM_WORLD_EL2 && HYP == 0)))
                    // EATS (section 5.2): split-stage needs Config 0b111, which stage 1 only
                    // never is; 0b11 without DPT behaves as 0b00
                    || (cfg_s1 && ATS != 0 &&
                        blk[STE_EATS_LSB +: STE_EATS_W] == ATS_MODE_SPLIT_STAGE);
        // CD checks (reference §3.5); values in a disabled half (EPDx=1) do not count. Each
        // half needs the 4 KiB granule (TG0 and TG1 encode it differently, TG1=0b00 is
        // reserved), TxSZ in 16..39 and TTBx within the effective IPS (section 5.4).
        cd_illegal = !blk[CD_AA64_LSB]
                   // little-endian only; ENDI is IGNORED when both EPDs are 1 (section 5.4)
                   || (blk[CD_ENDI_LSB] && !(blk[CD_EPD0_LSB] && blk[CD_EPD1_LSB]))
                   || (HTTU == int'(HTTU_NONE) && (blk[CD_HA_LSB] || blk[CD_HD_LSB]))
                   || (HTTU == int'(HTTU_ACCESS) && blk[CD_HD_LSB])
                   || (ASID16 == 0 && blk[CD_ASID_LSB + 8 +: CD_ASID_W - 8] != '0)
                   || (TERM_MODEL != 0 && !blk[CD_A_LSB])
                   || (STALL_MODEL == int'(STALL_MODEL_TERMINATE_ONLY) && blk[CD_S_LSB])
                   || (STALL_MODEL == int'(STALL_MODEL_STALL_FORCED) && !blk[CD_S_LSB])
                   || (!blk[CD_EPD0_LSB] &&
                       (blk[CD_TG0_LSB +: CD_TG0_W] != TG0_GRANULE_SZ_4K
                        || cd_t0sz < 6'd16 || cd_t0sz > 6'd39
                        || ((blk[CD_TTB0_LSB +: CD_TTB0_W] >> (cd_ipsb - CD_TTB0_ADDR_LO))
                            != '0)))
                   || (!blk[CD_EPD1_LSB] &&
                       (blk[CD_TG1_LSB +: CD_TG1_W] != TG1_GRANULE_SZ_4K
                        || cd_t1sz < 6'd16 || cd_t1sz > 6'd39
                        || ((blk[CD_TTB1_LSB +: CD_TTB1_W] >> (cd_ipsb - CD_TTB1_ADDR_LO))
                            != '0)));

        dc_fault = 8'h0;
        dc_record = 1'b1;
        dc_done = 1'b0;
        dc_winit = 1'b0;
        dc_read = 1'b0;
        dc_addr = 48'h0;
        dc_len = 2'd0;
        dc_ph = ph;
        dc_kind = CTX_FAULT;
        dc_leaf = 1'b0;
        dc_cdidx = q.ssv ? q.ssid : 20'h0;
        oa48 = 48'h0;
        case (ph)
            PH_L1STD: begin
                if (rerr) dc_fault = EVENT_ID_F_STE_FETCH;
                else if (span == 5'd0 || span > 5'(split) + 5'd1 ||
                         (sid_lo >> (span - 5'd1)) != 32'h0) begin
                    dc_fault = EVENT_ID_C_BAD_STREAMID;
                    dc_record = recinvsid;
                end else begin
                    dc_read = 1'b1;
                    dc_addr = l1std_ptr + (48'(sid_lo) << STE_SIZE_LOG2);
                    dc_len = 2'd3;
                    dc_ph = PH_STE;
                end
                dc_done = !dc_read;
            end
            PH_STE: begin
                if (rerr) dc_fault = EVENT_ID_F_STE_FETCH;
                else if (!blk[STE_V_LSB]) dc_fault = EVENT_ID_C_BAD_STE;
                else if (!cfg_en) dc_kind = CTX_ABORT;                        // abort, no event
                else if (ste_illegal) dc_fault = EVENT_ID_C_BAD_STE;
                // an ATS request where the STE allows no ATS: UR with a record, before any
                // substream check (fault-paths.md §3.1)
                else if (q.ats && !ste_ats) dc_fault = EVENT_ID_F_BAD_ATS_TREQ;
                // ATS-Translated with ATSCHK (only such reach an engine): the STE alone
                // decides (section 3.9.1.3); no CD is read and nothing is cached
                else if (q.at && !ste_ats) dc_fault = EVENT_ID_F_TRANSL_FORBIDDEN;
                else if (q.at) dc_kind = CTX_BYPASS;
                else if (!cfg_s1) begin                                  // bypass
                    if (q.ssv) dc_fault = EVENT_ID_C_BAD_SUBSTREAMID;
                    else dc_kind = CTX_BYPASS;
                end else if (q.ssv) begin
                    if (SSIDSIZE == 0 || cdmax == 5'd0 || (q.ssid >> cdmax) != 20'h0)
                        dc_fault = EVENT_ID_C_BAD_SUBSTREAMID;
                    else if (s1dss == S1_DEFAULT_SUBSTREAM_SSID0 && q.ssid == 20'h0)
                        dc_fault = EVENT_ID_F_STREAM_DISABLED;
                    else dc_read = 1'b1;
                end else if (cdmax != 5'd0) begin
                    if (s1dss == S1_DEFAULT_SUBSTREAM_BYPASS) dc_kind = CTX_BYPASS;  // S1 bypass
                    else if (s1dss == S1_DEFAULT_SUBSTREAM_SSID0) dc_read = 1'b1;  // CD 0
                    else dc_fault = EVENT_ID_F_STREAM_DISABLED;
                end else dc_read = 1'b1;
                if (dc_read) begin
                    if (cdmax == 5'd0) begin
                        dc_addr = ste_cdptr;
                        dc_len = 2'd3;
                        dc_ph = PH_CD;
                    end else if (CD2L != 0 && (s1fmt == S1_FORMAT_TWO_LEVEL_4K ||
                                               s1fmt == S1_FORMAT_TWO_LEVEL_64K)) begin
                        dc_addr = ste_cdptr + (48'(dc_cdidx >> ((s1fmt == S1_FORMAT_TWO_LEVEL_4K)
                                                                ? 6 : 10)) << L1CD_SIZE_LOG2);
                        dc_len = 2'd0;
                        dc_ph = PH_L1CD;
                    end else begin
                        dc_addr = ste_cdptr + (48'(dc_cdidx) << CD_SIZE_LOG2);
                        dc_len = 2'd3;
                        dc_ph = PH_CD;
                    end
                end
                dc_done = !dc_read;
            end
            PH_L1CD: begin
                if (rerr) dc_fault = EVENT_ID_F_CD_FETCH;
                else if (!blk[L1CD_V_LSB] || (blk[L1CD_L2PTR_LSB +: L1CD_L2PTR_W] >>
                                              (pab - L1CD_L2PTR_ADDR_LO)) != '0)
                    dc_fault = EVENT_ID_C_BAD_SUBSTREAMID;
                else begin
                    dc_read = 1'b1;
                    dc_addr = l1cd_ptr + (48'(cd_lo) << CD_SIZE_LOG2);
                    dc_len = 2'd3;
                    dc_ph = PH_CD;
                end
                dc_done = !dc_read;
            end
            PH_CD: begin
                if (rerr) dc_fault = EVENT_ID_F_CD_FETCH;
                else if (!blk[CD_V_LSB] || cd_illegal) dc_fault = EVENT_ID_C_BAD_CD;
                dc_done = (dc_fault != 8'h0);
                dc_winit = !dc_done;
                dc_kind = CTX_TRANSLATE;
            end
            default: begin  // PH_WALK: d0 is the descriptor at level lvl
                dc_kind = CTX_TRANSLATE;
                if (rerr) dc_fault = EVENT_ID_F_WALK_EABT;
                else if (!d0[DESC_TABLE_VALID_LSB] ||
                         (!d0[DESC_TABLE_TYPE_LSB] && (lvl == 2'd0 || lvl == 2'd3)))
                    dc_fault = EVENT_ID_F_TRANSLATION;
                else if (d0[DESC_TABLE_TYPE_LSB] && lvl != 2'd3) begin   // table
                    if ((d0[DESC_TABLE_NEXTTABLEADDR_LSB +: DESC_TABLE_NEXTTABLEADDR_W] >>
                         (ipsb - DESC_TABLE_NEXTTABLEADDR_ADDR_LO)) != '0)
                        dc_fault = EVENT_ID_F_ADDR_SIZE;
                    else begin
                        dc_read = 1'b1;
                        dc_addr = tbl_addr | (48'(idx_n) << DESC_SIZE_LOG2);
                        dc_ph = PH_WALK;
                    end
                end else begin                                           // block or page
                    case (lvl)
                        2'd1: oa48 = 48'(d0[DESC_L1BLOCK_OUTPUTADDR_LSB +: DESC_L1BLOCK_OUTPUTADDR_W])
                                     << DESC_L1BLOCK_OUTPUTADDR_ADDR_LO;
                        2'd2: oa48 = 48'(d0[DESC_L2BLOCK_OUTPUTADDR_LSB +: DESC_L2BLOCK_OUTPUTADDR_W])
                                     << DESC_L2BLOCK_OUTPUTADDR_ADDR_LO;
                        default: oa48 = 48'(d0[DESC_PAGE_OUTPUTADDR_LSB +: DESC_PAGE_OUTPUTADDR_W])
                                        << DESC_PAGE_OUTPUTADDR_ADDR_LO;
                    endcase
                    if ((oa48 >> ipsb) != 48'h0) dc_fault = EVENT_ID_F_ADDR_SIZE;
                    else if (!d0[DESC_LEAF_AF_LSB] && !k.affd && !k.ha)
                        dc_fault = EVENT_ID_F_ACCESS;                    // AF, no CD.HA
                    else dc_leaf = 1'b1;
                end
                dc_done = !dc_read;
            end
        endcase
    end

    // ---- walk start (state S_WINIT), from the half VA[55] selects --------------------------
    logic        w_upper;
    logic [5:0]  w_txsz;
    logic [43:0] w_ttb;
    logic        w_had;
    logic [1:0]  w_lvl;
    logic [5:0]  w_shift;
    logic [6:0]  w_tbits;
    logic [47:0] w_tmask;
    logic [47:0] w_addr;
    logic [1:0]  h_lvl;            // first level to read after a walk-cache hit
    logic [47:0] h_addr;
    always @(*) begin
        w_upper = q.addr[55];
        w_txsz = w_upper ? k.t1sz : k.t0sz;
        w_ttb = w_upper ? k.ttb1 : k.ttb0;
        w_had = w_upper ? k.had1 : k.had0;
        w_lvl = (w_txsz <= 6'd24) ? 2'd0 : (w_txsz <= 6'd33) ? 2'd1 : 2'd2;
        w_shift = 6'd39 - 6'd9 * {4'h0, w_lvl};
        // log2 of the first table's size in bytes: (IA - shift) index bits, 8-byte entries
        w_tbits = (7'd64 - {1'b0, w_txsz}) - {1'b0, w_shift} + 7'd3;
        w_tmask = (48'h1 << w_tbits) - 48'h1;
        // The index keeps only the IA bits: in the TTB1 half the VA bits above IA are ones.
        w_addr = ((48'(w_ttb) << CD_TTB0_ADDR_LO) & ~w_tmask) |
                 ((48'(9'((q.addr[47:0] >> w_shift) & 48'h1FF)) << DESC_SIZE_LOG2) & w_tmask);
        h_lvl = wl_chain.lvl + 2'd1;
        h_addr = {wl_chain.tbl, 12'h0} |
                 (48'(9'((q.addr[47:0] >> (6'd39 - 6'd9 * {4'h0, h_lvl})) & 48'h1FF))
                  << DESC_SIZE_LOG2);
    end

    // ---- sequencing ---------------------------------------------------------------------
    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            st <= S_IDLE; ph <= PH_L1STD;
            q_tag <= '0; q <= '0; ctx_hit <= 1'b0;
            k <= '0; k_cdidx <= '0; k_s1fmt <= '0;
            rd_addr <= '0; rd_len <= '0; beat <= '0; d0 <= '0; d1 <= '0; d2 <= '0; d3 <= '0;
            rerr <= 1'b0; lvl <= '0; aptab <= '0; pxnt <= 1'b0; uxnt <= 1'b0;
            r_ap <= '0; r_uxn <= 1'b0; r_pxn <= 1'b0; r_hi <= '0; wfv <= '0;
            wfc0 <= '0; wfc1 <= '0; wfc2 <= '0; wf_done <= 1'b0;
            l_hit <= 1'b0; l_global <= 1'b0; lf <= '0;
            l_af0 <= 1'b0; u_dirty <= 1'b0; l_nofill <= 1'b0; u_desc <= '0; rexok <= 1'b0;
            x_fault <= '0; x_record <= 1'b0; x_fetch <= '0; cfill_need <= 1'b0;
            stale <= 1'b0; rsp_done <= 1'b0; evt_done <= 1'b0; cf_done <= 1'b0;
            tf_done <= 1'b0;
        end else begin
            if (inv && st != S_IDLE) stale <= 1'b1;
            case (st)
                S_IDLE: if (start) begin
                    q_tag <= s_tag; q <= s_req;
                    ctx_hit <= s_ctx_hit;
                    k <= s_ctx;
                    k_cdidx <= s_req.ssv ? s_req.ssid : 20'h0;
                    l_hit <= 1'b0; x_fault <= 8'h0; x_record <= 1'b0; x_fetch <= '0;
                    cfill_need <= 1'b0;
                    stale <= inv;  // an invalidation in the dispatch cycle already counts
                    rsp_done <= 1'b0; evt_done <= 1'b0; cf_done <= 1'b0; tf_done <= 1'b0;
                    wf_done <= 1'b0; wfv <= '0;
                    if (s_ctx_hit) st <= S_WINIT;
                    else begin
                        // Stream table lookup (reference §2.4)
                        if ((s_req.sid >> st_log2) != 32'h0) begin
                            k.kind <= CTX_FAULT;
                            x_fault <= EVENT_ID_C_BAD_STREAMID;
                            x_record <= recinvsid;
                            st <= S_DONE;
                        end else if (ST_LEVEL != int'(ST_LEVEL_LINEAR) &&
                                     strtab_cfg[STRTAB_BASE_CFG_FMT_LSB +: STRTAB_BASE_CFG_FMT_W]
                                     == STRTAB_FMT_TWO_LEVEL) begin
                            rd_addr <= st_l1_base + (48'(s_req.sid >> split) << L1STD_SIZE_LOG2);
                            rd_len <= 2'd0;
                            ph <= PH_L1STD;
                            st <= S_AR;
                        end else begin
                            rd_addr <= st_lin_base + (48'(s_req.sid) << STE_SIZE_LOG2);
                            rd_len <= 2'd3;
                            ph <= PH_STE;
                            st <= S_AR;
                        end
                    end
                end
                S_AR: if (ar_ready) begin
                    st <= S_R;
                    beat <= 2'd0;
                    rerr <= 1'b0;
                    rexok <= 1'b1;
                end
                S_R: if (r_valid) begin
                    case (beat)
                        2'd0: d0 <= r_data;
                        2'd1: d1 <= r_data;
                        2'd2: d2 <= r_data;
                        default: d3 <= r_data;
                    endcase
                    beat <= beat + 2'd1;
                    // SLVERR / DECERR are external aborts
                    if (r_resp[1]) rerr <= 1'b1;
                    if (r_resp != 2'b01) rexok <= 1'b0;
                    if (r_last) st <= S_PROC;
                end
                S_PROC: begin
                    // capture what the next steps need from the structure just read
                    if (ph == PH_STE && !rerr) begin
                        k.privcfg <= blk[STE_PRIVCFG_LSB +: STE_PRIVCFG_W];
                        k.instcfg <= blk[STE_INSTCFG_LSB +: STE_INSTCFG_W];
                        k.ats_ok <= ste_ats;
                        k_s1fmt <= s1fmt;
                        k_cdidx <= dc_cdidx;
                    end
                    if (ph == PH_CD && !rerr) begin
                        k.t0sz <= cd_t0sz;
                        k.epd0 <= blk[CD_EPD0_LSB];
                        k.t1sz <= cd_t1sz;
                        k.epd1 <= blk[CD_EPD1_LSB];
                        k.tbi1 <= blk[CD_TBI1_LSB];
                        k.ips <= (cd_ips > CD_IPS_W'(OAS)) ? CD_IPS_W'(OAS) : cd_ips;
                        k.affd <= blk[CD_AFFD_LSB];
                        k.ha <= (HTTU != 0) && blk[CD_HA_LSB];
                        // {HD, HA} = 0b10 behaves as 0b00 (section 5.4)
                        k.hd <= (HTTU >= int'(HTTU_ACCESS_DIRTY)) && blk[CD_HD_LSB] &&
                                blk[CD_HA_LSB];
                        k.wxn <= blk[CD_WXN_LSB];
                        k.tbi0 <= blk[CD_TBI0_LSB];
                        k.pan <= blk[CD_PAN_LSB];
                        k.r <= blk[CD_R_LSB];
                        k.a <= blk[CD_A_LSB];
                        k.s <= blk[CD_S_LSB];
                        k.asid <= (ASID16 != 0) ? blk[CD_ASID_LSB +: CD_ASID_W]
                                                : {8'h0, blk[CD_ASID_LSB +: 8]};  // 8-bit ASIDs
                        k.aset <= blk[CD_ASET_LSB];
                        k.had0 <= (HAD != 0) ? blk[CD_HAD0_LSB] : 1'b0;
                        k.had1 <= (HAD != 0) ? blk[CD_HAD1_LSB] : 1'b0;
                        k.ttb0 <= blk[CD_TTB0_LSB +: ADDR_W - CD_TTB0_ADDR_LO];   // TTB0[47:4]
                        k.ttb1 <= blk[CD_TTB1_LSB +: ADDR_W - CD_TTB1_ADDR_LO];   // TTB1[47:4]
                        k.mair <= blk[CD_MAIR_LSB +: CD_MAIR_W];
                    end
                    if (ph == PH_WALK && dc_read) begin
                        lvl <= lvl_n;
                        // hierarchical attributes, unless CD.HADx of the half disables them
                        if (!w_had) begin
                            aptab <= aptab | d0[DESC_TABLE_APTABLE_LSB +: DESC_TABLE_APTABLE_W];
                            pxnt <= pxnt | d0[DESC_TABLE_PXNTABLE_LSB];
                            uxnt <= uxnt | d0[DESC_TABLE_UXNTABLE_LSB];
                        end
                        // a valid table descriptor within IPS: cacheable (even if the walk
                        // faults further down)
                        r_ap <= wfc_new.ap;
                        r_pxn <= wfc_new.pxn;
                        r_uxn <= wfc_new.uxn;
                        r_hi <= wfc_new.hi;
                        wfv[lvl] <= 1'b1;
                        case (lvl)
                            2'd0: wfc0 <= wfc_new;
                            2'd1: wfc1 <= wfc_new;
                            default: wfc2 <= wfc_new;
                        endcase
                    end
                    if (dc_leaf) begin
                        // AP[2]: read-only, AP[1]: EL0 access
                        l_hit <= 1'b1;
                        l_global <= !d0[DESC_LEAF_NG_LSB];
                        lf.ro <= d0[DESC_LEAF_AP_LSB + 1] | aptab[1];
                        lf.el0 <= d0[DESC_LEAF_AP_LSB] & !aptab[0];
                        lf.uxn <= d0[DESC_LEAF_UXN_LSB] | uxnt;
                        lf.pxn <= d0[DESC_LEAF_PXN_LSB] | pxnt;
                        lf.attrindx <= d0[DESC_LEAF_ATTRINDX_LSB +: DESC_LEAF_ATTRINDX_W];
                        lf.sh <= d0[DESC_LEAF_SH_LSB +: DESC_LEAF_SH_W];
                        lf.size <= (lvl == 2'd1) ? SIZE_1G : (lvl == 2'd2) ? SIZE_2M : SIZE_4K;
                        lf.oa <= oa48[47:12];
                        lf.dbm <= (HTTU >= int'(HTTU_ACCESS_DIRTY)) && d0[DESC_LEAF_DBM_LSB] &&
                                  d0[DESC_LEAF_AP_LSB + 1] && !aptab[1];
                        l_af0 <= k.ha && !d0[DESC_LEAF_AF_LSB];  // AFFD IGNORED with HA
                        l_nofill <= 1'b0;
                    end
                    if (dc_fault != 8'h0) begin
                        x_fault <= dc_fault;
                        x_record <= dc_record;
                        x_fetch <= EVENT_FETCHADDR_W'(rd_addr >> EVENT_FETCHADDR_ADDR_LO);
                        if (ph != PH_WALK) k.kind <= CTX_FAULT;
                    end else if (ph == PH_STE && dc_kind != CTX_FAULT) begin
                        k.kind <= dc_kind;
                        cfill_need <= !q.at;  // a translated PA resolves no context
                    end
                    if (ph == PH_CD && dc_winit) begin
                        k.kind <= CTX_TRANSLATE;
                        cfill_need <= 1'b1;
                    end
                    if (dc_read) begin
                        rd_addr <= dc_addr;
                        rd_len <= dc_len;
                        ph <= dc_ph;
                        st <= S_AR;
                    end else if (dc_winit) st <= S_WINIT;
                    else if (HTTU != 0 && dc_leaf && k.ha) st <= S_LEAF;  // (HD needs HA)
                    else st <= S_DONE;
                end
                // HTTU (section 3.13): the leaf's flags are updated before the translation
                // completes, by an exclusive write of the descriptor read exclusively. AF is
                // set where it was 0 with CD.HA (never on a permission fault: whether it is
                // then is UNKNOWN, this SMMU sets nothing, and caches nothing); a write that
                // only the dirty state refuses clears AP[2] (and sets AF).
                S_LEAF: begin
                    if ((xc_dirty || (l_af0 && xc_rsp.fault == 8'h0)) && !rexok) begin
                        // OKAY to an exclusive read: this memory has no exclusive monitor,
                        // so no atomic update is possible; reported as an external abort on
                        // the update, never made non-atomically (section 3.15)
                        l_hit <= 1'b0;
                        x_fault <= EVENT_ID_F_WALK_EABT;
                        x_record <= 1'b1;
                        x_fetch <= EVENT_FETCHADDR_W'(rd_addr >> EVENT_FETCHADDR_ADDR_LO);
                        st <= S_DONE;
                    end else if (xc_dirty || (l_af0 && xc_rsp.fault == 8'h0)) begin
                        u_desc <= (d0 | DESC_LEAF_AF_MASK) &
                                  ~(xc_dirty ? (64'h1 << (DESC_LEAF_AP_LSB + 1)) : 64'h0);
                        u_dirty <= xc_dirty;
                        st <= S_AW;
                    end else begin
                        l_nofill <= l_af0;
                        st <= S_DONE;
                    end
                end
                S_AW: if (aw_ready) st <= S_W;
                S_W: if (w_ready) st <= S_B;
                S_B: if (b_valid) begin
                    case (b_resp)
                        2'b01: begin  // EXOKAY: the update is made
                            if (u_dirty) begin
                                lf.ro <= 1'b0;
                                lf.dbm <= 1'b0;
                            end
                            l_af0 <= 1'b0;
                            st <= S_DONE;
                        end
                        2'b00: begin  // OKAY: the descriptor may have changed; read it again
                            l_hit <= 1'b0;
                            rd_len <= 2'd0;
                            st <= S_AR;
                        end
                        default: begin  // SLVERR / DECERR: an external abort on the update
                            l_hit <= 1'b0;
                            x_fault <= EVENT_ID_F_WALK_EABT;
                            x_record <= 1'b1;
                            x_fetch <= EVENT_FETCHADDR_W'(rd_addr >> EVENT_FETCHADDR_ADDR_LO);
                            st <= S_DONE;
                        end
                    endcase
                end
                S_WINIT: begin
                    if (xc_nowalk) st <= S_DONE;  // F_TRANSLATION: input range or EPDx
                    else if (WALK_N == 0 || (wl_gnt && !wl_wait)) begin
                        rd_len <= 2'd0;
                        ph <= PH_WALK;
                        st <= S_AR;
                        if (WALK_N != 0 && wl_hit) begin
                            // continue below the cached table descriptor
                            lvl <= h_lvl;
                            rd_addr <= h_addr;
                            aptab <= w_had ? 2'b00 : wl_chain.ap;
                            pxnt <= !w_had && wl_chain.pxn;
                            uxnt <= !w_had && wl_chain.uxn;
                            r_ap <= wl_chain.ap; r_pxn <= wl_chain.pxn; r_uxn <= wl_chain.uxn; r_hi <= wl_chain.hi;
                        end else begin
                            lvl <= w_lvl;
                            rd_addr <= w_addr;
                            aptab <= 2'b00; pxnt <= 1'b0; uxnt <= 1'b0;
                            r_ap <= 2'b00; r_pxn <= 1'b0; r_uxn <= 1'b0; r_hi <= '0;
                        end
                    end
                end
                S_DONE: begin
                    if (rsp_valid && rsp_ready) rsp_done <= 1'b1;
                    if (evt_valid && evt_ready) evt_done <= 1'b1;
                    if (cf_valid && cf_ready) cf_done <= 1'b1;
                    if (tf_valid && tf_ready) tf_done <= 1'b1;
                    if (wf_valid && wf_ready) wf_done <= 1'b1;
                    if ((rsp_done || (rsp_valid && rsp_ready)) &&
                        (!evt_valid || evt_ready) && (!cf_valid || cf_ready) &&
                        (!tf_valid || tf_ready) && (!wf_valid || wf_ready)) st <= S_IDLE;
                end
                default: st <= S_IDLE;
            endcase
        end
    end

    assign idle = (st == S_IDLE);
    // An engine holding a stall outcome for the stall unit used no cached translation (its
    // transaction is retried as a new arrival), so CMD_SYNC does not wait for it: it may wait
    // for a free slot, which only a CMD_RESUME frees.
    assign busy_stale = stale && (st != S_IDLE) && !(st == S_DONE && xc_stall);

    assign ar_valid = (st == S_AR);
    assign ar_addr = rd_addr;
    assign ar_len = {6'h0, rd_len};
    assign ar_lock = (HTTU != 0) && ph == PH_WALK && (k.ha || k.hd);
    assign aw_valid = (st == S_AW);
    assign aw_addr = rd_addr;
    assign w_valid = (st == S_W);
    assign w_data = u_desc;

    assign rsp_valid = (st == S_DONE) && !rsp_done;
    assign rsp_tag = q_tag;
    assign rsp = xc_rsp;
    assign rsp_stall = xc_stall;
    assign req = q;

    assign evt_valid = (st == S_DONE) && !evt_done && xc_evt_valid;
    assign evt = xc_evt;

    // Fills are dropped once stale: their data may predate an invalidation. A walk whose
    // outcome stalls fills nothing: its transaction may be retried before any record or
    // response shows it (a record the event queue could not take), so a fill from it would
    // reach later transactions with nothing visible that explains it. (Caching is never
    // required; the retry walks again.)
    wire fill_ok = !stale && !xc_stall;
    assign cf_valid = (st == S_DONE) && !cf_done && cfill_need && fill_ok;
    ctx_key_t cf_key;
    assign cf_key.sid = q.sid;
    assign cf_key.ssv = q.ssv;
    assign cf_key.ssid = q.ssv ? q.ssid : 20'h0;
    assign cf.key = cf_key;
    assign cf.cdidx = k_cdidx;
    assign cf.ctx = k;

    assign tf_valid = (st == S_DONE) && !tf_done && l_hit && !l_nofill && fill_ok;
    assign tf.asid = k.asid;
    assign tf.gbl = l_global;
    assign tf.aset = k.aset;
    assign tf.upper = w_upper;
    assign tf.va = q.addr[47:12];
    assign tf.leaf = lf;

    // Fetching a context it will fill (it missed): a miss to that context parks behind it.
    // Not for an ATS-Translated request (it resolves no context), not once stale or faulted
    // in the configuration (no fill), and in DONE only while the fill is still offered.
    assign ctx_fetch = (st != S_IDLE) && !ctx_hit && !q.at && !stale && k.kind != CTX_FAULT &&
                       (st != S_DONE || cf_valid);
    assign wl_req = (st == S_WINIT) && !xc_nowalk && !wl_hold;
    // A leader: past WINIT in its walk, not stale, and still able to fill a level-2 chain:
    // reading levels 0-2, or holding the level-2 table descriptor it read; then in DONE
    // until its walk-cache fill has gone, so that a waiter finds even the shallower chains
    // of a walk that ended at level 1 or 2 (a block, a fault). Such a walk does not lead
    // through an HTTU update of its block (LEAF, AW, W, B).
    always @(*) begin
        case (st)
            S_AR, S_R, S_PROC: wl_lead = wfv[2] || lvl != 2'd3;
            S_LEAF, S_AW, S_W, S_B: wl_lead = wfv[2];
            S_DONE: wl_lead = wf_valid;
            default: wl_lead = 1'b0;
        endcase
        wl_lead = wl_lead && (WALK_N != 0) && ph == PH_WALK && !stale;
    end
    assign wl.asid = k.asid;
    assign wl.slvl = w_lvl;
    assign wl.upper = w_upper;
    assign wl.va = q.addr[47:21];
    assign wl.ips = k.ips;

    assign wf_valid = (WALK_N != 0) && (st == S_DONE) && !wf_done && (wfv != 3'b000) && fill_ok;
    assign wf.asid = k.asid;
    assign wf.slvl = w_lvl;
    assign wf.upper = w_upper;
    assign wf.va = q.addr[47:21];
    assign wf.v = wfv;
    assign wf.c0 = wfc0;
    assign wf.c1 = wfc1;
    assign wf.c2 = wfc2;
    // the chain extended by the table descriptor in d0 (at level `lvl`)
    always @(*) begin
        wfc_new.lvl = lvl;
        wfc_new.tbl = tbl_addr[47:12];
        wfc_new.ap = r_ap | d0[DESC_TABLE_APTABLE_LSB +: DESC_TABLE_APTABLE_W];
        wfc_new.pxn = r_pxn | d0[DESC_TABLE_PXNTABLE_LSB];
        wfc_new.uxn = r_uxn | d0[DESC_TABLE_UXNTABLE_LSB];
        wfc_new.hi = r_hi | tbl_addr[47:32];
    end

    // The STE/CD burst (blk) carries fields not used here;
    // xc_miss cannot be set in DONE (every path ends with a leaf or a fault).
    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{blk, xc_miss, strtab_cfg};
    // verilator lint_on UNUSEDSIGNAL
endmodule

`default_nettype wire
