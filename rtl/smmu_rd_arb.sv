// Read-address arbiter of the memory port.
//
// NREQ requesters (the walk engines, then the command queue) each keep at most one read
// outstanding and use their index as ARID, so read data is routed back by RID alone and no
// reorder buffer is needed. The AR channel is a register: a grant moves the winner's
// address into it (the winner sees `req_ready` in that cycle), and it is offered on
// m_axi_ar* until the interconnect takes it. Round robin, so no engine can starve another.
// RREADY is always high: every requester buffers the beats of its one read.
`default_nettype none

module smmu_rd_arb #(
    parameter int NREQ = 5,
    parameter int M_ID_W = 4
) (
    input  logic                 clk,
    input  logic                 rst_n,

    input  logic [NREQ-1:0]      req_valid,
    output logic [NREQ-1:0]      req_ready,
    input  logic [NREQ*48-1:0]   req_addr,
    input  logic [NREQ*8-1:0]    req_len,
    input  logic [NREQ-1:0]      req_lock,    // an exclusive read (ARLOCK)
    output logic [NREQ-1:0]      rsp_valid,

    output logic [M_ID_W-1:0]    m_axi_arid,
    output logic [47:0]          m_axi_araddr,
    output logic [7:0]           m_axi_arlen,
    output logic                 m_axi_arlock,
    output logic                 m_axi_arvalid,
    input  logic                 m_axi_arready,
    input  logic [M_ID_W-1:0]    m_axi_rid,
    input  logic                 m_axi_rvalid
);
    localparam int IW = (NREQ > 1) ? $clog2(NREQ) : 1;

    logic [IW-1:0] last, pick;
    logic          found;
    wire           free = !m_axi_arvalid || m_axi_arready;

    // round robin: the first valid requester after the last winner
    always @(*) begin
        found = 1'b0;
        pick = '0;
        for (int k = 1; k <= NREQ; k++) begin
            if (!found && req_valid[(int'(last) + k) % NREQ]) begin
                found = 1'b1;
                pick = IW'((int'(last) + k) % NREQ);
            end
        end
        for (int i = 0; i < NREQ; i++) begin
            req_ready[i] = free && found && (pick == IW'(i));
            rsp_valid[i] = m_axi_rvalid && (m_axi_rid == M_ID_W'(i));
        end
    end

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            m_axi_arvalid <= 1'b0;
            m_axi_arid <= '0;
            m_axi_araddr <= '0;
            m_axi_arlen <= '0;
            m_axi_arlock <= 1'b0;
            last <= IW'(NREQ - 1);
        end else if (free) begin
            m_axi_arvalid <= found;
            if (found) begin
                m_axi_arid <= M_ID_W'(pick);
                m_axi_araddr <= req_addr[pick*48 +: 48];
                m_axi_arlen <= req_len[pick*8 +: 8];
                m_axi_arlock <= req_lock[pick];
                last <= pick;
            end
        end
    end
endmodule

`default_nettype wire
