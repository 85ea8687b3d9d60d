// Memory-port write arbiter: the event queue (port 0), the PRI queue (port 1) and the HTTU
// descriptor updates of the miss engines (port 2), each with one burst in flight at most,
// share AW, W and B. While no burst is in flight, the lowest port whose AW is offered is
// chosen and the choice is kept from the first cycle AW is offered until its handshake, so
// AWADDR/AWLEN/AWID/AWLOCK never change under AWVALID; the grant then lasts until the write
// response. The other ports see awready, wready and bvalid low meanwhile. AW and W are
// forwarded combinationally from the chosen port (with its AWID and AWLOCK: an exclusive write
// carries the ID of its exclusive read); nothing else is added.
`default_nettype none

module smmu_wr_arb #(
    parameter int M_ID_W = 4,
    parameter int NP = 3
) (
    input  logic              clk,
    input  logic              rst_n,

    input  logic [NP-1:0]        aw_valid,
    output logic [NP-1:0]        aw_ready,
    input  logic [NP*48-1:0]     aw_addr,
    input  logic [NP*8-1:0]      aw_len,
    input  logic [NP*M_ID_W-1:0] aw_id,
    input  logic [NP-1:0]        aw_lock,
    input  logic [NP*64-1:0]     w_data,
    input  logic [NP-1:0]        w_last,
    input  logic [NP-1:0]        w_valid,
    output logic [NP-1:0]        w_ready,
    output logic [NP-1:0]        b_valid,

    output logic [M_ID_W-1:0] m_axi_awid,
    output logic [47:0]       m_axi_awaddr,
    output logic [7:0]        m_axi_awlen,
    output logic              m_axi_awlock,
    output logic              m_axi_awvalid,
    input  logic              m_axi_awready,
    output logic [63:0]       m_axi_wdata,
    output logic              m_axi_wlast,
    output logic              m_axi_wvalid,
    input  logic              m_axi_wready,
    input  logic              m_axi_bvalid
);
    localparam int PW = (NP > 1) ? $clog2(NP) : 1;

    logic          held;       // a burst in flight
    logic          offered;    // AW offered last cycle and not taken: the choice `g` is kept
    logic [PW-1:0] g, low, sel;
    // the port that drives AW/W this cycle: the holder or the one whose AW waits, else the
    // lowest requester
    always @(*) begin
        low = '0;
        for (int i = NP - 1; i >= 0; i--)
            if (aw_valid[i]) low = PW'(i);
        sel = (held || offered) ? g : low;
    end

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            held <= 1'b0; g <= '0; offered <= 1'b0;
        end else if (!held && m_axi_awvalid) begin
            g <= sel;
            held <= m_axi_awready;
            offered <= !m_axi_awready;
        end else if (held && m_axi_bvalid) begin
            held <= 1'b0;
        end
    end

    // a new burst only once the previous one was answered
    assign m_axi_awvalid = !held && aw_valid[sel];
    assign m_axi_awaddr = aw_addr[sel*48 +: 48];
    assign m_axi_awlen = aw_len[sel*8 +: 8];
    assign m_axi_awid = aw_id[sel*M_ID_W +: M_ID_W];
    assign m_axi_awlock = aw_lock[sel];
    assign m_axi_wdata = w_data[sel*64 +: 64];
    assign m_axi_wlast = w_last[sel];
    assign m_axi_wvalid = held && w_valid[sel];
    always @(*) begin
        aw_ready = '0;
        w_ready = '0;
        b_valid = '0;
        aw_ready[sel] = !held && m_axi_awready;
        w_ready[sel] = held && m_axi_wready;
        b_valid[sel] = held && m_axi_bvalid;
    end
endmodule

`default_nettype wire
