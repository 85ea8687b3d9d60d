// Command queue consumer (reference §5).
//
// While CMDQEN is acknowledged, no command error is outstanding and CMDQ_PROD != CMDQ_CONS,
// it reads the 16-byte command at CONS (one 2-beat burst), executes it and advances CONS.
//   - CFGI_* and TLBI_* become one `inv_*` pulse to the translation unit; they take effect
//     at the clock edge of the pulse (no translation started after it can see old entries).
//   - CMD_SYNC waits until `sync_busy` is low (no walk engine that was running at an
//     invalidation is still running, and the event queue has written every record it
//     holds), then signals (SIG_IRQ: a one-cycle pulse on irq_cmdq_sync) and only then
//     advances CONS past itself.
//   - PREFETCH_* are accepted without effect; TLBI_EL2_* are ILLEGAL without IDR0.Hyp.
//   - Errors (§5.6): CERROR_ILL for unknown opcodes, reserved bits set (any bit outside the
//     opcode's fields, per-opcode masks below), reserved field values (SYNC CS=0b11,
//     PRI_RESP Resp=0b11), SSec=1, and commands of absent features; CERROR_ABT when the fetch returns SLVERR/DECERR. CONS stays on the
//     command, CONS.ERR takes the code, GERROR.CMDQ_ERR is raised and consumption stops
//     until software acknowledges it through GERRORN; then the command at CONS is refetched.
module smmu_cmdq #(
    parameter int CMDQS = 8,
    parameter int ATS = 0,
    parameter int PRI = 0,
    parameter int STALL_MODEL = 1,
    parameter int ASID16 = 1,
    parameter int HYP = 0
) (
    input  logic        clk,
    input  logic        rst_n,

    input  logic        cmdqen,
    input  logic [63:0] cmdq_base,
    input  logic [31:0] cmdq_prod,
    input  logic [31:0] cmdq_cons,
    input  logic        err_active,     // GERROR.CMDQ_ERR != GERRORN.CMDQ_ERR
    output logic        cons_we,
    output logic [31:0] cons_wdata,
    output logic        gerr_raise,

    // memory read (one outstanding)
    output logic        ar_valid,
    input  logic        ar_ready,
    output logic [47:0] ar_addr,
    output logic [7:0]  ar_len,
    input  logic        r_valid,
    input  logic [63:0] r_data,
    input  logic [1:0]  r_resp,
    input  logic        r_last,

    // invalidations (see smmu_xlate for the encodings)
    output logic        inv_valid,
    output logic [2:0]  inv_op,
    output logic [31:0] inv_sid,
    output logic [31:0] inv_sid_mask,
    output logic [19:0] inv_ssid,
    output logic [15:0] inv_asid,
    output logic [35:0] inv_va,
    output logic        inv_leaf,       // TLBI_NH_VA/VAA Leaf: the walk cache may stay
    input  logic        sync_busy,
    output logic        irq_cmdq_sync
);
    localparam logic [2:0] INV_CFG_SID = 3'd1, INV_CFG_CD = 3'd2, INV_TLB_ALL = 3'd3,
                           INV_TLB_ASID = 3'd4, INV_TLB_VA = 3'd5, INV_TLB_VAA = 3'd6;
    localparam logic [2:0] S_IDLE = 3'd0, S_AR = 3'd1, S_R = 3'd2, S_EXEC = 3'd3,
                           S_SYNC = 3'd4, S_HALT = 3'd5;
    localparam logic [6:0] CERROR_ILL = 7'h01, CERROR_ABT = 7'h02;

    logic [2:0]  st;
    logic [63:0] c0, c1;
    logic        beat, rerr, seen_err;

    // Effective size: LOG2SIZE capped at IDR1.CMDQS. A pointer is index + wrap bit, so it
    // counts modulo 2^(log2size+1).
    logic [4:0]  lg;
    logic [19:0] pmask, prod_m, cons_m, cons_next;
    always @(*) begin
        lg = (int'(cmdq_base[4:0]) > CMDQS) ? 5'(CMDQS) : cmdq_base[4:0];
        pmask = (20'h2 << lg) - 20'h1;
        prod_m = cmdq_prod[19:0] & pmask;
        cons_m = cmdq_cons[19:0] & pmask;
        cons_next = (cons_m + 20'h1) & pmask;
    end
    wire [19:0] idx = cons_m & ~(20'h1 << lg);

    // ---- decode ---------------------------------------------------------------------------
    // d_m0/d_m1: the bits of dw0/dw1 that the command defines (opcode and fields, reference
    // §5 / models/arch/commands.py); any other bit set is reserved and makes it ILLEGAL.
    logic       d_ill, d_inv, d_sync, d_rsv;
    logic [2:0] d_op;
    logic [31:0] d_mask;
    logic [63:0] d_m0, d_m1;
    always @(*) begin
        d_ill = 1'b0;
        d_inv = 1'b0;
        d_sync = 1'b0;
        d_op = 3'd0;
        d_mask = 32'hFFFF_FFFF;
        d_m0 = '1;
        d_m1 = '1;
        case (c0[7:0])
            8'h01: begin d_m0 = 64'hFFFF_FFFF_FFFF_FCFF; d_m1 = 64'h0; end   // PREFETCH_CONFIG
            8'h02: begin                                               // PREFETCH_ADDR
                d_m0 = 64'hFFFF_FFFF_FFFF_FCFF; d_m1 = 64'hFFFF_FFFF_FFFF_F01F;
            end
            8'h03: begin                                               // CFGI_STE
                d_inv = 1'b1; d_op = INV_CFG_SID;
                d_m0 = 64'hFFFF_FFFF_0000_04FF; d_m1 = 64'h1;
            end
            8'h04: begin                                               // CFGI_STE_RANGE / ALL
                d_inv = 1'b1; d_op = INV_CFG_SID;
                d_mask = 32'(~((33'h2 << c1[4:0]) - 33'h1));
                d_m0 = 64'hFFFF_FFFF_0000_04FF; d_m1 = 64'h1F;
            end
            8'h05: begin                                               // CFGI_CD
                d_inv = 1'b1; d_op = INV_CFG_CD;
                d_m0 = 64'hFFFF_FFFF_FFFF_F4FF; d_m1 = 64'h1;
            end
            8'h06: begin                                               // CFGI_CD_ALL
                d_inv = 1'b1; d_op = INV_CFG_SID;
                d_m0 = 64'hFFFF_FFFF_0000_04FF; d_m1 = 64'h0;
            end
            // TLBI_NH_*: there is no stage 2, so every entry has VMID 0 and the VMID field
            // does not narrow the invalidation (over-invalidation is always allowed).
            8'h10: begin                                               // TLBI_NH_ALL
                d_inv = 1'b1; d_op = INV_TLB_ALL;
                d_m0 = 64'h0000_FFFF_0000_00FF; d_m1 = 64'h0;
            end
            8'h30: begin                                               // TLBI_NSNH_ALL
                d_inv = 1'b1; d_op = INV_TLB_ALL;
                d_m0 = 64'h0000_0000_0000_00FF; d_m1 = 64'h0;
            end
            8'h11: begin                                               // TLBI_NH_ASID
                d_inv = 1'b1; d_op = INV_TLB_ASID;
                d_m0 = 64'hFFFF_FFFF_0000_00FF; d_m1 = 64'h0;
            end
            8'h12: begin                                               // TLBI_NH_VA
                d_inv = 1'b1; d_op = INV_TLB_VA;
                d_m0 = 64'hFFFF_FFFF_01F1_F0FF; d_m1 = 64'hFFFF_FFFF_FFFF_FF01;
            end
            8'h13: begin                                               // TLBI_NH_VAA
                d_inv = 1'b1; d_op = INV_TLB_VAA;
                d_m0 = 64'h0000_FFFF_01F1_F0FF; d_m1 = 64'hFFFF_FFFF_FFFF_FF01;
            end
            // TLBI_EL2_*: need Hyp
            8'h20: begin d_ill = (HYP == 0); d_m0 = 64'h0000_0000_0000_00FF; d_m1 = 64'h0; end
            8'h21: begin d_ill = (HYP == 0); d_m0 = 64'hFFFF_0000_0000_00FF; d_m1 = 64'h0; end
            8'h22: begin
                d_ill = (HYP == 0);
                d_m0 = 64'hFFFF_0000_01F1_F0FF; d_m1 = 64'hFFFF_FFFF_FFFF_FF01;
            end
            8'h23: begin
                d_ill = (HYP == 0);
                d_m0 = 64'h0000_0000_01F1_F0FF; d_m1 = 64'hFFFF_FFFF_FFFF_FF01;
            end
            8'h28, 8'h2A: d_ill = 1'b1;                                // stage-2 TLBI: S2P=0
            8'h40: begin                                               // ATC_INV
                d_ill = (ATS == 0);
                d_m0 = 64'hFFFF_FFFF_FFFF_FAFF; d_m1 = 64'hFFFF_FFFF_FFFF_F03F;
            end
            8'h41: begin                                               // PRI_RESP, Resp=0b11
                d_ill = (PRI == 0) || (c1[13:12] == 2'b11);
                d_m0 = 64'hFFFF_FFFF_FFFF_F8FF; d_m1 = 64'h31FF;
            end
            8'h44: begin                                               // RESUME
                d_ill = (STALL_MODEL == 1);
                d_m0 = 64'hFFFF_FFFF_0000_34FF; d_m1 = 64'hFFFF;
            end
            8'h45: begin                                               // STALL_TERM
                d_ill = (STALL_MODEL == 1);
                d_m0 = 64'hFFFF_FFFF_0000_04FF; d_m1 = 64'h0;
            end
            8'h46: begin                                               // CMD_SYNC, CS=0b11
                d_ill = (c0[13:12] == 2'b11);
                d_sync = 1'b1;
                d_m0 = 64'hFFFF_FFFF_0FC0_30FF; d_m1 = 64'h000F_FFFF_FFFF_FFFC;
            end
            default: d_ill = 1'b1;
        endcase
        d_rsv = |(c0 & ~d_m0) || |(c1 & ~d_m1);
        if (d_rsv) d_ill = 1'b1;                                       // reserved bits set
        if (c0[10]) d_ill = 1'b1;                                      // SSec: Non-secure queue
    end

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            st <= S_IDLE;
            c0 <= '0; c1 <= '0; beat <= 1'b0; rerr <= 1'b0; seen_err <= 1'b0;
        end else begin
            case (st)
                S_IDLE: if (cmdqen && !err_active && prod_m != cons_m) st <= S_AR;
                S_AR: if (ar_ready) begin
                    st <= S_R;
                    beat <= 1'b0;
                    rerr <= 1'b0;
                end
                S_R: if (r_valid) begin
                    if (!beat) c0 <= r_data; else c1 <= r_data;
                    beat <= 1'b1;
                    if (r_resp[1]) rerr <= 1'b1;
                    if (r_last) st <= S_EXEC;
                end
                S_EXEC: begin
                    if (rerr || d_ill) begin
                        st <= S_HALT;
                        seen_err <= 1'b0;
                    end else if (d_sync) st <= S_SYNC;
                    else st <= S_IDLE;
                end
                S_SYNC: if (!sync_busy) st <= S_IDLE;
                S_HALT: begin
                    // wait for the raised error to show in GERROR, then for its acknowledge
                    if (err_active) seen_err <= 1'b1;
                    if (seen_err && !err_active) st <= S_IDLE;
                end
                default: st <= S_IDLE;
            endcase
        end
    end

    assign ar_valid = (st == S_AR);
    assign ar_addr = {cmdq_base[47:5], 5'h0} + {24'h0, idx, 4'h0};
    assign ar_len = 8'd1;

    wire exec_ok = (st == S_EXEC) && !rerr && !d_ill;
    assign inv_valid = exec_ok && d_inv;
    assign inv_op = d_op;
    assign inv_sid = c0[63:32];
    assign inv_sid_mask = d_mask;
    assign inv_ssid = c0[31:12];
    assign inv_asid = (ASID16 != 0) ? c0[63:48] : {8'h0, c0[55:48]};
    assign inv_va = c1[47:12];
    assign inv_leaf = c1[0];

    wire sync_done = (st == S_SYNC) && !sync_busy;
    assign irq_cmdq_sync = sync_done && (c0[13:12] == 2'b01);
    assign cons_we = (exec_ok && !d_sync) || sync_done || ((st == S_EXEC) && (rerr || d_ill));
    assign cons_wdata = ((st == S_EXEC) && (rerr || d_ill))
                        ? {1'b0, rerr ? CERROR_ABT : CERROR_ILL, 4'h0, cons_m}
                        : {1'b0, cmdq_cons[30:24], 4'h0, cons_next};
    assign gerr_raise = (st == S_EXEC) && (rerr || d_ill);

    // TLBI ranges (NUM/SCALE/TG/TTL) need IDR3.RIL; the remaining command bits are only
    // checked against the reserved masks.
    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{cmdq_base[63:48],
                    cmdq_prod[31:20], cmdq_cons[31], cmdq_cons[23:20], r_resp[0]};
    // verilator lint_on UNUSEDSIGNAL
endmodule
