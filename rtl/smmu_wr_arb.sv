// Memory-port write arbiter: the event queue (port 0) and the PRI queue (port 1), each with
// one burst in flight at most, share AW, W and B. While no burst is in flight, the port whose
// AW is offered is chosen (port 0 first when both ask in the same cycle) and the choice is
// kept from the first cycle AW is offered until its handshake, so AWADDR/AWLEN never change
// under AWVALID; the grant then lasts until the write response. The other port sees awready,
// wready and bvalid low meanwhile. AW and W are forwarded combinationally from the chosen
// port; nothing else is added.
`default_nettype none

module smmu_wr_arb #(
    parameter int M_ID_W = 4
) (
    input  logic              clk,
    input  logic              rst_n,

    input  logic [1:0]        aw_valid,
    output logic [1:0]        aw_ready,
    input  logic [2*48-1:0]   aw_addr,
    input  logic [2*8-1:0]    aw_len,
    input  logic [2*64-1:0]   w_data,
    input  logic [1:0]        w_last,
    input  logic [1:0]        w_valid,
    output logic [1:0]        w_ready,
    output logic [1:0]        b_valid,

    output logic [M_ID_W-1:0] m_axi_awid,
    output logic [47:0]       m_axi_awaddr,
    output logic [7:0]        m_axi_awlen,
    output logic              m_axi_awvalid,
    input  logic              m_axi_awready,
    output logic [63:0]       m_axi_wdata,
    output logic              m_axi_wlast,
    output logic              m_axi_wvalid,
    input  logic              m_axi_wready,
    input  logic              m_axi_bvalid
);
    logic held, g;   // a burst in flight, and whose
    logic offered;   // AW offered last cycle and not taken: the choice `g` is kept
    // the port that drives AW/W this cycle: the holder or the one whose AW waits, else the
    // requester (port 0 first)
    wire sel = (held || offered) ? g : !aw_valid[0];

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            held <= 1'b0; g <= 1'b0; offered <= 1'b0;
        end else if (!held && m_axi_awvalid) begin
            g <= sel;
            held <= m_axi_awready;
            offered <= !m_axi_awready;
        end else if (held && m_axi_bvalid) begin
            held <= 1'b0;
        end
    end

    assign m_axi_awid = '0;
    // a new burst only once the previous one was answered
    assign m_axi_awvalid = !held && aw_valid[sel];
    assign m_axi_awaddr = aw_addr[sel*48 +: 48];
    assign m_axi_awlen = aw_len[sel*8 +: 8];
    assign m_axi_wdata = w_data[sel*64 +: 64];
    assign m_axi_wlast = w_last[sel];
    assign m_axi_wvalid = held && w_valid[sel];
    always @(*) begin
        aw_ready = 2'b00;
        w_ready = 2'b00;
        b_valid = 2'b00;
        aw_ready[sel] = !held && m_axi_awready;
        w_ready[sel] = held && m_axi_wready;
        b_valid[sel] = held && m_axi_bvalid;
    end
endmodule

`default_nettype wire
