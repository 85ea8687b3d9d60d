// SMMUv3 top level. Port contract: docs/port-contract.md; microarchitecture: docs/rtl.md.
//   - s_axil_*: AXI4-Lite register slave, 32-bit data, page 0 at 0x0_0000, page 1 at 0x1_0000
//   - m_axi_*:  AXI4 memory master, 64-bit data, 48-bit addresses (tables, queues, walks)
//   - t_req_* / t_rsp_*: translation port (TBU side)
//   - pr_* / prg_*: PCIe PRI, page requests in and PRG responses out (PRI=1 only)
//   - ainv_* / acpl_*: ATC invalidation requests out, completions in (ATS=1 only)
//   - irq_*:    wired interrupts
// Register offsets and fields: smmu_arch_pkg (generated from models/arch).
`default_nettype none

module smmu_top
    import smmu_arch_pkg::*;
    import smmu_types_pkg::*;
#(
    parameter int S1P = 1,
    parameter int COHACC = 1,
    parameter int BTM = 0,
    parameter int HTTU = 0,
    parameter int HYP = 0,
    parameter int ATS = 0,
    parameter int ASID16 = 1,
    parameter int MSI = 0,
    parameter int SEV = 0,
    parameter int PRI = 0,
    parameter int CD2L = 1,
    parameter int STALL_MODEL = 1,
    parameter int TERM_MODEL = 0,
    parameter int ST_LEVEL = 1,
    parameter int SIDSIZE = 16,
    parameter int SSIDSIZE = 16,
    parameter int PRIQS = 7,
    parameter int EVENTQS = 7,
    parameter int CMDQS = 8,
    parameter int HAD = 0,
    parameter int PPS = 0,
    parameter int RIL = 0,
    parameter int OAS = 5,
    parameter int STALL_MAX = 0,
    parameter logic [31:0] IIDR = 32'h0,
    parameter int AIDR = 0,
    parameter int GBPA_ABORT_RESET = 0,
    parameter int CR0ACK_DELAY = 4,
    parameter int GBPA_DELAY = 4,
    parameter int M_ID_W = 5,
    parameter int TAG_W = 8,
    parameter int N_WALK = 16,     // miss engines = walks in flight (< 2^M_ID_W)
    parameter int CTX_N = 64,      // configuration-cache entries (resolved STE + CD)
    parameter int TLB_N = 256,     // IOTLB entries for 4 KiB pages
    parameter int TLB_WAYS = 4,    // their ways (TLB_N / TLB_WAYS sets, a power of two)
    parameter int TLB_BLK_N = 16,  // IOTLB entries for 2 MiB and 1 GiB blocks (fully associative); 0: none
    parameter int WALK_N = 16,     // walk-cache level-2 entries (cached table-descriptor chains); 0: no walk cache
    parameter int WALK_UP_N = 8,   // walk-cache entries of levels 0 and 1, each
    parameter int MERGE_N = 16,    // misses parked behind an engine on the same page or context; 0: none
    parameter int EVTQ_FIFO = 4,   // event records buffered before the event queue
    parameter int ATC_TIMEOUT = 1024  // cycles a CMD_SYNC waits for ATC invalidations (ATS=1)
) (
    input  logic              clk,
    input  logic              rst_n,

    // Register port (AXI4-Lite slave)
    input  logic [REG_OFF_W-1:0] s_axil_awaddr,
    input  logic [2:0]        s_axil_awprot,
    input  logic              s_axil_awvalid,
    output logic              s_axil_awready,
    input  logic [31:0]       s_axil_wdata,
    input  logic [3:0]        s_axil_wstrb,
    input  logic              s_axil_wvalid,
    output logic              s_axil_wready,
    output logic [1:0]        s_axil_bresp,
    output logic              s_axil_bvalid,
    input  logic              s_axil_bready,
    input  logic [REG_OFF_W-1:0] s_axil_araddr,
    input  logic [2:0]        s_axil_arprot,
    input  logic              s_axil_arvalid,
    output logic              s_axil_arready,
    output logic [31:0]       s_axil_rdata,
    output logic [1:0]        s_axil_rresp,
    output logic              s_axil_rvalid,
    input  logic              s_axil_rready,

    // Memory port (AXI4 master)
    output logic [M_ID_W-1:0] m_axi_awid,
    output logic [47:0]       m_axi_awaddr,
    output logic [7:0]        m_axi_awlen,
    output logic [2:0]        m_axi_awsize,
    output logic [1:0]        m_axi_awburst,
    output logic              m_axi_awlock,
    output logic [3:0]        m_axi_awcache,
    output logic [2:0]        m_axi_awprot,
    output logic              m_axi_awvalid,
    input  logic              m_axi_awready,
    output logic [63:0]       m_axi_wdata,
    output logic [7:0]        m_axi_wstrb,
    output logic              m_axi_wlast,
    output logic              m_axi_wvalid,
    input  logic              m_axi_wready,
    input  logic [M_ID_W-1:0] m_axi_bid,
    input  logic [1:0]        m_axi_bresp,
    input  logic              m_axi_bvalid,
    output logic              m_axi_bready,
    output logic [M_ID_W-1:0] m_axi_arid,
    output logic [47:0]       m_axi_araddr,
    output logic [7:0]        m_axi_arlen,
    output logic [2:0]        m_axi_arsize,
    output logic [1:0]        m_axi_arburst,
    output logic              m_axi_arlock,
    output logic [3:0]        m_axi_arcache,
    output logic [2:0]        m_axi_arprot,
    output logic              m_axi_arvalid,
    input  logic              m_axi_arready,
    input  logic [M_ID_W-1:0] m_axi_rid,
    input  logic [63:0]       m_axi_rdata,
    input  logic [1:0]        m_axi_rresp,
    input  logic              m_axi_rlast,
    input  logic              m_axi_rvalid,
    output logic              m_axi_rready,

    // Translation port
    input  logic              t_req_valid,
    output logic              t_req_ready,
    input  logic [TAG_W-1:0]  t_req_tag,
    input  logic [31:0]       t_req_sid,
    input  logic              t_req_ssv,
    input  logic [19:0]       t_req_ssid,
    input  logic [63:0]       t_req_addr,
    input  logic              t_req_rnw,
    input  logic              t_req_ind,
    input  logic              t_req_pnu,
    input  logic              t_req_ats,    // an ATS Translation Request (ATS=1; else ignored)
    input  logic              t_req_nw,     // its No-Write bit
    input  logic              t_req_at,     // an ATS-Translated transaction (ATS=1; else ignored)
    output logic              t_rsp_valid,
    input  logic              t_rsp_ready,
    output logic [TAG_W-1:0]  t_rsp_tag,
    output logic [1:0]        t_rsp_result,
    output logic [51:0]       t_rsp_pa,
    output logic [2:0]        t_rsp_perm,
    output logic [7:0]        t_rsp_attr,
    output logic [1:0]        t_rsp_sh,
    output logic [7:0]        t_rsp_fault,
    output logic              t_rsp_walked,

    // PCIe PRI: page requests in, PRG responses out (PRI=1; with PRI=0 pr_ready stays low)
    input  logic              pr_valid,
    output logic              pr_ready,
    input  logic [31:0]       pr_sid,
    input  logic              pr_ssv,
    input  logic [19:0]       pr_ssid,
    input  logic              pr_last,
    input  logic              pr_r,
    input  logic              pr_w,
    input  logic              pr_x,
    input  logic              pr_priv,
    input  logic [8:0]        pr_prgi,
    input  logic [51:0]       pr_page,      // page address bits [63:12]
    output logic              prg_valid,
    input  logic              prg_ready,
    output logic [31:0]       prg_sid,
    output logic              prg_ssv,
    output logic [19:0]       prg_ssid,
    output logic [8:0]        prg_prgi,
    output logic [1:0]        prg_code,     // CMD_PRI_RESP.Resp encoding
    output logic              prg_auto,     // an automatic response (overflow, queue unusable)

    // ATC invalidation: requests out (CMD_ATC_INV), completions or URs in by ITAG (ATS=1)
    output logic              ainv_valid,
    input  logic              ainv_ready,
    output logic [3:0]        ainv_itag,
    output logic [31:0]       ainv_sid,
    output logic              ainv_ssv,
    output logic [19:0]       ainv_ssid,
    output logic              ainv_glob,
    output logic [51:0]       ainv_addr,    // address bits [63:12]
    output logic [5:0]        ainv_size,    // span 4 KiB * 2^size; 52: everything
    input  logic              acpl_valid,
    input  logic [3:0]        acpl_itag,

    // DVM: the CPU's broadcast TLB invalidations and DVM syncs (BTM=1; else taken and ignored)
    input  logic              dvm_valid,
    output logic              dvm_ready,
    input  logic [2:0]        dvm_op,       // 0 VAE1IS, 1 VALE1IS, 2 ASIDE1IS, 3 VMALLE1IS, 4 SYNC
    input  logic [15:0]       dvm_asid,
    input  logic [43:0]       dvm_va,       // VA[55:12]
    input  logic              dvm_e2h,      // an EL2&0 (VHE) form

    // Wired interrupts
    output logic              irq_eventq,
    output logic              irq_priq,
    output logic              irq_cmdq_sync,
    output logic              irq_gerror
);
    logic        reg_wr, reg_rd;
    logic [REG_OFF_W-1:0] reg_waddr, reg_raddr;
    logic [31:0] reg_wdata, reg_rdata;
    logic [31:0] cr0_ack, gbpa_q, cr2_q, irq_ctrlack_q, strtab_base_cfg_q;
    logic [31:0] cmdq_prod_q, cmdq_cons_q, eventq_prod_q, eventq_cons_q;
    logic [63:0] strtab_base_q, cmdq_base_q, eventq_base_q;
    logic [GERROR_SFM_ERR_LSB:0] gerror_active, gerror_raise;
    logic        cq_cons_we, eq_prod_we, cq_gerr, eq_gerr, cq_busy, eq_busy, cmdq_run, eventq_run;
    logic [31:0] cq_cons_wdata, eq_prod_wdata;
    logic [63:0] priq_base_q;
    logic [31:0] priq_prod_q, priq_cons_q, pq_prod_wdata;
    logic        pq_prod_we, pq_gerr, pq_busy, priq_run;

    smmu_axil_slave #(.AW(REG_OFF_W)) u_axil (
        .clk, .rst_n,
        .s_axil_awaddr, .s_axil_awprot, .s_axil_awvalid, .s_axil_awready,
        .s_axil_wdata, .s_axil_wstrb, .s_axil_wvalid, .s_axil_wready,
        .s_axil_bresp, .s_axil_bvalid, .s_axil_bready,
        .s_axil_araddr, .s_axil_arprot, .s_axil_arvalid, .s_axil_arready,
        .s_axil_rdata, .s_axil_rresp, .s_axil_rvalid, .s_axil_rready,
        .reg_wr, .reg_waddr, .reg_wdata, .reg_rd, .reg_raddr, .reg_rdata
    );

    smmu_regs #(
        .S1P(S1P), .COHACC(COHACC), .BTM(BTM), .HTTU(HTTU), .HYP(HYP), .ATS(ATS),
        .ASID16(ASID16), .MSI(MSI), .SEV(SEV), .PRI(PRI), .CD2L(CD2L),
        .STALL_MODEL(STALL_MODEL), .TERM_MODEL(TERM_MODEL), .ST_LEVEL(ST_LEVEL),
        .SIDSIZE(SIDSIZE), .SSIDSIZE(SSIDSIZE), .PRIQS(PRIQS), .EVENTQS(EVENTQS),
        .CMDQS(CMDQS), .HAD(HAD), .PPS(PPS), .RIL(RIL), .OAS(OAS), .STALL_MAX(STALL_MAX),
        .IIDR(IIDR), .AIDR(AIDR), .GBPA_ABORT_RESET(GBPA_ABORT_RESET),
        .CR0ACK_DELAY(CR0ACK_DELAY), .GBPA_DELAY(GBPA_DELAY), .AW(REG_OFF_W)
    ) u_regs (
        .clk, .rst_n,
        .reg_wr, .reg_waddr, .reg_wdata, .reg_rd, .reg_raddr, .reg_rdata,
        .gerror_raise,
        .hw_cmdq_cons_we(cq_cons_we), .hw_cmdq_cons(cq_cons_wdata),
        .hw_eventq_prod_we(eq_prod_we), .hw_eventq_prod(eq_prod_wdata),
        .hw_priq_prod_we(pq_prod_we), .hw_priq_prod(pq_prod_wdata),
        .cmdq_busy(cq_busy), .eventq_busy(eq_busy), .priq_busy(pq_busy),
        .cr0_ack, .cmdq_run, .eventq_run, .priq_run, .gbpa_q, .cr2_q, .irq_ctrlack_q,
        .strtab_base_q, .strtab_base_cfg_q,
        .cmdq_base_q, .cmdq_prod_q, .cmdq_cons_q, .eventq_base_q, .eventq_prod_q,
        .eventq_cons_q, .priq_base_q, .priq_prod_q, .priq_cons_q, .gerror_active, .irq_gerror
    );

    // GERROR bits raised by the engines: CMDQ_ERR (command queue), EVENTQ_ABT_ERR (event
    // queue), PRIQ_ABT_ERR (PRI queue)
    always @(*) begin
        gerror_raise = '0;
        gerror_raise[GERROR_CMDQ_ERR_LSB] = cq_gerr;
        gerror_raise[GERROR_EVENTQ_ABT_ERR_LSB] = eq_gerr;
        gerror_raise[GERROR_PRIQ_ABT_ERR_LSB] = pq_gerr;
    end

    // ---- translation unit -----------------------------------------------------------------
    localparam int NREQ = N_WALK + 1;   // read requesters: engines 0..N_WALK-1, then cmdq

    logic                 inv_valid, sync_busy_x, evtq_idle, cq_inv_valid, dvm_inv_valid;
    inv_t                 inv, cq_inv, dvm_inv;
    xreq_t                x_req;
    xrsp_t                x_rsp;
    logic                 evt_valid, evt_ready;
    logic [EVENT_NBITS-1:0] evt;
    logic [NREQ-1:0]      rq_valid, rq_ready, rs_valid;
    logic [NREQ*48-1:0]   rq_addr;
    logic [NREQ*8-1:0]    rq_len;
    logic [NREQ-1:0]      rq_lock;
    localparam int WI_W = (N_WALK > 1) ? $clog2(N_WALK) : 1;
    logic                 uw_awvalid, uw_awready, uw_wvalid, uw_wready, uw_bvalid;
    logic [47:0]          uw_awaddr;
    logic [WI_W-1:0]      uw_id;
    logic [63:0]          uw_wdata;

    // the translation port's fields as the request and response records
    assign x_req.sid = t_req_sid;
    // Translated traffic carries no PASID (no IDR3.PASIDTT); an ATS request takes priority
    // over t_req_at.
    wire req_at = (ATS != 0) && t_req_at && !t_req_ats;
    assign x_req.ssv = t_req_ssv && !req_at;
    assign x_req.ssid = t_req_ssid;
    assign x_req.addr = t_req_addr;
    assign x_req.rnw = t_req_rnw;
    assign x_req.ind = t_req_ind;
    assign x_req.pnu = t_req_pnu;
    assign x_req.ats = (ATS != 0) && t_req_ats;
    assign x_req.nw = (ATS != 0) && t_req_nw;
    assign x_req.at = req_at;
    assign t_rsp_result = x_rsp.result;
    assign t_rsp_pa = x_rsp.pa;
    assign t_rsp_perm = x_rsp.perm;
    assign t_rsp_attr = x_rsp.attr;
    assign t_rsp_sh = x_rsp.sh;
    assign t_rsp_fault = x_rsp.fault;

    // stall unit <-> command queue and event queue (smmu_stall, inside smmu_xlate)
    localparam int SL_W = (STALL_MAX > 1) ? $clog2(STALL_MAX) : 1;
    logic            evt_stall, st_done, st_drop, evtq_writable;
    logic [SL_W-1:0] evt_slot, st_slot;
    logic            resume_valid, term_valid, stall_ac, stall_ab;
    logic [31:0]     stall_sid;
    logic [CMD_STAG_W-1:0] stall_stag;

    smmu_xlate #(
        .TAG_W(TAG_W), .N_WALK(N_WALK), .CTX_N(CTX_N), .TLB_N(TLB_N), .WALK_N(WALK_N), .WALK_UP_N(WALK_UP_N),
        .TLB_WAYS(TLB_WAYS), .TLB_BLK_N(TLB_BLK_N), .MERGE_N(MERGE_N),
        .S1P(S1P),
        .CD2L(CD2L), .STALL_MODEL(STALL_MODEL), .STALL_MAX(STALL_MAX), .TERM_MODEL(TERM_MODEL),
        .ST_LEVEL(ST_LEVEL), .SIDSIZE(SIDSIZE), .SSIDSIZE(SSIDSIZE), .OAS(OAS),
        .HTTU(HTTU), .ASID16(ASID16), .HYP(HYP), .ATS(ATS), .HAD(HAD)
    ) u_xlate (
        .clk, .rst_n,
        .t_req_valid, .t_req_ready, .t_req_tag, .t_req(x_req),
        .t_rsp_valid, .t_rsp_ready, .t_rsp_tag, .t_rsp(x_rsp), .t_rsp_walked,
        .smmuen(cr0_ack[CR0_SMMUEN_LSB]), .gbpa_abort(gbpa_q[GBPA_ABORT_LSB]),
        .atschk(cr0_ack[CR0_ATSCHK_LSB]),
        .recinvsid(cr2_q[CR2_RECINVSID_LSB]),
        .strtab_base(48'(strtab_base_q & STRTAB_BASE_ADDR_MASK)), .strtab_cfg(strtab_base_cfg_q),
        .inv_valid, .inv, .sync_busy(sync_busy_x),
        .evt_valid, .evt_ready, .evt,
        .evt_stall, .evt_slot, .st_done, .st_drop, .st_slot, .evtq_writable,
        .resume_valid, .term_valid, .stall_sid, .stall_stag, .stall_ac, .stall_ab,
        .ar_valid(rq_valid[N_WALK-1:0]), .ar_ready(rq_ready[N_WALK-1:0]),
        .ar_addr(rq_addr[N_WALK*48-1:0]), .ar_len(rq_len[N_WALK*8-1:0]),
        .ar_lock(rq_lock[N_WALK-1:0]),
        .r_valid(rs_valid[N_WALK-1:0]), .r_data(m_axi_rdata), .r_resp(m_axi_rresp),
        .r_last(m_axi_rlast),
        .uw_awvalid, .uw_awready, .uw_awaddr, .uw_id, .uw_wvalid, .uw_wready, .uw_wdata,
        .uw_bvalid, .uw_bresp(m_axi_bresp)
    );
    assign rq_lock[N_WALK] = 1'b0;  // command fetches are plain reads

    // ---- command queue --------------------------------------------------------------------
    smmu_cmdq #(
        .CMDQS(CMDQS), .ATS(ATS), .PRI(PRI), .STALL_MODEL(STALL_MODEL), .ASID16(ASID16),
        .HYP(HYP), .RIL(RIL), .ATC_TIMEOUT(ATC_TIMEOUT), .ITAG_W(4)
    ) u_cmdq (
        .clk, .rst_n,
        .cmdqen(cmdq_run), .cmdq_base(cmdq_base_q), .cmdq_prod(cmdq_prod_q),
        .cmdq_cons(cmdq_cons_q), .err_active(gerror_active[GERROR_CMDQ_ERR_LSB]),
        .cons_we(cq_cons_we), .cons_wdata(cq_cons_wdata), .gerr_raise(cq_gerr), .busy(cq_busy),
        .ar_valid(rq_valid[N_WALK]), .ar_ready(rq_ready[N_WALK]),
        .ar_addr(rq_addr[N_WALK*48 +: 48]), .ar_len(rq_len[N_WALK*8 +: 8]),
        .r_valid(rs_valid[N_WALK]), .r_data(m_axi_rdata), .r_resp(m_axi_rresp),
        .r_last(m_axi_rlast),
        .inv_valid(cq_inv_valid), .inv(cq_inv),
        // a SYNC also waits for the event records of transactions already terminated
        .sync_busy(sync_busy_x || !evtq_idle),
        .irq_cmdq_sync,
        .resume_valid, .term_valid, .stall_sid, .stall_stag, .stall_ac, .stall_ab,
        .smmuen(cr0_ack[CR0_SMMUEN_LSB]), .presp_valid, .presp_ready, .presp_sid, .presp_ssv,
        .presp_ssid, .presp_prgi, .presp_code,
        .ainv_valid, .ainv_ready, .ainv_itag, .ainv_sid, .ainv_ssv, .ainv_ssid, .ainv_glob,
        .ainv_addr, .ainv_size, .acpl_valid, .acpl_itag
    );

    // ---- broadcast TLB invalidation (BTM): shares the invalidation bus, the queue first ------
    if (BTM != 0) begin : g_dvm
        smmu_dvm #(.ASID16(ASID16)) u_dvm (
            .clk, .rst_n,
            .dvm_valid, .dvm_ready, .dvm_op, .dvm_asid, .dvm_va, .dvm_e2h,
            .ptm(cr2_q[CR2_PTM_LSB]), .cq_inv(cq_inv_valid), .busy(sync_busy_x),
            .inv_valid(dvm_inv_valid), .inv(dvm_inv)
        );
    end else begin : g_no_dvm
        assign dvm_ready = 1'b1;
        assign dvm_inv_valid = 1'b0;
        assign dvm_inv = '0;
        // verilator lint_off UNUSEDSIGNAL
        wire unused_dvm = ^{dvm_valid, dvm_op, dvm_asid, dvm_va, dvm_e2h};
        // verilator lint_on UNUSEDSIGNAL
    end
    assign inv_valid = cq_inv_valid || dvm_inv_valid;
    assign inv = cq_inv_valid ? cq_inv : dvm_inv;

    // ---- memory writers: the event queue (port 0), the PRI queue (port 1) and the engines'
    // HTTU updates (port 2: one beat, exclusive, under the engine's ID) ----------------------
    logic [2:0]      w_awvalid, w_awready, w_wlast, w_wvalid, w_wready, w_bvalid;
    logic [3*48-1:0] w_awaddr;
    logic [3*8-1:0]  w_awlen;
    logic [3*64-1:0] w_wdata;
    assign w_awvalid[2] = uw_awvalid;
    assign uw_awready = w_awready[2];
    assign w_awaddr[96 +: 48] = uw_awaddr;
    assign w_awlen[16 +: 8] = 8'd0;
    assign w_wdata[128 +: 64] = uw_wdata;
    assign w_wlast[2] = 1'b1;
    assign w_wvalid[2] = uw_wvalid;
    assign uw_wready = w_wready[2];
    assign uw_bvalid = w_bvalid[2];
    logic [M_ID_W-1:0] awid_e, awid_p;
    logic        presp_valid, presp_ready, presp_ssv;
    logic [31:0] presp_sid;
    logic [19:0] presp_ssid;
    logic [8:0]  presp_prgi;
    logic [1:0]  presp_code;

    smmu_evtq #(.EVENTQS(EVENTQS), .DEPTH(EVTQ_FIFO), .M_ID_W(M_ID_W), .SL_W(SL_W)) u_evtq (
        .clk, .rst_n,
        .push_valid(evt_valid), .push_ready(evt_ready), .push_data(evt),
        .push_stall(evt_stall), .push_slot(evt_slot), .st_done, .st_drop, .st_slot,
        .writable(evtq_writable),
        .eventqen(eventq_run), .abt_active(gerror_active[GERROR_EVENTQ_ABT_ERR_LSB]),
        .eventq_base(eventq_base_q),
        .eventq_prod(eventq_prod_q),
        .eventq_cons(eventq_cons_q), .prod_we(eq_prod_we), .prod_wdata(eq_prod_wdata),
        .gerr_raise(eq_gerr), .idle(evtq_idle), .busy(eq_busy),
        .m_axi_awid(awid_e), .m_axi_awaddr(w_awaddr[0 +: 48]), .m_axi_awlen(w_awlen[0 +: 8]),
        .m_axi_awvalid(w_awvalid[0]), .m_axi_awready(w_awready[0]),
        .m_axi_wdata(w_wdata[0 +: 64]), .m_axi_wlast(w_wlast[0]), .m_axi_wvalid(w_wvalid[0]),
        .m_axi_wready(w_wready[0]), .m_axi_bresp, .m_axi_bvalid(w_bvalid[0])
    );

    // The PRI queue: page requests in the PRI queue entry layout (smmu_arch_pkg PRI_*).
    if (PRI != 0) begin : g_priq
        logic [PRI_NBITS-1:0] pr_entry;
        always @(*) begin
            pr_entry = '0;
            pr_entry[PRI_STREAMID_LSB +: PRI_STREAMID_W] = pr_sid;
            pr_entry[PRI_SUBSTREAMID_LSB +: PRI_SUBSTREAMID_W] = pr_ssid;
            pr_entry[PRI_PRIV_LSB] = pr_priv;
            pr_entry[PRI_X_LSB] = pr_x;
            pr_entry[PRI_R_LSB] = pr_r;
            pr_entry[PRI_W_LSB] = pr_w;
            pr_entry[PRI_LAST_LSB] = pr_last;
            pr_entry[PRI_SSV_LSB] = pr_ssv;
            pr_entry[PRI_PRGINDEX_LSB +: PRI_PRGINDEX_W] = pr_prgi;
            pr_entry[PRI_PAGEADDR_LSB +: PRI_PAGEADDR_W] = pr_page;
        end
        smmu_priq #(.PRIQS(PRIQS), .M_ID_W(M_ID_W)) u_priq (
            .clk, .rst_n,
            .push_valid(pr_valid), .push_ready(pr_ready), .push_data(pr_entry),
            .presp_valid, .presp_ready, .presp_sid, .presp_ssv, .presp_ssid, .presp_prgi,
            .presp_code,
            .prg_valid, .prg_ready, .prg_sid, .prg_ssv, .prg_ssid, .prg_prgi, .prg_code,
            .prg_auto,
            .priqen(priq_run && cr0_ack[CR0_SMMUEN_LSB]),
            .abt_active(gerror_active[GERROR_PRIQ_ABT_ERR_LSB]),
            .priq_base(priq_base_q), .priq_prod(priq_prod_q), .priq_cons(priq_cons_q),
            .prod_we(pq_prod_we), .prod_wdata(pq_prod_wdata), .gerr_raise(pq_gerr),
            .busy(pq_busy),
            .m_axi_awid(awid_p), .m_axi_awaddr(w_awaddr[48 +: 48]),
            .m_axi_awlen(w_awlen[8 +: 8]), .m_axi_awvalid(w_awvalid[1]),
            .m_axi_awready(w_awready[1]), .m_axi_wdata(w_wdata[64 +: 64]),
            .m_axi_wlast(w_wlast[1]), .m_axi_wvalid(w_wvalid[1]), .m_axi_wready(w_wready[1]),
            .m_axi_bresp, .m_axi_bvalid(w_bvalid[1])
        );
    end else begin : g_no_priq
        assign pr_ready = 1'b0;
        assign presp_ready = 1'b1;
        assign prg_valid = 1'b0;
        assign prg_sid = '0;
        assign prg_ssv = 1'b0;
        assign prg_ssid = '0;
        assign prg_prgi = '0;
        assign prg_code = '0;
        assign prg_auto = 1'b0;
        assign pq_prod_we = 1'b0;
        assign pq_prod_wdata = '0;
        assign pq_gerr = 1'b0;
        assign pq_busy = 1'b0;
        assign awid_p = '0;
        assign w_awaddr[48 +: 48] = '0;
        assign w_awlen[8 +: 8] = '0;
        assign w_awvalid[1] = 1'b0;
        assign w_wdata[64 +: 64] = '0;
        assign w_wlast[1] = 1'b0;
        assign w_wvalid[1] = 1'b0;
        // verilator lint_off UNUSEDSIGNAL
        wire unused_pri = ^{pr_valid, pr_sid, pr_ssv, pr_ssid, pr_last, pr_r, pr_w, pr_x,
                            pr_priv, pr_prgi, pr_page, prg_ready, presp_valid, presp_sid,
                            presp_ssv, presp_ssid, presp_prgi, presp_code, priq_run,
                            priq_base_q, priq_prod_q, priq_cons_q, w_awready[1], w_wready[1],
                            w_bvalid[1]};
        // verilator lint_on UNUSEDSIGNAL
    end

    smmu_wr_arb #(.M_ID_W(M_ID_W), .NP(3)) u_wr_arb (
        .clk, .rst_n,
        .aw_valid(w_awvalid), .aw_ready(w_awready), .aw_addr(w_awaddr), .aw_len(w_awlen),
        .aw_id({M_ID_W'(uw_id), {(2 * M_ID_W){1'b0}}}), .aw_lock(3'b100),
        .w_data(w_wdata), .w_last(w_wlast), .w_valid(w_wvalid), .w_ready(w_wready),
        .b_valid(w_bvalid),
        .m_axi_awid, .m_axi_awaddr, .m_axi_awlen, .m_axi_awlock, .m_axi_awvalid,
        .m_axi_awready,
        .m_axi_wdata, .m_axi_wlast, .m_axi_wvalid, .m_axi_wready, .m_axi_bvalid
    );

    // ---- memory port: reads arbitrated (writes: smmu_wr_arb above) ---------------------------
    smmu_rd_arb #(.NREQ(NREQ), .M_ID_W(M_ID_W)) u_rd_arb (
        .clk, .rst_n,
        .req_valid(rq_valid), .req_ready(rq_ready), .req_addr(rq_addr), .req_len(rq_len),
        .req_lock(rq_lock), .rsp_valid(rs_valid),
        .m_axi_arid, .m_axi_araddr, .m_axi_arlen, .m_axi_arlock, .m_axi_arvalid,
        .m_axi_arready,
        .m_axi_rid, .m_axi_rvalid
    );

    // Fixed attributes: 64-bit beats, incrementing bursts, normal cacheable (the port is
    // coherent, IDR0.COHACC), unprivileged non-secure data. AxLOCK marks the exclusive
    // accesses of HTTU updates (the arbiters drive it).
    assign m_axi_awsize = 3'd3;
    assign m_axi_awburst = 2'b01;
    assign m_axi_awcache = 4'b0011;
    assign m_axi_awprot = 3'b010;
    assign m_axi_wstrb = 8'hFF;
    assign m_axi_bready = 1'b1;
    assign m_axi_arsize = 3'd3;
    assign m_axi_arburst = 2'b01;
    assign m_axi_arcache = 4'b0011;
    assign m_axi_arprot = 3'b010;
    assign m_axi_rready = 1'b1;

    // Wired, level-sensitive: asserted while the event queue holds records software has not
    // consumed (PROD != CONS) or an overflow is not yet acknowledged, and IRQ_CTRLACK enables it.
    localparam int QP_W = EVENTQ_PROD_WR_W;      // queue pointer: index and wrap bit
    localparam int LG_W = EVENTQ_BASE_LOG2SIZE_W;
    wire [LG_W-1:0] eq_log2size = eventq_base_q[EVENTQ_BASE_LOG2SIZE_LSB +: LG_W];
    assign irq_eventq = irq_ctrlack_q[IRQ_CTRL_EVENTQ_IRQEN_LSB] &&
                        (((eventq_prod_q[EVENTQ_PROD_WR_LSB +: QP_W] ^
                           eventq_cons_q[EVENTQ_CONS_RD_LSB +: QP_W]) & qmask_e) != '0 ||
                         eventq_prod_q[EVENTQ_PROD_OVFLG_LSB] !=
                         eventq_cons_q[EVENTQ_CONS_OVACKFLG_LSB]);
    logic [QP_W-1:0] qmask_e;
    always @(*) begin
        qmask_e = (QP_W'(2) << ((int'(eq_log2size) > EVENTQS) ? LG_W'(EVENTQS) : eq_log2size))
                  - QP_W'(1);
    end
    // The PRI queue's, likewise (never with PRI=0: its registers stay 0).
    wire [LG_W-1:0] pq_log2size = priq_base_q[EVENTQ_BASE_LOG2SIZE_LSB +: LG_W];
    logic [QP_W-1:0] qmask_p;
    always @(*) begin
        qmask_p = (QP_W'(2) << ((int'(pq_log2size) > PRIQS) ? LG_W'(PRIQS) : pq_log2size))
                  - QP_W'(1);
    end
    assign irq_priq = (PRI != 0) && irq_ctrlack_q[IRQ_CTRL_PRIQ_IRQEN_LSB] &&
                      (((priq_prod_q[EVENTQ_PROD_WR_LSB +: QP_W] ^
                         priq_cons_q[EVENTQ_CONS_RD_LSB +: QP_W]) & qmask_p) != '0 ||
                       priq_prod_q[EVENTQ_PROD_OVFLG_LSB] != priq_cons_q[EVENTQ_CONS_OVACKFLG_LSB]);

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{m_axi_bid, reg_rd, cr0_ack, gbpa_q, cr2_q, irq_ctrlack_q, strtab_base_q,
                    gerror_active, awid_e, awid_p};
    // verilator lint_on UNUSEDSIGNAL
endmodule

`default_nettype wire
