// Testbench-only wrapper around smmu_top (the DUT is unchanged): the pyuvm testbench's batch
// translation port and memory-port counters, so that Python wakes per burst or per response
// rather than per clock edge (docs/testbench.md, "The batch translation port").
//
// Every smmu_top port appears here under its own name. With tbq_en=0 the t_req_* and
// t_rsp_ready pins drive the DUT (the directed tests' XPort); with tbq_en=1 the engine below
// does: Python writes requests into tbq_req_q and advances tbq_req_wp; the engine presents
// them in order, each after at least its gap of idle cycles, and files every response with
// its acceptance and completion cycles in tbq_rsp_q, advancing tbq_rsp_wp. Response
// back-pressure comes from an LFSR seeded by Python (tbq_bp_*). The cycle stamps count rising
// edges from time zero, as the testbench's cycle() does.
/* verilator coverage_off */
`default_nettype none

module smmu_tb
    import smmu_arch_pkg::*;
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
    parameter int N_WALK = 16,
    parameter int CTX_N = 64,
    parameter int TLB_N = 256,
    parameter int TLB_WAYS = 4,
    parameter int TLB_BLK_N = 16,
    parameter int WALK_N = 16,
    parameter int WALK_UP_N = 8,
    parameter int MERGE_N = 16,
    parameter int EVTQ_FIFO = 4,
    parameter int ATC_TIMEOUT = 1024
) (
    input  logic clk,
    input  logic rst_n,
    input  logic [REG_OFF_W-1:0] s_axil_awaddr,
    input  logic [2:0] s_axil_awprot,
    input  logic s_axil_awvalid,
    output logic s_axil_awready,
    input  logic [31:0] s_axil_wdata,
    input  logic [3:0] s_axil_wstrb,
    input  logic s_axil_wvalid,
    output logic s_axil_wready,
    output logic [1:0] s_axil_bresp,
    output logic s_axil_bvalid,
    input  logic s_axil_bready,
    input  logic [REG_OFF_W-1:0] s_axil_araddr,
    input  logic [2:0] s_axil_arprot,
    input  logic s_axil_arvalid,
    output logic s_axil_arready,
    output logic [31:0] s_axil_rdata,
    output logic [1:0] s_axil_rresp,
    output logic s_axil_rvalid,
    input  logic s_axil_rready,
    output logic [M_ID_W-1:0] m_axi_awid,
    output logic [47:0] m_axi_awaddr,
    output logic [7:0] m_axi_awlen,
    output logic [2:0] m_axi_awsize,
    output logic [1:0] m_axi_awburst,
    output logic m_axi_awlock,
    output logic [3:0] m_axi_awcache,
    output logic [2:0] m_axi_awprot,
    output logic m_axi_awvalid,
    input  logic m_axi_awready,
    output logic [63:0] m_axi_wdata,
    output logic [7:0] m_axi_wstrb,
    output logic m_axi_wlast,
    output logic m_axi_wvalid,
    input  logic m_axi_wready,
    input  logic [M_ID_W-1:0] m_axi_bid,
    input  logic [1:0] m_axi_bresp,
    input  logic m_axi_bvalid,
    output logic m_axi_bready,
    output logic [M_ID_W-1:0] m_axi_arid,
    output logic [47:0] m_axi_araddr,
    output logic [7:0] m_axi_arlen,
    output logic [2:0] m_axi_arsize,
    output logic [1:0] m_axi_arburst,
    output logic m_axi_arlock,
    output logic [3:0] m_axi_arcache,
    output logic [2:0] m_axi_arprot,
    output logic m_axi_arvalid,
    input  logic m_axi_arready,
    input  logic [M_ID_W-1:0] m_axi_rid,
    input  logic [63:0] m_axi_rdata,
    input  logic [1:0] m_axi_rresp,
    input  logic m_axi_rlast,
    input  logic m_axi_rvalid,
    output logic m_axi_rready,
    input  logic t_req_valid,
    output logic t_req_ready,
    input  logic [TAG_W-1:0] t_req_tag,
    input  logic [31:0] t_req_sid,
    input  logic t_req_ssv,
    input  logic [19:0] t_req_ssid,
    input  logic [63:0] t_req_addr,
    input  logic t_req_rnw,
    input  logic t_req_ind,
    input  logic t_req_pnu,
    input  logic t_req_ats,
    input  logic t_req_nw,
    input  logic t_req_at,
    output logic t_rsp_valid,
    input  logic t_rsp_ready,
    output logic [TAG_W-1:0] t_rsp_tag,
    output logic [1:0] t_rsp_result,
    output logic [51:0] t_rsp_pa,
    output logic [2:0] t_rsp_perm,
    output logic [7:0] t_rsp_attr,
    output logic [1:0] t_rsp_sh,
    output logic [7:0] t_rsp_fault,
    output logic t_rsp_walked,
    input  logic pr_valid,
    output logic pr_ready,
    input  logic [31:0] pr_sid,
    input  logic pr_ssv,
    input  logic [19:0] pr_ssid,
    input  logic pr_last,
    input  logic pr_r,
    input  logic pr_w,
    input  logic pr_x,
    input  logic pr_priv,
    input  logic [8:0] pr_prgi,
    input  logic [51:0] pr_page,
    output logic prg_valid,
    input  logic prg_ready,
    output logic [31:0] prg_sid,
    output logic prg_ssv,
    output logic [19:0] prg_ssid,
    output logic [8:0] prg_prgi,
    output logic [1:0] prg_code,
    output logic prg_auto,
    output logic ainv_valid,
    input  logic ainv_ready,
    output logic [3:0] ainv_itag,
    output logic [31:0] ainv_sid,
    output logic ainv_ssv,
    output logic [19:0] ainv_ssid,
    output logic ainv_glob,
    output logic [51:0] ainv_addr,
    output logic [5:0] ainv_size,
    input  logic acpl_valid,
    input  logic [3:0] acpl_itag,
    input  logic dvm_valid,
    output logic dvm_ready,
    input  logic [2:0] dvm_op,
    input  logic [15:0] dvm_asid,
    input  logic [43:0] dvm_va,
    input  logic dvm_e2h,
    output logic irq_eventq,
    output logic irq_priq,
    output logic irq_cmdq_sync,
    output logic irq_gerror,

    // With tb_atc_auto=1 the wrapper answers every ATC invalidation itself, one cycle after
    // taking it (a device with nothing to invalidate): tests that do not watch the ATC port
    // need no Python for it. With tb_atc_auto=0 the ainv_ready/acpl_* pins do.
    input  logic              tb_atc_auto,

    input  logic              tbq_en,
    input  logic [7:0]        tbq_req_wp,
    output logic [7:0]        tbq_req_rp,
    output logic [7:0]        tbq_rsp_wp,
    input  logic [7:0]        tbq_rsp_rp,     // how far the testbench has read tbq_rsp_q
    input  logic [7:0]        tbq_rsp_batch,  // wake it once this many responses are unread,
    input  logic [7:0]        tbq_rsp_wait,   // or one has waited this long, or all are in
    output logic [7:0]        tbq_rsp_kick,   // counts wakes: the testbench waits on its change
    input  logic [15:0]       tbq_bp_seed,
    input  logic [7:0]        tbq_bp_p,       // chance (/256) per cycle that a pause run starts
    input  logic [2:0]        tbq_bp_runmask, // a run lasts 1 + (LFSR bits & mask) cycles
    input  logic              tbm_epoch,      // toggled: restart the outstanding-read maximum
    output logic [7:0]        tbm_rd_out,
    output logic [7:0]        tbm_rd_out_max,
    output logic [31:0]       tbm_ar_count,
    // The batch memory port (below): with tbm_en=1 the engine serves m_axi_*, otherwise the
    // m_axi_* pins do (cocotbext-axi's slave, kept to cross-check the engine's timing).
    input  logic              tbm_en,
    input  logic              tbm_lat_en,     // R and B beats wait for their due cycle
    input  logic [4:0]        tbm_pause,      // {B, W, AW, R, AR}: hold the channel this cycle
    input  logic [4:0]        tbm_rnd_en,     // and random pauses on these channels:
    input  logic [15:0]       tbm_rnd_seed,   //   each its own LFSR, seeded from this,
    input  logic [7:0]        tbm_rnd_p,      //   a run starts with this chance (/256),
    input  logic [2:0]        tbm_rnd_runmask, //  lasting 1 + (LFSR bits & mask) cycles
    // Cycles the testbench held a port back, 32 bits per channel: {B, W, AW, R, AR} of the
    // memory port (a valid not taken, or data ready but not presented, because paused), and
    // the translation port's responses not taken. A random test checks they are not zero.
    output logic [159:0]      tbm_stalls,
    output logic [31:0]       tbq_rsp_stalls,
    // The batch register port (below): with tbr_en=1 the engine drives s_axil_*, otherwise
    // the s_axil_* pins do (cocotbext-axi's AXI4-Lite master).
    input  logic              tbr_en,
    input  logic [2:0]        tbr_pause,      // {AR, W, AW}: hold the channel this cycle
    input  logic [7:0]        tbr_wr_wp,      // tbr_wr_q filled by the testbench up to here
    input  logic [7:0]        tbr_rd_wp,      // tbr_rd_q likewise
    output logic [7:0]        tbr_b_wp,       // tbr_b_q filed up to here (B handshakes)
    output logic [7:0]        tbr_r_wp,       // tbr_r_q (R handshakes)
    output logic [7:0]        tbr_kick,       // counts cycles with a B or R handshake
    output logic [15:0]       tbr_wps,        // {tbr_r_wp, tbr_b_wp}: one read
    output logic [7:0]        tbm_ar_wp,      // tbm_ar_q filled up to here (AR handshakes)
    output logic [7:0]        tbm_aw_wp,      // tbm_aw_q (AW handshakes)
    output logic [7:0]        tbm_w_wp,       // tbm_w_q (W beats)
    output logic [7:0]        tbm_kick,       // counts cycles in which Python has work
    output logic [23:0]       tbm_wps,        // {tbm_w_wp, tbm_aw_wp, tbm_ar_wp}: one read
    input  logic [7:0]        tbm_r_wp,       // tbm_r_q filled by the testbench up to here
    output logic [7:0]        tbm_r_rp,       // and presented on R up to here
    input  logic [7:0]        tbm_b_wp,       // the same for tbm_b_q and B
    output logic [7:0]        tbm_b_rp,
    output logic [31:0]       tb_cycle
);
    // Request entry: tag[15:0] sid[47:16] ssv[48] ssid[68:49] addr[132:69] rnw[133] ind[134]
    // pnu[135] ats[136] nw[137] at[138] gap[146:139]. Response entry: tag[15:0] result[17:16] pa[69:18] perm[72:70]
    // attr[80:73] sh[82:81] fault[90:83] walked[91] accepted[123:92] done[155:124].
    // Written (tbq_req_q) and read (tbq_rsp_q) by the testbench through VPI only.
    /* verilator lint_off UNDRIVEN */
    logic [146:0] tbq_req_q [0:255];
    /* verilator lint_on UNDRIVEN */
    /* verilator lint_off UNUSEDSIGNAL */
    logic [155:0] tbq_rsp_q [0:255];
    /* verilator lint_on UNUSEDSIGNAL */
    logic [31:0]  acc_at [0:(1<<TAG_W)-1];
    logic [7:0]   idle;
    logic [15:0]  lfsr, seed_q;
    logic [2:0]   run;

    logic              x_t_req_valid, x_t_req_rnw, x_t_req_ind, x_t_req_pnu, x_t_req_ssv;
    logic              x_t_req_ats, x_t_req_nw, x_t_req_at;
    logic [TAG_W-1:0]  x_t_req_tag;
    logic [31:0]       x_t_req_sid;
    logic [19:0]       x_t_req_ssid;
    logic [63:0]       x_t_req_addr;
    logic              x_t_rsp_ready, eng_ready;

    /* verilator lint_off UNUSEDSIGNAL */  // tag bits above TAG_W
    wire [146:0] head = tbq_req_q[tbq_req_rp];
    /* verilator lint_on UNUSEDSIGNAL */
    wire eng_valid = (tbq_req_rp != tbq_req_wp) && (idle >= head[146:139]);
    assign eng_ready = !(run != 3'd0 || lfsr[7:0] < tbq_bp_p);

    assign x_t_req_valid = tbq_en ? eng_valid : t_req_valid;
    assign x_t_req_tag   = tbq_en ? head[TAG_W-1:0] : t_req_tag;
    assign x_t_req_sid   = tbq_en ? head[47:16] : t_req_sid;
    assign x_t_req_ssv   = tbq_en ? head[48] : t_req_ssv;
    assign x_t_req_ssid  = tbq_en ? head[68:49] : t_req_ssid;
    assign x_t_req_addr  = tbq_en ? head[132:69] : t_req_addr;
    assign x_t_req_rnw   = tbq_en ? head[133] : t_req_rnw;
    assign x_t_req_ind   = tbq_en ? head[134] : t_req_ind;
    assign x_t_req_pnu   = tbq_en ? head[135] : t_req_pnu;
    assign x_t_req_ats   = tbq_en ? head[136] : t_req_ats;
    assign x_t_req_nw    = tbq_en ? head[137] : t_req_nw;
    assign x_t_req_at    = tbq_en ? head[138] : t_req_at;
    assign x_t_rsp_ready = tbq_en ? eng_ready : t_rsp_ready;

    initial tb_cycle = 32'd0;
    always_ff @(posedge clk) tb_cycle <= tb_cycle + 32'd1;

    wire req_fire = x_t_req_valid && t_req_ready;
    wire rsp_fire = t_rsp_valid && x_t_rsp_ready;

    always_ff @(posedge clk) begin
        if (req_fire) acc_at[x_t_req_tag] <= tb_cycle;
    end

    // When to wake the testbench (a change of tbq_rsp_kick): responses are unread and either
    // tbq_rsp_batch of them are, or every request loaded has its response (the end of a
    // burst), or tbq_rsp_wait cycles have passed with responses unread since the last read (a
    // request held long, e.g. by the memory, delays the others' wake by at most that). Python
    // consumes what is there at each wake and moves tbq_rsp_rp in the same time step.
    wire [7:0] rsp_wp_n = tbq_rsp_wp + {7'd0, rsp_fire};
    wire [7:0] unread_n = rsp_wp_n - tbq_rsp_rp;
    logic [7:0] rsp_age, rsp_rp_q;

    // One process files a response, moves tbq_rsp_wp and then tbq_rsp_kick: nonblocking
    // assignments of one process take effect in the order they ran (IEEE 1800 4.6), so a
    // testbench woken by the kick, even on a simulator that calls it back in the middle of
    // the update, finds the pointer and the entries it covers already written.
    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            tbq_req_rp <= 8'd0;
            tbq_rsp_wp <= 8'd0;
            idle <= 8'hFF;
            tbq_rsp_kick <= 8'd0;
            rsp_age <= 8'd0;
            rsp_rp_q <= 8'd0;
        end else begin
            if (rsp_fire)
                tbq_rsp_q[tbq_rsp_wp] <= {tb_cycle, acc_at[t_rsp_tag], t_rsp_walked, t_rsp_fault,
                                          t_rsp_sh, t_rsp_attr, t_rsp_perm, t_rsp_pa,
                                          t_rsp_result, {(16 - TAG_W){1'b0}}, t_rsp_tag};
            if (tbq_en && req_fire) tbq_req_rp <= tbq_req_rp + 8'd1;
            if (rsp_fire) tbq_rsp_wp <= rsp_wp_n;
            idle <= req_fire ? 8'd0 : (idle == 8'hFF ? idle : idle + 8'd1);
            rsp_rp_q <= tbq_rsp_rp;
            rsp_age <= (unread_n == 8'd0 || tbq_rsp_rp != rsp_rp_q) ? 8'd0
                     : (rsp_age == 8'hFF ? rsp_age : rsp_age + 8'd1);
            if (unread_n != 8'd0 && (unread_n >= tbq_rsp_batch || rsp_wp_n == tbq_req_wp
                                     || rsp_age >= tbq_rsp_wait))
                tbq_rsp_kick <= tbq_rsp_kick + 8'd1;
        end
    end

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            seed_q <= tbq_bp_seed;
            lfsr <= tbq_bp_seed | 16'd1;
            run <= 3'd0;
        end else if (seed_q != tbq_bp_seed) begin
            seed_q <= tbq_bp_seed;
            lfsr <= tbq_bp_seed | 16'd1;
            run <= 3'd0;
        end else begin
            lfsr <= {lfsr[14:0], lfsr[15] ^ lfsr[13] ^ lfsr[12] ^ lfsr[10]};
            if (run != 3'd0) run <= run - 3'd1;
            else if (lfsr[7:0] < tbq_bp_p) run <= lfsr[10:8] & tbq_bp_runmask;
        end
    end

    // ---- The batch memory port ----------------------------------------------------------
    // The engine takes every AR, AW and W beat (ready unless paused) into a ring and counts a
    // kick in the cycle of the handshake; Python, woken by the kick in that time step, serves
    // the accesses from its memory model and fills the R and B rings, which the engine plays
    // back from the next edge on, each beat held until taken. That is the timing of
    // cocotbext-axi's slave without pauses: the first R beat handshakes two cycles after its
    // AR at the earliest, a burst's beats back to back, B two cycles after the last W beat.
    // Ring entries: AR/AW addr[47:0] len[55:48] size[58:56] burst[60:59] prot[63:61]
    // id[71:64] lock[72]; W data[63:0] strb[71:64] last[72]; R data[63:0] resp[65:64]
    // last[66] id[74:67] due[106:75]; B resp[1:0] id[9:2] due[41:10].
    // The memory latency model: with tbm_lat_en, the beat at the head of the R (B) ring is
    // not loaded before tb_cycle reaches its due cycle, which Python stamps as the next
    // edge's tb_cycle plus the latency it drew (tb/bfm/mem_bfm.py): a latency of 0 gives the
    // timing above. Beats are played in ring order, so a short latency waits behind a longer
    // one before it (an in-order memory).
    /* verilator lint_off UNUSEDSIGNAL */
    logic [72:0] tbm_ar_q [0:255];
    logic [72:0] tbm_aw_q [0:255];
    logic [72:0] tbm_w_q [0:255];
    /* verilator lint_on UNUSEDSIGNAL */
    /* verilator lint_off UNDRIVEN */
    logic [106:0] tbm_r_q [0:255];
    logic [41:0]  tbm_b_q [0:255];
    /* verilator lint_on UNDRIVEN */
    logic              x_m_axi_arready, x_m_axi_awready, x_m_axi_wready;
    logic              x_m_axi_rvalid, x_m_axi_rlast, x_m_axi_bvalid;
    logic [M_ID_W-1:0] x_m_axi_rid, x_m_axi_bid;
    logic [63:0]       x_m_axi_rdata;
    logic [1:0]        x_m_axi_rresp, x_m_axi_bresp;
    logic              e_rvalid, e_bvalid;
    /* verilator lint_off UNUSEDSIGNAL */  // ID bits above M_ID_W
    logic [106:0]      e_r;
    logic [41:0]       e_b;
    /* verilator lint_on UNUSEDSIGNAL */

    // Random pauses, as the translation port's back-pressure: one LFSR per channel, so that
    // the channels pause independently, and no Python wakes to play a pattern.
    logic [4:0] pause, rnd_pause;
    logic [15:0] rnd_seed_q;
    assign pause = tbm_pause | (rnd_pause & tbm_rnd_en);
    for (genvar c = 0; c < 5; c++) begin : g_pause
        logic [15:0] lf;
        logic [2:0] left;
        assign rnd_pause[c] = left != 3'd0 || lf[7:0] < tbm_rnd_p;
        always_ff @(posedge clk or negedge rst_n) begin
            if (!rst_n || rnd_seed_q != tbm_rnd_seed) begin
                lf <= (tbm_rnd_seed ^ (16'h9E37 * (c + 1))) | 16'd1;
                left <= 3'd0;
            end else if (tbm_rnd_en[c]) begin  // (idle when off: Icarus pays per change)
                lf <= {lf[14:0], lf[15] ^ lf[13] ^ lf[12] ^ lf[10]};
                if (left != 3'd0) left <= left - 3'd1;
                else if (lf[7:0] < tbm_rnd_p) left <= lf[10:8] & tbm_rnd_runmask;
            end
        end
    end
    always_ff @(posedge clk) rnd_seed_q <= tbm_rnd_seed;

    assign x_m_axi_arready = tbm_en ? !pause[0] : m_axi_arready;
    assign x_m_axi_awready = tbm_en ? !pause[2] : m_axi_awready;
    assign x_m_axi_wready  = tbm_en ? !pause[3] : m_axi_wready;
    assign x_m_axi_rvalid  = tbm_en ? e_rvalid : m_axi_rvalid;
    assign x_m_axi_rdata   = tbm_en ? e_r[63:0] : m_axi_rdata;
    assign x_m_axi_rresp   = tbm_en ? e_r[65:64] : m_axi_rresp;
    assign x_m_axi_rlast   = tbm_en ? e_r[66] : m_axi_rlast;
    assign x_m_axi_rid     = tbm_en ? e_r[67 +: M_ID_W] : m_axi_rid;
    assign x_m_axi_bvalid  = tbm_en ? e_bvalid : m_axi_bvalid;
    assign x_m_axi_bresp   = tbm_en ? e_b[1:0] : m_axi_bresp;
    assign x_m_axi_bid     = tbm_en ? e_b[2 +: M_ID_W] : m_axi_bid;

    wire ar_fire = m_axi_arvalid && x_m_axi_arready;
    wire aw_fire = m_axi_awvalid && x_m_axi_awready;
    wire w_fire  = m_axi_wvalid && x_m_axi_wready;

    // The heads of the R and B rings, and whether they may be loaded (below)
    logic [106:0] r_head;
    logic [41:0] b_head;
    assign r_head = tbm_r_q[tbm_r_rp];
    assign b_head = tbm_b_q[tbm_b_rp];
    wire r_due = !tbm_lat_en || $signed(tb_cycle - r_head[106:75]) >= 0;
    wire b_due = !tbm_lat_en || $signed(tb_cycle - b_head[41:10]) >= 0;
    wire r_load = tbm_en && tbm_r_rp != tbm_r_wp && !pause[1] && r_due;
    wire b_load = tbm_en && tbm_b_rp != tbm_b_wp && !pause[4] && b_due;
    // (a beat not yet due is the latency model's, not a pause: not counted)
    wire [4:0] held_back = {
        tbm_b_rp != tbm_b_wp && (!e_bvalid || m_axi_bready) && pause[4] && b_due,
        m_axi_wvalid && !x_m_axi_wready,
        m_axi_awvalid && !x_m_axi_awready,
        tbm_r_rp != tbm_r_wp && (!e_rvalid || m_axi_rready) && pause[1] && r_due,
        m_axi_arvalid && !x_m_axi_arready};
    // The pointers' next values, also filed packed in tbm_wps by the same process before the
    // kick (a continuous concatenation may update after the kick's callback on some
    // simulators, and Python would read stale pointers).
    wire [7:0] ar_wp_n = tbm_ar_wp + {7'd0, tbm_en && ar_fire};
    wire [7:0] aw_wp_n = tbm_aw_wp + {7'd0, tbm_en && aw_fire};
    wire [7:0] w_wp_n  = tbm_w_wp + {7'd0, tbm_en && w_fire};
    logic [7:0] wl_count;  // W bursts complete
    wire w_ahead = $signed(wl_count - tbm_aw_wp) > 0;  // more W bursts in than AWs
    initial begin
        wl_count = 8'd0;
        tbm_ar_wp = 8'd0;
        tbm_aw_wp = 8'd0;
        tbm_w_wp = 8'd0;
        tbm_wps = 24'd0;
        tbm_kick = 8'd0;
    end
    // Never reset: Python's read pointers follow these across a reset.
    // One process per ring files the entry before moving its pointer and the kick (IEEE 1800
    // 4.6, as for the translation port's responses).
    always_ff @(posedge clk) begin
        if (tbm_en && ar_fire) begin
            tbm_ar_q[tbm_ar_wp] <= {m_axi_arlock, {(8 - M_ID_W){1'b0}}, m_axi_arid, m_axi_arprot,
                                    m_axi_arburst,
                                    m_axi_arsize, m_axi_arlen, m_axi_araddr};
        end
        if (tbm_en && aw_fire) begin
            tbm_aw_q[tbm_aw_wp] <= {m_axi_awlock, {(8 - M_ID_W){1'b0}}, m_axi_awid, m_axi_awprot,
                                    m_axi_awburst,
                                    m_axi_awsize, m_axi_awlen, m_axi_awaddr};
        end
        if (tbm_en && w_fire) begin
            tbm_w_q[tbm_w_wp] <= {m_axi_wlast, m_axi_wstrb, m_axi_wdata};
        end
        if (tbm_en && (ar_fire || aw_fire || w_fire)) begin  // (no update per idle cycle)
            tbm_ar_wp <= ar_wp_n;
            tbm_aw_wp <= aw_wp_n;
            tbm_w_wp <= w_wp_n;
            tbm_wps <= {w_wp_n, aw_wp_n, ar_wp_n};
        end
        if (tbm_en && w_fire && m_axi_wlast) wl_count <= wl_count + 8'd1;
        // Python needs a read's AR, and a write once both its AW and its last W beat are in:
        // no kick for the other W beats, nor for an AW whose W burst is still to come.
        if (tbm_en && (ar_fire || (w_fire && m_axi_wlast) || (aw_fire && w_ahead)))
            tbm_kick <= tbm_kick + 8'd1;
        if (tbm_en && held_back != 5'd0)
            for (int c = 0; c < 5; c++)
                if (held_back[c]) tbm_stalls[32 * c +: 32] <= tbm_stalls[32 * c +: 32] + 32'd1;
        if (t_rsp_valid && !x_t_rsp_ready) tbq_rsp_stalls <= tbq_rsp_stalls + 32'd1;
    end

    // R and B: a beat is loaded when the channel is empty or its beat was taken, as an AXI
    // source may; a paused channel loads nothing, so VALID drops after the beat in flight,
    // nor does one whose head beat is not yet due.
    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            e_rvalid <= 1'b0;
            e_bvalid <= 1'b0;
            tbm_r_rp <= tbm_r_wp;  // beats for reads the reset abandoned are dropped
            tbm_b_rp <= tbm_b_wp;
        end else begin
            if (!e_rvalid || m_axi_rready) begin
                e_rvalid <= r_load;
                if (r_load) begin
                    e_r <= r_head;
                    tbm_r_rp <= tbm_r_rp + 8'd1;
                end
            end
            if (!e_bvalid || m_axi_bready) begin
                e_bvalid <= b_load;
                if (b_load) begin
                    e_b <= b_head;
                    tbm_b_rp <= tbm_b_rp + 8'd1;
                end
            end
        end
    end

    initial begin
        tbm_stalls = '0;
        tbq_rsp_stalls = '0;
    end
    // (counted in the memory engine's ring process below, one process fewer per cycle)

    // ---- The batch register port ----------------------------------------------------------
    // Each channel plays its ring as cocotbext-axi's AXI4-Lite master's stream sources do: a
    // word is loaded on the first edge after the testbench filed it, VALID held until taken,
    // the next loaded at once; B and R are always taken (ready 1) and filed with a kick in the
    // cycle of their handshake, where the testbench wakes. Write entries: addr[31:0]
    // data[63:32] strb[67:64] prot[70:68]; read entries addr[31:0] prot[34:32]; B entries
    // resp[1:0]; R entries data[31:0] resp[33:32].
    /* verilator lint_off UNDRIVEN */
    logic [70:0] tbr_wr_q [0:255];
    logic [34:0] tbr_rd_q [0:255];
    /* verilator lint_on UNDRIVEN */
    /* verilator lint_off UNUSEDSIGNAL */
    logic [1:0]  tbr_b_q [0:255];
    logic [33:0] tbr_r_q [0:255];
    logic [70:0] r_aw, r_w;
    logic [34:0] r_ar;
    /* verilator lint_on UNUSEDSIGNAL */
    logic [7:0]  aw_rp, w_rp, ar_rp;
    logic        r_awvalid, r_wvalid, r_arvalid;
    logic [REG_OFF_W-1:0] x_s_axil_awaddr, x_s_axil_araddr;
    logic [2:0]  x_s_axil_awprot, x_s_axil_arprot;
    logic        x_s_axil_awvalid, x_s_axil_wvalid, x_s_axil_arvalid;
    logic        x_s_axil_bready, x_s_axil_rready;
    logic [31:0] x_s_axil_wdata;
    logic [3:0]  x_s_axil_wstrb;

    assign x_s_axil_awaddr  = tbr_en ? r_aw[REG_OFF_W-1:0] : s_axil_awaddr;
    assign x_s_axil_awprot  = tbr_en ? r_aw[70:68] : s_axil_awprot;
    assign x_s_axil_awvalid = tbr_en ? r_awvalid : s_axil_awvalid;
    assign x_s_axil_wdata   = tbr_en ? r_w[63:32] : s_axil_wdata;
    assign x_s_axil_wstrb   = tbr_en ? r_w[67:64] : s_axil_wstrb;
    assign x_s_axil_wvalid  = tbr_en ? r_wvalid : s_axil_wvalid;
    assign x_s_axil_bready  = tbr_en ? 1'b1 : s_axil_bready;
    assign x_s_axil_araddr  = tbr_en ? r_ar[REG_OFF_W-1:0] : s_axil_araddr;
    assign x_s_axil_arprot  = tbr_en ? r_ar[34:32] : s_axil_arprot;
    assign x_s_axil_arvalid = tbr_en ? r_arvalid : s_axil_arvalid;
    assign x_s_axil_rready  = tbr_en ? 1'b1 : s_axil_rready;

    initial begin
        aw_rp = 8'd0;
        w_rp = 8'd0;
        ar_rp = 8'd0;
        tbr_b_wp = 8'd0;
        tbr_r_wp = 8'd0;
        tbr_wps = 16'd0;
        tbr_kick = 8'd0;
    end
    // A reset drops the words not yet presented (their accesses are abandoned, as cocotbext-
    // axi's master flushes its queues) and VALID; the response pointers are never reset (the
    // testbench's follow them).
    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            r_awvalid <= 1'b0;
            r_wvalid <= 1'b0;
            r_arvalid <= 1'b0;
            aw_rp <= tbr_wr_wp;
            w_rp <= tbr_wr_wp;
            ar_rp <= tbr_rd_wp;
        end else begin
            if (!r_awvalid || s_axil_awready) begin
                r_awvalid <= tbr_en && aw_rp != tbr_wr_wp && !tbr_pause[0];
                if (tbr_en && aw_rp != tbr_wr_wp && !tbr_pause[0]) begin
                    r_aw <= tbr_wr_q[aw_rp];
                    aw_rp <= aw_rp + 8'd1;
                end
            end
            if (!r_wvalid || s_axil_wready) begin
                r_wvalid <= tbr_en && w_rp != tbr_wr_wp && !tbr_pause[1];
                if (tbr_en && w_rp != tbr_wr_wp && !tbr_pause[1]) begin
                    r_w <= tbr_wr_q[w_rp];
                    w_rp <= w_rp + 8'd1;
                end
            end
            if (!r_arvalid || s_axil_arready) begin
                r_arvalid <= tbr_en && ar_rp != tbr_rd_wp && !tbr_pause[2];
                if (tbr_en && ar_rp != tbr_rd_wp && !tbr_pause[2]) begin
                    r_ar <= tbr_rd_q[ar_rp];
                    ar_rp <= ar_rp + 8'd1;
                end
            end
        end
    end
    wire [7:0] b_wp_n = tbr_b_wp + {7'd0, tbr_en && s_axil_bvalid};
    wire [7:0] r_wp_n = tbr_r_wp + {7'd0, tbr_en && s_axil_rvalid};
    always_ff @(posedge clk) begin
        if (tbr_en && s_axil_bvalid) tbr_b_q[tbr_b_wp] <= s_axil_bresp;
        if (tbr_en && s_axil_rvalid) tbr_r_q[tbr_r_wp] <= {s_axil_rresp, s_axil_rdata};
        if (tbr_en && (s_axil_bvalid || s_axil_rvalid)) begin
            tbr_b_wp <= b_wp_n;
            tbr_r_wp <= r_wp_n;
            tbr_wps <= {r_wp_n, b_wp_n};  // (registered, before the kick: as tbm_wps)
        end
        if (tbr_en && (s_axil_bvalid || s_axil_rvalid)) tbr_kick <= tbr_kick + 8'd1;
    end

    // Memory-port reads outstanding (AR accepted, last R beat not yet), for `make bench`.
    logic epoch_q;
    wire r_last = x_m_axi_rvalid && m_axi_rready && x_m_axi_rlast;
    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            epoch_q <= 1'b0;
            tbm_rd_out <= 8'd0;
            tbm_rd_out_max <= 8'd0;
            tbm_ar_count <= 32'd0;
        end else begin
            epoch_q <= tbm_epoch;
            tbm_rd_out <= tbm_rd_out + {7'd0, ar_fire} - {7'd0, r_last};
            tbm_ar_count <= tbm_ar_count + {31'd0, ar_fire};
            if (epoch_q != tbm_epoch) tbm_rd_out_max <= tbm_rd_out;
            else if (tbm_rd_out > tbm_rd_out_max) tbm_rd_out_max <= tbm_rd_out;
        end
    end

    // ---- the ATC invalidation auto-completer (tb_atc_auto) ----------------------------------
    logic       x_ainv_ready, x_acpl_valid, auto_cpl;
    logic [3:0] x_acpl_itag, auto_itag;
    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            auto_cpl <= 1'b0; auto_itag <= '0;
        end else begin
            auto_cpl <= tb_atc_auto && ainv_valid;
            auto_itag <= ainv_itag;
        end
    end
    assign x_ainv_ready = tb_atc_auto ? 1'b1 : ainv_ready;
    assign x_acpl_valid = tb_atc_auto ? auto_cpl : acpl_valid;
    assign x_acpl_itag = tb_atc_auto ? auto_itag : acpl_itag;

    smmu_top #(.S1P(S1P), .COHACC(COHACC), .BTM(BTM), .HTTU(HTTU), .HYP(HYP), .ATS(ATS), .ASID16(ASID16), .MSI(MSI), .SEV(SEV), .PRI(PRI), .CD2L(CD2L), .STALL_MODEL(STALL_MODEL), .TERM_MODEL(TERM_MODEL), .ST_LEVEL(ST_LEVEL), .SIDSIZE(SIDSIZE), .SSIDSIZE(SSIDSIZE), .PRIQS(PRIQS), .EVENTQS(EVENTQS), .CMDQS(CMDQS), .HAD(HAD), .PPS(PPS), .RIL(RIL), .OAS(OAS), .STALL_MAX(STALL_MAX), .IIDR(IIDR), .AIDR(AIDR), .GBPA_ABORT_RESET(GBPA_ABORT_RESET), .CR0ACK_DELAY(CR0ACK_DELAY), .GBPA_DELAY(GBPA_DELAY), .M_ID_W(M_ID_W), .TAG_W(TAG_W), .N_WALK(N_WALK), .CTX_N(CTX_N), .TLB_N(TLB_N), .TLB_WAYS(TLB_WAYS), .TLB_BLK_N(TLB_BLK_N), .WALK_N(WALK_N), .WALK_UP_N(WALK_UP_N), .MERGE_N(MERGE_N), .EVTQ_FIFO(EVTQ_FIFO), .ATC_TIMEOUT(ATC_TIMEOUT)) u_smmu (
        .clk(clk),
        .rst_n(rst_n),
        .s_axil_awaddr(x_s_axil_awaddr),
        .s_axil_awprot(x_s_axil_awprot),
        .s_axil_awvalid(x_s_axil_awvalid),
        .s_axil_awready(s_axil_awready),
        .s_axil_wdata(x_s_axil_wdata),
        .s_axil_wstrb(x_s_axil_wstrb),
        .s_axil_wvalid(x_s_axil_wvalid),
        .s_axil_wready(s_axil_wready),
        .s_axil_bresp(s_axil_bresp),
        .s_axil_bvalid(s_axil_bvalid),
        .s_axil_bready(x_s_axil_bready),
        .s_axil_araddr(x_s_axil_araddr),
        .s_axil_arprot(x_s_axil_arprot),
        .s_axil_arvalid(x_s_axil_arvalid),
        .s_axil_arready(s_axil_arready),
        .s_axil_rdata(s_axil_rdata),
        .s_axil_rresp(s_axil_rresp),
        .s_axil_rvalid(s_axil_rvalid),
        .s_axil_rready(x_s_axil_rready),
        .m_axi_awid(m_axi_awid),
        .m_axi_awaddr(m_axi_awaddr),
        .m_axi_awlen(m_axi_awlen),
        .m_axi_awsize(m_axi_awsize),
        .m_axi_awburst(m_axi_awburst),
        .m_axi_awlock(m_axi_awlock),
        .m_axi_awcache(m_axi_awcache),
        .m_axi_awprot(m_axi_awprot),
        .m_axi_awvalid(m_axi_awvalid),
        .m_axi_awready(x_m_axi_awready),
        .m_axi_wdata(m_axi_wdata),
        .m_axi_wstrb(m_axi_wstrb),
        .m_axi_wlast(m_axi_wlast),
        .m_axi_wvalid(m_axi_wvalid),
        .m_axi_wready(x_m_axi_wready),
        .m_axi_bid(x_m_axi_bid),
        .m_axi_bresp(x_m_axi_bresp),
        .m_axi_bvalid(x_m_axi_bvalid),
        .m_axi_bready(m_axi_bready),
        .m_axi_arid(m_axi_arid),
        .m_axi_araddr(m_axi_araddr),
        .m_axi_arlen(m_axi_arlen),
        .m_axi_arsize(m_axi_arsize),
        .m_axi_arburst(m_axi_arburst),
        .m_axi_arlock(m_axi_arlock),
        .m_axi_arcache(m_axi_arcache),
        .m_axi_arprot(m_axi_arprot),
        .m_axi_arvalid(m_axi_arvalid),
        .m_axi_arready(x_m_axi_arready),
        .m_axi_rid(x_m_axi_rid),
        .m_axi_rdata(x_m_axi_rdata),
        .m_axi_rresp(x_m_axi_rresp),
        .m_axi_rlast(x_m_axi_rlast),
        .m_axi_rvalid(x_m_axi_rvalid),
        .m_axi_rready(m_axi_rready),
        .t_req_valid(x_t_req_valid),
        .t_req_ready(t_req_ready),
        .t_req_tag(x_t_req_tag),
        .t_req_sid(x_t_req_sid),
        .t_req_ssv(x_t_req_ssv),
        .t_req_ssid(x_t_req_ssid),
        .t_req_addr(x_t_req_addr),
        .t_req_rnw(x_t_req_rnw),
        .t_req_ind(x_t_req_ind),
        .t_req_pnu(x_t_req_pnu),
        .t_req_ats(x_t_req_ats),
        .t_req_nw(x_t_req_nw),
        .t_req_at(x_t_req_at),
        .t_rsp_valid(t_rsp_valid),
        .t_rsp_ready(x_t_rsp_ready),
        .t_rsp_tag(t_rsp_tag),
        .t_rsp_result(t_rsp_result),
        .t_rsp_pa(t_rsp_pa),
        .t_rsp_perm(t_rsp_perm),
        .t_rsp_attr(t_rsp_attr),
        .t_rsp_sh(t_rsp_sh),
        .t_rsp_fault(t_rsp_fault),
        .t_rsp_walked(t_rsp_walked),
        .dvm_valid(dvm_valid),
        .dvm_ready(dvm_ready),
        .dvm_op(dvm_op),
        .dvm_asid(dvm_asid),
        .dvm_va(dvm_va),
        .dvm_e2h(dvm_e2h),
        .pr_valid(pr_valid),
        .pr_ready(pr_ready),
        .pr_sid(pr_sid),
        .pr_ssv(pr_ssv),
        .pr_ssid(pr_ssid),
        .pr_last(pr_last),
        .pr_r(pr_r),
        .pr_w(pr_w),
        .pr_x(pr_x),
        .pr_priv(pr_priv),
        .pr_prgi(pr_prgi),
        .pr_page(pr_page),
        .prg_valid(prg_valid),
        .prg_ready(prg_ready),
        .prg_sid(prg_sid),
        .prg_ssv(prg_ssv),
        .prg_ssid(prg_ssid),
        .prg_prgi(prg_prgi),
        .prg_code(prg_code),
        .prg_auto(prg_auto),
        .ainv_valid(ainv_valid),
        .ainv_ready(x_ainv_ready),
        .ainv_itag(ainv_itag),
        .ainv_sid(ainv_sid),
        .ainv_ssv(ainv_ssv),
        .ainv_ssid(ainv_ssid),
        .ainv_glob(ainv_glob),
        .ainv_addr(ainv_addr),
        .ainv_size(ainv_size),
        .acpl_valid(x_acpl_valid),
        .acpl_itag(x_acpl_itag),
        .irq_eventq(irq_eventq),
        .irq_priq(irq_priq),
        .irq_cmdq_sync(irq_cmdq_sync),
        .irq_gerror(irq_gerror)
    );
endmodule

`default_nettype wire
