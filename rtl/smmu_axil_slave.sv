// AXI4-Lite slave front end of the SMMU register file.
//
// One access at a time per direction; a write is performed once both its address and its
// data have been accepted. Bad accesses get SLVERR and have no effect:
//   - an address that is not 32-bit aligned,
//   - a write whose strobes are not all set (the registers are 32-bit single-copy atomic;
//     64-bit registers are accessed as two aligned 32-bit halves).
// Aligned accesses to unmapped offsets are OKAY, read as zero and ignore writes: that is
// decided by the register file, which sees only good accesses.
`default_nettype none

module smmu_axil_slave #(
    parameter int AW = 17
) (
    input  logic          clk,
    input  logic          rst_n,

    input  logic [AW-1:0] s_axil_awaddr,
    input  logic [2:0]    s_axil_awprot,
    input  logic          s_axil_awvalid,
    output logic          s_axil_awready,
    input  logic [31:0]   s_axil_wdata,
    input  logic [3:0]    s_axil_wstrb,
    input  logic          s_axil_wvalid,
    output logic          s_axil_wready,
    output logic [1:0]    s_axil_bresp,
    output logic          s_axil_bvalid,
    input  logic          s_axil_bready,
    input  logic [AW-1:0] s_axil_araddr,
    input  logic [2:0]    s_axil_arprot,
    input  logic          s_axil_arvalid,
    output logic          s_axil_arready,
    output logic [31:0]   s_axil_rdata,
    output logic [1:0]    s_axil_rresp,
    output logic          s_axil_rvalid,
    input  logic          s_axil_rready,

    // Register file side: one-cycle strobes, read data combinational from the address.
    output logic          reg_wr,
    output logic [AW-1:0] reg_waddr,
    output logic [31:0]   reg_wdata,
    output logic          reg_rd,
    output logic [AW-1:0] reg_raddr,
    input  logic [31:0]   reg_rdata
);
    localparam logic [1:0] RESP_OKAY = 2'b00;
    localparam logic [1:0] RESP_SLVERR = 2'b10;

    // Write path: hold AW and W until both are present, then perform and answer.
    logic          aw_held, w_held;
    logic [AW-1:0] aw_addr;
    logic [31:0]   w_data;
    logic [3:0]    w_strb;

    assign s_axil_awready = !aw_held && !s_axil_bvalid;
    assign s_axil_wready  = !w_held && !s_axil_bvalid;

    wire          aw_have = aw_held || s_axil_awvalid;
    wire          w_have  = w_held || s_axil_wvalid;
    wire [AW-1:0] wr_addr = aw_held ? aw_addr : s_axil_awaddr;
    wire [31:0]   wr_data = w_held ? w_data : s_axil_wdata;
    wire [3:0]    wr_strb = w_held ? w_strb : s_axil_wstrb;
    wire          wr_go   = aw_have && w_have && !s_axil_bvalid;
    wire          wr_bad  = (wr_addr[1:0] != 2'b00) || (wr_strb != 4'hF);

    assign reg_wr    = wr_go && !wr_bad;
    assign reg_waddr = wr_addr;
    assign reg_wdata = wr_data;

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            aw_held <= 1'b0;
            w_held <= 1'b0;
            aw_addr <= '0;
            w_data <= '0;
            w_strb <= '0;
            s_axil_bvalid <= 1'b0;
            s_axil_bresp <= RESP_OKAY;
        end else begin
            if (wr_go) begin
                aw_held <= 1'b0;
                w_held <= 1'b0;
                s_axil_bvalid <= 1'b1;
                s_axil_bresp <= wr_bad ? RESP_SLVERR : RESP_OKAY;
            end else begin
                if (s_axil_awvalid && s_axil_awready) begin
                    aw_held <= 1'b1;
                    aw_addr <= s_axil_awaddr;
                end
                if (s_axil_wvalid && s_axil_wready) begin
                    w_held <= 1'b1;
                    w_data <= s_axil_wdata;
                    w_strb <= s_axil_wstrb;
                end
                if (s_axil_bvalid && s_axil_bready) s_axil_bvalid <= 1'b0;
            end
        end
    end

    // Read path: accept when no response is pending; data sampled in the accept cycle.
    assign s_axil_arready = !s_axil_rvalid;
    wire rd_go  = s_axil_arvalid && s_axil_arready;
    wire rd_bad = s_axil_araddr[1:0] != 2'b00;

    assign reg_rd    = rd_go && !rd_bad;
    assign reg_raddr = s_axil_araddr;

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            s_axil_rvalid <= 1'b0;
            s_axil_rdata <= '0;
            s_axil_rresp <= RESP_OKAY;
        end else if (rd_go) begin
            s_axil_rvalid <= 1'b1;
            s_axil_rdata <= rd_bad ? 32'h0 : reg_rdata;
            s_axil_rresp <= rd_bad ? RESP_SLVERR : RESP_OKAY;
        end else if (s_axil_rvalid && s_axil_rready) begin
            s_axil_rvalid <= 1'b0;
        end
    end

    // Protection attributes are accepted and not checked: this SMMU has only the Non-secure
    // programming interface, and Secure accesses to Non-secure registers behave the same.
    wire unused_prot = ^{s_axil_awprot, s_axil_arprot};
endmodule

`default_nettype wire
