// Event queue producer (reference §1.5, §6).
//
// Records (32 bytes, already in their architectural layout) arrive through a small FIFO and
// are written one at a time as a 4-beat burst at EVENTQ_BASE + PROD.index * 32. PROD is
// advanced only after the write response came back OKAY, so software never sees an index
// whose record is not in memory.
//   - Queue not writable (section 7.2.1): EVENTQEN clear or not acknowledged (`eventqen`),
//     or GERROR.EVENTQ_ABT_ERR unacknowledged (`abt_active`): the record is discarded.
//   - Queue full: the record is discarded and EVENTQ_PROD.OVFLG is toggled, unless an
//     overflow is already pending (OVFLG != EVENTQ_CONS.OVACKFLG).
//   - Write answered SLVERR/DECERR: the record is lost, PROD stays, GERROR.EVENTQ_ABT_ERR
//     is raised; delivery stops until software acknowledges it (section 7.5), which it sees
//     from the cycle after the write response.
// Stall records (push_stall, with the stall unit's slot) are never discarded silently and
// never signal an overflow: each is reported back, st_done when written, st_drop when it
// could not be (queue not writable, or the write aborted), so the stall unit keeps the
// transaction and retries it once `writable` (section 3.12.2).
// `busy` (a record write in progress) holds off the acknowledgement of EVENTQEN=0 until the
// committed record is visible (section 6.3.9.4); records not yet started are discarded.
// `idle` (FIFO empty, no write in progress) lets CMD_SYNC wait for records of transactions
// that were terminated before it.
`default_nettype none

module smmu_evtq
    import smmu_arch_pkg::*;
#(
    parameter int EVENTQS = 7,
    parameter int DEPTH = 4,
    parameter int M_ID_W = 4,
    parameter int SL_W = 1
) (
    input  logic              clk,
    input  logic              rst_n,

    input  logic              push_valid,
    output logic              push_ready,
    input  logic [EVENT_NBITS-1:0] push_data,
    input  logic              push_stall,
    input  logic [SL_W-1:0]   push_slot,
    output logic              st_done,
    output logic              st_drop,
    output logic [SL_W-1:0]   st_slot,
    output logic              writable,

    input  logic              eventqen,
    input  logic              abt_active,     // GERROR.EVENTQ_ABT_ERR != GERRORN's
    input  logic [63:0]       eventq_base,
    input  logic [31:0]       eventq_prod,
    input  logic [31:0]       eventq_cons,
    output logic              prod_we,
    output logic [31:0]       prod_wdata,
    output logic              gerr_raise,
    output logic              idle,
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
    localparam logic [1:0] S_IDLE = 2'd0, S_AW = 2'd1, S_W = 2'd2, S_B = 2'd3;

    logic [EVENT_NBITS-1:0] fifo [DEPTH];
    logic [DEPTH-1:0]       fstall;
    logic [SL_W-1:0]        fslot [DEPTH];
    logic [PW-1:0] rp, wp;
    logic [PW:0]   cnt;
    logic [1:0]    st;
    logic [1:0]    beat;

    // Effective size and pointer arithmetic (index + wrap bit, modulo 2^(log2size+1)).
    localparam int QP_W = EVENTQ_PROD_WR_W;
    localparam int LG_W = EVENTQ_BASE_LOG2SIZE_W;
    logic [LG_W-1:0] lg;
    logic [QP_W-1:0] prod_m, prod_next, idx;
    logic            full, ovf_pending;
    smmu_outq_ptr #(.MAXLOG(EVENTQS)) u_ptr (
        .base(eventq_base), .prod(eventq_prod), .cons(eventq_cons),
        .lg, .prod_m, .prod_next, .idx, .full, .ovf_pending
    );

    wire          have = (cnt != '0);
    wire [EVENT_NBITS-1:0] head = fifo[rp];
    wire          head_stall = fstall[rp];
    // decision for the record at the head, taken in S_IDLE
    assign writable = eventqen && !abt_active && !full;
    wire          drop = have && (st == S_IDLE) && !writable;
    wire          pop = drop || (st == S_B && m_axi_bvalid);

    assign push_ready = (cnt != (PW+1)'(DEPTH));

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            rp <= '0; wp <= '0; cnt <= '0; st <= S_IDLE; beat <= '0; fstall <= '0;
            for (int i = 0; i < DEPTH; i++) begin fifo[i] <= '0; fslot[i] <= '0; end
        end else begin
            if (push_valid && push_ready) begin
                fifo[wp] <= push_data;
                fstall[wp] <= push_stall;
                fslot[wp] <= push_slot;
                wp <= (wp == PW'(DEPTH - 1)) ? '0 : wp + PW'(1);
            end
            if (pop) rp <= (rp == PW'(DEPTH - 1)) ? '0 : rp + PW'(1);
            case ({push_valid && push_ready, pop})
                2'b10: cnt <= cnt + (PW+1)'(1);
                2'b01: cnt <= cnt - (PW+1)'(1);
                default: ;
            endcase
            case (st)
                S_IDLE: if (have && writable) st <= S_AW;
                S_AW: if (m_axi_awready) begin st <= S_W; beat <= 2'd0; end
                S_W: if (m_axi_wready) begin
                    beat <= beat + 2'd1;
                    if (beat == 2'd3) st <= S_B;
                end
                S_B: if (m_axi_bvalid) st <= S_IDLE;
                default: st <= S_IDLE;
            endcase
        end
    end

    assign m_axi_awid = '0;
    // The base is aligned to the queue's size (at least 32 bytes: one record) (section 6.3.29).
    wire [47:0] q_align = ((48'h1 << EVENT_SIZE_LOG2) << lg) - 48'h1;
    assign m_axi_awaddr = (48'(eventq_base & EVENTQ_BASE_ADDR_MASK) & ~q_align) +
                          (48'(idx) << EVENT_SIZE_LOG2);
    assign m_axi_awlen = 8'd3;
    assign m_axi_awvalid = (st == S_AW);
    assign m_axi_wdata = head[{beat, 6'h0} +: 64];
    assign m_axi_wlast = (beat == 2'd3);
    assign m_axi_wvalid = (st == S_W);

    wire b_ok = (st == S_B) && m_axi_bvalid && !m_axi_bresp[1];
    // Overflow only for a queue unwritable because it is full (section 7.4), and never for a
    // stall record.
    wire ovf = drop && !head_stall && eventqen && !abt_active && full && !ovf_pending;
    assign prod_we = b_ok || ovf;
    assign prod_wdata = b_ok ? ((eventq_prod & EVENTQ_PROD_OVFLG_MASK) |
                                (32'(prod_next) << EVENTQ_PROD_WR_LSB))
                             : ((~eventq_prod & EVENTQ_PROD_OVFLG_MASK) |
                                (32'(prod_m) << EVENTQ_PROD_WR_LSB));
    assign gerr_raise = (st == S_B) && m_axi_bvalid && m_axi_bresp[1];
    assign st_done = b_ok && head_stall;
    assign st_drop = head_stall && (drop || gerr_raise);
    assign st_slot = fslot[rp];
    assign idle = !have && (st == S_IDLE);
    assign busy = (st != S_IDLE);

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{eventq_base, eventq_prod, eventq_cons, m_axi_bresp[0]};
    // verilator lint_on UNUSEDSIGNAL
endmodule

`default_nettype wire
