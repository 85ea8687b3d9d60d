// PRI queue producer and PRG responses (reference fault-paths.md §1.4, smmuv3.md §7; the
// model: models/smmu/pri.py).
//
// Page requests (PPRs, 16 bytes already in the PRI queue entry layout) arrive through a
// small FIFO and are handled one at a time, in order:
//   - Queue unusable (effective PRIQEN=0: `priqen` covers CR0/CR0ACK.PRIQEN and SMMUEN; or
//     GERROR.PRIQ_ABT_ERR unacknowledged): the PPR is discarded and, unless it is a Stop
//     marker (SSV=1, L=1, R=W=0), answered Response Failure without a PASID (§8.2).
//   - Queue full, or an overflow not yet acknowledged (PROD.OVFLG != CONS.OVACKFLG): the
//     PPR is discarded; the first one toggles OVFLG (every write stays inhibited until
//     software acknowledges, §8.1). An L=1 PPR that is not a Stop marker is answered Success,
//     with its PASID if it had one: this SMMU advertises IDR3.PPS=1, so STE.PPAR is never
//     consulted and the PRI path never reads the stream table.
//   - Otherwise it is written as a 2-beat burst at PRIQ_BASE + PROD.index * 16; PROD moves
//     after an OKAY write response. SLVERR/DECERR: the entry is lost, PROD stays,
//     GERROR.PRIQ_ABT_ERR is raised and the PPR is answered Response Failure (the abort is
//     synchronous, §8.2), unless it is a Stop marker.
// PRG responses go out on `prg_*` through a FIFO that takes the automatic responses above
// and those of CMD_PRI_RESP (`presp_*`, from the command queue, which waits on
// `presp_ready`); an automatic response goes first, unless a CMD_PRI_RESP has already waited
// a cycle. A 1-entry side register keeps an automatic response that could not be pushed at
// once (a PPR is only decided when that register is free, and a write is only started then,
// so an abort's response always has a place).
// `busy` (a write in progress) holds off the acknowledgement of PRIQEN=0 until the committed
// entry is visible.
`default_nettype none

module smmu_priq
    import smmu_arch_pkg::*;
#(
    parameter int PRIQS = 7,
    parameter int DEPTH = 4,
    parameter int RSP_DEPTH = 4,
    parameter int M_ID_W = 4
) (
    input  logic              clk,
    input  logic              rst_n,

    // page requests from the PCIe side
    input  logic              push_valid,
    output logic              push_ready,
    input  logic [PRI_NBITS-1:0] push_data,

    // CMD_PRI_RESP from the command queue
    input  logic              presp_valid,
    output logic              presp_ready,
    input  logic [31:0]       presp_sid,
    input  logic              presp_ssv,
    input  logic [19:0]       presp_ssid,
    input  logic [8:0]        presp_prgi,
    input  logic [1:0]        presp_code,

    // PRG responses to the PCIe side
    output logic              prg_valid,
    input  logic              prg_ready,
    output logic [31:0]       prg_sid,
    output logic              prg_ssv,
    output logic [19:0]       prg_ssid,
    output logic [8:0]        prg_prgi,
    output logic [1:0]        prg_code,     // CMD_PRI_RESP.Resp encoding
    output logic              prg_auto,     // sent by the SMMU itself

    input  logic              priqen,
    input  logic              abt_active,   // GERROR.PRIQ_ABT_ERR != GERRORN's
    input  logic [63:0]       priq_base,
    input  logic [31:0]       priq_prod,
    input  logic [31:0]       priq_cons,
    output logic              prod_we,
    output logic [31:0]       prod_wdata,
    output logic              gerr_raise,
    output logic              busy,

    output logic [M_ID_W-1:0] m_axi_awid,
    output logic [47:0]       m_axi_awaddr,
    output logic [7:0]        m_axi_awlen,
    output logic              m_axi_awvalid,
    input  logic              m_axi_awready,
    output logic [63:0]       m_axi_wdata,
    output logic              m_axi_wlast,
    output logic              m_axi_wvalid,
    input  logic              m_axi_wready,
    input  logic [1:0]        m_axi_bresp,
    input  logic              m_axi_bvalid
);
    localparam int PW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam int RW = (RSP_DEPTH > 1) ? $clog2(RSP_DEPTH) : 1;
    localparam logic [1:0] S_IDLE = 2'd0, S_AW = 2'd1, S_W = 2'd2, S_B = 2'd3;
    // a PRG response: {auto, code, prgi, ssid, ssv, sid}
    localparam int RSP_W = 1 + 2 + 9 + 20 + 1 + 32;

    // ---- request FIFO -----------------------------------------------------------------------
    logic [PRI_NBITS-1:0] fifo [DEPTH];
    logic [PW-1:0] rp, wp;
    logic [PW:0]   cnt;
    logic [1:0]    st;
    logic          beat;

    localparam int QP_W = EVENTQ_PROD_WR_W;   // PRIQ_PROD/CONS share the event queue's layout
    localparam int LG_W = EVENTQ_BASE_LOG2SIZE_W;
    logic [LG_W-1:0] lg;
    logic [QP_W-1:0] prod_m, prod_next, idx;
    logic            full, ovf_pending;
    smmu_outq_ptr #(.MAXLOG(PRIQS)) u_ptr (
        .base(priq_base), .prod(priq_prod), .cons(priq_cons),
        .lg, .prod_m, .prod_next, .idx, .full, .ovf_pending
    );

    wire                  have = (cnt != '0);
    wire [PRI_NBITS-1:0]  head = fifo[rp];
    wire        h_ssv  = head[PRI_SSV_LSB];
    wire        h_last = head[PRI_LAST_LSB];
    wire        h_stop = h_ssv && h_last && !head[PRI_R_LSB] && !head[PRI_W_LSB];
    wire [31:0] h_sid  = head[PRI_STREAMID_LSB +: 32];
    wire [19:0] h_ssid = head[PRI_SUBSTREAMID_LSB +: 20];
    wire [8:0]  h_prgi = head[PRI_PRGINDEX_LSB +: 9];

    // ---- the automatic-response side register --------------------------------------------
    logic          ar_pend;
    logic [RSP_W-1:0] ar_q;

    wire usable = priqen && !abt_active;
    wire start = have && (st == S_IDLE) && !ar_pend;        // a decision for the head
    wire drop = start && (!usable || full || ovf_pending);
    wire write = start && usable && !full && !ovf_pending;
    wire b_fin = (st == S_B) && m_axi_bvalid;
    wire b_err = b_fin && m_axi_bresp[1];
    wire pop = drop || b_fin;

    // What the head gets when it is not written: Failure (unusable queue, or its write
    // aborted) for any PPR but a Stop marker, Success for an L=1 one on overflow.
    wire        fail_rsp = ((drop && !usable) || b_err) && !h_stop;
    wire        ovf_rsp = drop && usable && h_last && !h_stop;
    wire        auto_new = fail_rsp || ovf_rsp;
    wire [RSP_W-1:0] auto_word = {1'b1,
                                  fail_rsp ? PRI_RESP_CODE_RESPONSE_FAILURE
                                           : PRI_RESP_CODE_SUCCESS,
                                  h_prgi, (ovf_rsp && h_ssv) ? h_ssid : 20'h0,
                                  ovf_rsp && h_ssv, h_sid};

    // ---- response FIFO -----------------------------------------------------------------------
    logic [RSP_W-1:0] rfifo [RSP_DEPTH];
    logic [RW-1:0] rrp, rwp;
    logic [RW:0]   rcnt;
    wire rspace = (rcnt != (RW+1)'(RSP_DEPTH));
    wire rpop = prg_valid && prg_ready;
    // One push a cycle: the side register first; then a new automatic response straight in,
    // unless a CMD_PRI_RESP has already waited a cycle (then it goes first and the automatic
    // one parks in the side register), so that a stream of page requests cannot starve the
    // command queue.
    logic presp_waited;
    wire push_ar = ar_pend && rspace;
    wire cmd_first = presp_valid && presp_waited && !ar_pend;
    assign presp_ready = rspace && !push_ar && (cmd_first || !auto_new);
    wire push_cmd = presp_valid && presp_ready;
    wire push_auto = !ar_pend && auto_new && rspace && !push_cmd;
    wire park_auto = !ar_pend && auto_new && !push_auto;
    wire rpush = push_ar || push_auto || push_cmd;
    wire [RSP_W-1:0] rword = push_ar ? ar_q
                           : push_auto ? auto_word
                           : {1'b0, presp_code, presp_prgi, presp_ssv ? presp_ssid : 20'h0,
                              presp_ssv, presp_sid};

    assign push_ready = (cnt != (PW+1)'(DEPTH));

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            rp <= '0; wp <= '0; cnt <= '0; st <= S_IDLE; beat <= 1'b0;
            for (int i = 0; i < DEPTH; i++) fifo[i] <= '0;
            rrp <= '0; rwp <= '0; rcnt <= '0;
            for (int i = 0; i < RSP_DEPTH; i++) rfifo[i] <= '0;
            ar_pend <= 1'b0; ar_q <= '0; presp_waited <= 1'b0;
        end else begin
            presp_waited <= presp_valid && !presp_ready;
            if (push_valid && push_ready) begin
                fifo[wp] <= push_data;
                wp <= (wp == PW'(DEPTH - 1)) ? '0 : wp + PW'(1);
            end
            if (pop) rp <= (rp == PW'(DEPTH - 1)) ? '0 : rp + PW'(1);
            case ({push_valid && push_ready, pop})
                2'b10: cnt <= cnt + (PW+1)'(1);
                2'b01: cnt <= cnt - (PW+1)'(1);
                default: ;
            endcase
            case (st)
                S_IDLE: if (write) st <= S_AW;
                S_AW: if (m_axi_awready) begin st <= S_W; beat <= 1'b0; end
                S_W: if (m_axi_wready) begin
                    beat <= 1'b1;
                    if (beat) st <= S_B;
                end
                S_B: if (m_axi_bvalid) st <= S_IDLE;
                default: st <= S_IDLE;
            endcase

            if (push_ar) ar_pend <= 1'b0;
            if (park_auto) begin ar_pend <= 1'b1; ar_q <= auto_word; end
            if (rpush) begin
                rfifo[rwp] <= rword;
                rwp <= (rwp == RW'(RSP_DEPTH - 1)) ? '0 : rwp + RW'(1);
            end
            if (rpop) rrp <= (rrp == RW'(RSP_DEPTH - 1)) ? '0 : rrp + RW'(1);
            case ({rpush, rpop})
                2'b10: rcnt <= rcnt + (RW+1)'(1);
                2'b01: rcnt <= rcnt - (RW+1)'(1);
                default: ;
            endcase
        end
    end

    wire [RSP_W-1:0] rhead = rfifo[rrp];
    assign prg_valid = (rcnt != '0);
    assign prg_sid = rhead[31:0];
    assign prg_ssv = rhead[32];
    assign prg_ssid = rhead[52:33];
    assign prg_prgi = rhead[61:53];
    assign prg_code = rhead[63:62];
    assign prg_auto = rhead[64];

    assign m_axi_awid = '0;
    // The base is aligned to the queue's size (at least 32 bytes) (section 6.3.33).
    wire [47:0] q_align = (((48'h1 << PRI_SIZE_LOG2) << lg) - 48'h1) | 48'h1F;
    assign m_axi_awaddr = (48'(priq_base & EVENTQ_BASE_ADDR_MASK) & ~q_align) +
                          (48'(idx) << PRI_SIZE_LOG2);
    assign m_axi_awlen = 8'd1;
    assign m_axi_awvalid = (st == S_AW);
    assign m_axi_wdata = head[{beat, 6'h0} +: 64];
    assign m_axi_wlast = beat;
    assign m_axi_wvalid = (st == S_W);

    wire b_ok = b_fin && !m_axi_bresp[1];
    wire ovf = drop && usable && !ovf_pending;             // full: entering overflow
    assign prod_we = b_ok || ovf;
    assign prod_wdata = b_ok ? ((priq_prod & EVENTQ_PROD_OVFLG_MASK) |
                                (32'(prod_next) << EVENTQ_PROD_WR_LSB))
                             : ((~priq_prod & EVENTQ_PROD_OVFLG_MASK) |
                                (32'(prod_m) << EVENTQ_PROD_WR_LSB));
    assign gerr_raise = b_err;
    assign busy = (st != S_IDLE);

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{priq_base, priq_prod, priq_cons, m_axi_bresp[0]};
    // verilator lint_on UNUSEDSIGNAL
endmodule

`default_nettype wire
