// SMMUv3 top level. Port contract: docs/port-contract.md.
//   - s_axil_*: AXI4-Lite register slave, 32-bit data, page 0 at 0x0_0000, page 1 at 0x1_0000
//   - m_axi_*:  AXI4 memory master, 64-bit data, 48-bit addresses (tables, queues, walks)
//   - irq_*:    wired, level-sensitive interrupts
module smmu_top #(
    parameter int S1P = 0,
    parameter int COHACC = 1,
    parameter int BTM = 0,
    parameter int HTTU = 0,
    parameter int HYP = 0,
    parameter int ATS = 0,
    parameter int ASID16 = 1,
    parameter int MSI = 0,
    parameter int SEV = 0,
    parameter int PRI = 0,
    parameter int CD2L = 0,
    parameter int STALL_MODEL = 1,
    parameter int TERM_MODEL = 1,
    parameter int ST_LEVEL = 0,
    parameter int SIDSIZE = 6,
    parameter int SSIDSIZE = 0,
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
    parameter int M_ID_W = 4
) (
    input  logic              clk,
    input  logic              rst_n,

    // Register port (AXI4-Lite slave)
    input  logic [16:0]       s_axil_awaddr,
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
    input  logic [16:0]       s_axil_araddr,
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

    // Wired interrupts
    output logic              irq_eventq,
    output logic              irq_priq,
    output logic              irq_cmdq_sync,
    output logic              irq_gerror
);
    logic        reg_wr, reg_rd;
    logic [16:0] reg_waddr, reg_raddr;
    logic [31:0] reg_wdata, reg_rdata;
    logic [31:0] cr0_ack, gbpa_q;

    smmu_axil_slave #(.AW(17)) u_axil (
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
        .CR0ACK_DELAY(CR0ACK_DELAY), .GBPA_DELAY(GBPA_DELAY), .AW(17)
    ) u_regs (
        .clk, .rst_n,
        .reg_wr, .reg_waddr, .reg_wdata, .reg_rd, .reg_raddr, .reg_rdata,
        .gerror_raise(9'h0),
        .cr0_ack, .gbpa_q, .irq_gerror
    );

    // The memory port is idle until the table walker and the queue engines are built:
    // no requests, and responses are always accepted so a stray one cannot hang the bus.
    assign m_axi_awid = '0;
    assign m_axi_awaddr = '0;
    assign m_axi_awlen = '0;
    assign m_axi_awsize = 3'd3;
    assign m_axi_awburst = 2'b01;
    assign m_axi_awlock = 1'b0;
    assign m_axi_awcache = 4'b0011;
    assign m_axi_awprot = 3'b010;
    assign m_axi_awvalid = 1'b0;
    assign m_axi_wdata = '0;
    assign m_axi_wstrb = '0;
    assign m_axi_wlast = 1'b0;
    assign m_axi_wvalid = 1'b0;
    assign m_axi_bready = 1'b1;
    assign m_axi_arid = '0;
    assign m_axi_araddr = '0;
    assign m_axi_arlen = '0;
    assign m_axi_arsize = 3'd3;
    assign m_axi_arburst = 2'b01;
    assign m_axi_arlock = 1'b0;
    assign m_axi_arcache = 4'b0011;
    assign m_axi_arprot = 3'b010;
    assign m_axi_arvalid = 1'b0;
    assign m_axi_rready = 1'b1;

    assign irq_eventq = 1'b0;
    assign irq_priq = 1'b0;
    assign irq_cmdq_sync = 1'b0;

    // Inputs that only the not-yet-built engines consume.
    // verilator lint_off UNUSEDSIGNAL
    wire unused_mem = ^{m_axi_awready, m_axi_wready, m_axi_bid, m_axi_bresp, m_axi_bvalid,
                        m_axi_arready, m_axi_rid, m_axi_rdata, m_axi_rresp, m_axi_rlast,
                        m_axi_rvalid, cr0_ack, gbpa_q};
    // verilator lint_on UNUSEDSIGNAL
endmodule
