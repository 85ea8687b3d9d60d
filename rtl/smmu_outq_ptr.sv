// The pointer arithmetic of an output queue (event queue, PRI queue): its effective size,
// where the next entry goes, whether it is full, and whether an overflow is pending.
// Combinational. LOG2SIZE is capped at the IDR1 maximum (`MAXLOG`); a pointer is index plus
// wrap bit, so it counts modulo 2^(log2size+1). PROD/CONS use the event queue's layouts,
// which the PRI queue shares.
`default_nettype none

module smmu_outq_ptr
    import smmu_arch_pkg::*;
#(
    parameter int MAXLOG = 7
) (
    input  logic [63:0] base,
    input  logic [31:0] prod,
    input  logic [31:0] cons,
    output logic [EVENTQ_BASE_LOG2SIZE_W-1:0] lg,       // effective log2 of the size
    output logic [EVENTQ_PROD_WR_W-1:0] prod_m,         // PROD (index + wrap)
    output logic [EVENTQ_PROD_WR_W-1:0] prod_next,      // PROD after one more entry
    output logic [EVENTQ_PROD_WR_W-1:0] idx,            // the entry PROD names
    output logic                        full,
    output logic                        ovf_pending     // PROD.OVFLG != CONS.OVACKFLG
);
    localparam int QP_W = EVENTQ_PROD_WR_W;
    localparam int LG_W = EVENTQ_BASE_LOG2SIZE_W;
    logic [LG_W-1:0] log2size;
    logic [QP_W-1:0] pmask, cons_m;
    always @(*) begin
        log2size = base[EVENTQ_BASE_LOG2SIZE_LSB +: LG_W];
        lg = (int'(log2size) > MAXLOG) ? LG_W'(MAXLOG) : log2size;
        pmask = (QP_W'(2) << lg) - QP_W'(1);
        prod_m = prod[EVENTQ_PROD_WR_LSB +: QP_W] & pmask;
        cons_m = cons[EVENTQ_CONS_RD_LSB +: QP_W] & pmask;
        prod_next = (prod_m + QP_W'(1)) & pmask;
        full = ((prod_m ^ cons_m) == (QP_W'(1) << lg));
        ovf_pending = (prod[EVENTQ_PROD_OVFLG_LSB] != cons[EVENTQ_CONS_OVACKFLG_LSB]);
        idx = prod_m & ~(QP_W'(1) << lg);
    end

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{base, prod, cons};
    // verilator lint_on UNUSEDSIGNAL
endmodule

`default_nettype wire
