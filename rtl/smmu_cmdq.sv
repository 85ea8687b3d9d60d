// Command queue consumer (reference §5).
//
// While CMDQEN is set and acknowledged (`cmdqen`), no command error is outstanding and
// CMDQ_PROD != CMDQ_CONS, it reads the 16-byte command at CONS (one 2-beat burst), executes
// it and advances CONS. `busy` (a command fetched or executing, a SYNC waiting) holds off the
// acknowledgement of CMDQEN=0 until the command in progress is consumed (section 6.3.9.3).
//   - CFGI_* and TLBI_* become one `inv_*` pulse to the translation unit; they take effect
//     at the clock edge of the pulse (no translation started after it can see old entries).
//   - CMD_SYNC waits until `sync_busy` is low (no walk engine that was running at an
//     invalidation is still running, no response translated before an invalidation still
//     waits in the response FIFO, and the event queue has written every record it holds),
//     then signals (SIG_IRQ: a one-cycle pulse on irq_cmdq_sync) and only then
//     advances CONS past itself.
//   - PREFETCH_* are accepted without effect; TLBI_EL2_* are ILLEGAL without IDR0.Hyp.
//   - CMD_RESUME and CMD_STALL_TERM become one pulse to the stall unit (smmu_stall).
//   - CMD_PRI_RESP is offered to the PRI queue (`presp_*`) and consumed once taken; with
//     SMMUEN=0 it is consumed without effect (§4.5.2: IGNORED).
//   - CMD_ATC_INV goes out on `ainv_*` with an ITAG and is consumed once taken (with SMMUEN=0:
//     consumed without effect). A later CMD_SYNC also waits until every ITAG sent has come
//     back on `acpl_*` (a completion or a UR); after ATC_TIMEOUT cycles of that wait it fails
//     with CERROR_ATC_INV_SYNC, CONS on the SYNC, and the ITAGs are abandoned, so the SYNC
//     completes once software acknowledges the error and it is refetched (§5.5, §5.6). A
//     CMD_ATC_INV that cannot be sent within ATC_TIMEOUT cycles (no free ITAG, or the request
//     port not taking it) is consumed unsent and the next SYNC fails the same way.
//   - Errors (§5.6): CERROR_ILL for unknown opcodes, reserved bits set (any bit outside the
//     opcode's fields, per-opcode masks below), reserved field values (SYNC CS=0b11,
//     PRI_RESP Resp=0b11), SSec=1, and commands of absent features; CERROR_ABT when the fetch returns SLVERR/DECERR. CONS stays on the
//     command, CONS.ERR takes the code, GERROR.CMDQ_ERR is raised and consumption stops
//     until software acknowledges it through GERRORN; then the command at CONS is refetched.
// Opcodes, field positions and the defined bits of each command: smmu_arch_pkg (generated
// from models/arch/commands.py).
`default_nettype none

module smmu_cmdq
    import smmu_arch_pkg::*;
    import smmu_types_pkg::*;
#(
    parameter int CMDQS = 8,
    parameter int ATS = 0,
    parameter int PRI = 0,
    parameter int STALL_MODEL = 1,
    parameter int ASID16 = 1,
    parameter int HYP = 0,
    parameter int RIL = 0,
    parameter int ATC_TIMEOUT = 1024,   // cycles a SYNC waits for ATC invalidation completions
    parameter int ITAG_W = 4            // ATC invalidations in flight: up to 2^ITAG_W
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
    output logic        busy,

    // memory read (one outstanding)
    output logic        ar_valid,
    input  logic        ar_ready,
    output logic [47:0] ar_addr,
    output logic [7:0]  ar_len,
    input  logic        r_valid,
    input  logic [63:0] r_data,
    input  logic [1:0]  r_resp,
    input  logic        r_last,

    // invalidations (smmu_types_pkg inv_t)
    output logic        inv_valid,
    output inv_t        inv,
    input  logic        sync_busy,
    output logic        irq_cmdq_sync,

    // stall commands (to the stall unit): one pulse as each is consumed
    output logic        resume_valid,   // CMD_RESUME
    output logic        term_valid,     // CMD_STALL_TERM
    output logic [31:0] stall_sid,
    output logic [CMD_STAG_W-1:0] stall_stag,
    output logic        stall_ac,
    output logic        stall_ab,

    // CMD_PRI_RESP (to the PRI queue): consumed once taken; ignored with SMMUEN=0
    input  logic        smmuen,
    output logic        presp_valid,
    input  logic        presp_ready,
    output logic [31:0] presp_sid,
    output logic        presp_ssv,
    output logic [19:0] presp_ssid,
    output logic [8:0]  presp_prgi,
    output logic [1:0]  presp_code,

    // CMD_ATC_INV (ATS=1): invalidation requests out, completions (or UR) back by ITAG
    output logic        ainv_valid,
    input  logic        ainv_ready,
    output logic [ITAG_W-1:0] ainv_itag,
    output logic [31:0] ainv_sid,
    output logic        ainv_ssv,
    output logic [19:0] ainv_ssid,
    output logic        ainv_glob,
    output logic [51:0] ainv_addr,      // address bits [63:12]
    output logic [5:0]  ainv_size,
    input  logic        acpl_valid,
    input  logic [ITAG_W-1:0] acpl_itag
);
    localparam logic [2:0] S_IDLE = 3'd0, S_AR = 3'd1, S_R = 3'd2, S_EXEC = 3'd3,
                           S_SYNC = 3'd4, S_HALT = 3'd5;

    logic [2:0]  st;
    logic [63:0] c0, c1;
    logic        beat, rerr, seen_err;
    wire [CMD_NBITS-1:0] cmd = {c1, c0};

    // Effective size: LOG2SIZE capped at IDR1.CMDQS. A pointer is index + wrap bit, so it
    // counts modulo 2^(log2size+1).
    localparam int QP_W = CMDQ_PROD_WR_W;
    localparam int LG_W = CMDQ_BASE_LOG2SIZE_W;
    logic [LG_W-1:0] lg, log2size;
    logic [QP_W-1:0] pmask, prod_m, cons_m, cons_next;
    always @(*) begin
        log2size = cmdq_base[CMDQ_BASE_LOG2SIZE_LSB +: LG_W];
        lg = (int'(log2size) > CMDQS) ? LG_W'(CMDQS) : log2size;
        pmask = (QP_W'(2) << lg) - QP_W'(1);
        prod_m = cmdq_prod[CMDQ_PROD_WR_LSB +: QP_W] & pmask;
        cons_m = cmdq_cons[CMDQ_CONS_RD_LSB +: QP_W] & pmask;
        cons_next = (cons_m + QP_W'(1)) & pmask;
    end
    wire [QP_W-1:0] idx = cons_m & ~(QP_W'(1) << lg);

    // ---- decode ---------------------------------------------------------------------------
    // d_def: the bits the command defines (opcode and fields, reference §5 /
    // models/arch/commands.py); any other bit set is reserved and makes it ILLEGAL.
    logic       d_ill, d_inv, d_sync, d_rsv, d_resume, d_term, d_presp, d_ainv;
    // With IDR3.RIL and TG != 0, NUM = SCALE = 0 with TTL 0b00 is Reserved (CERROR_ILL), and
    // without IDR5.DS a 16 KiB TG with TTL 0b01 counts as TTL 0b00 (section 4.4.1.1).
    wire [CMD_TG_W-1:0]  c_tg = cmd[CMD_TG_LSB +: CMD_TG_W];
    wire [CMD_TTL_W-1:0] c_ttl = cmd[CMD_TTL_LSB +: CMD_TTL_W];
    wire rsv_range = (RIL != 0) && c_tg != '0 && cmd[CMD_NUM_LSB +: CMD_NUM_W] == '0 &&
                     cmd[CMD_SCALE_LSB +: CMD_SCALE_W] == '0 &&
                     (c_ttl == 2'b00 || (c_tg == 2'b10 && c_ttl == 2'b01));
    logic [2:0] d_op;
    logic [31:0] d_mask;
    logic [CMD_NBITS-1:0] d_def;
    always @(*) begin
        d_ill = 1'b0;
        d_inv = 1'b0;
        d_sync = 1'b0;
        d_resume = 1'b0;
        d_term = 1'b0;
        d_presp = 1'b0;
        d_ainv = 1'b0;
        d_op = 3'd0;
        d_mask = 32'hFFFF_FFFF;
        d_def = '1;
        case (cmd[CMD_OPCODE_LSB +: CMD_OPCODE_W])
            OPCODE_PREFETCH_CONFIG: d_def = CMD_DEFINED_PREFETCH_CONFIG;
            OPCODE_PREFETCH_ADDR: d_def = CMD_DEFINED_PREFETCH_ADDR;
            OPCODE_CFGI_STE: begin
                d_inv = 1'b1; d_op = INV_CFG_SID;
                d_def = CMD_DEFINED_CFGI_STE;
            end
            OPCODE_CFGI_STE_RANGE: begin                               // also CFGI_ALL
                d_inv = 1'b1; d_op = INV_CFG_SID;
                d_mask = 32'(~((33'h2 << cmd[CMD_RANGE_LSB +: CMD_RANGE_W]) - 33'h1));
                d_def = CMD_DEFINED_CFGI_STE_RANGE;
            end
            OPCODE_CFGI_CD: begin
                d_inv = 1'b1; d_op = INV_CFG_CD;
                d_def = CMD_DEFINED_CFGI_CD;
            end
            OPCODE_CFGI_CD_ALL: begin
                d_inv = 1'b1; d_op = INV_CFG_SID;
                d_def = CMD_DEFINED_CFGI_CD_ALL;
            end
            // TLBI_NH_*: there is no stage 2, so every entry has VMID 0 and the VMID field
            // does not narrow the invalidation (over-invalidation is always allowed).
            OPCODE_TLBI_NH_ALL: begin
                d_inv = 1'b1; d_op = INV_TLB_ALL;
                d_def = CMD_DEFINED_TLBI_NH_ALL;
            end
            OPCODE_TLBI_NSNH_ALL: begin
                d_inv = 1'b1; d_op = INV_TLB_ALL;
                d_def = CMD_DEFINED_TLBI_NSNH_ALL;
            end
            OPCODE_TLBI_NH_ASID: begin
                d_inv = 1'b1; d_op = INV_TLB_ASID;
                d_def = CMD_DEFINED_TLBI_NH_ASID;
            end
            OPCODE_TLBI_NH_VA: begin
                d_inv = 1'b1; d_op = INV_TLB_VA;
                d_def = CMD_DEFINED_TLBI_NH_VA;
                d_ill = rsv_range;
            end
            OPCODE_TLBI_NH_VAA: begin
                d_inv = 1'b1; d_op = INV_TLB_VAA;
                d_def = CMD_DEFINED_TLBI_NH_VAA;
                d_ill = rsv_range;
            end
            // TLBI_EL2_*: need Hyp
            OPCODE_TLBI_EL2_ALL: begin d_ill = (HYP == 0); d_def = CMD_DEFINED_TLBI_EL2_ALL; end
            OPCODE_TLBI_EL2_ASID: begin d_ill = (HYP == 0); d_def = CMD_DEFINED_TLBI_EL2_ASID; end
            OPCODE_TLBI_EL2_VA: begin d_ill = (HYP == 0); d_def = CMD_DEFINED_TLBI_EL2_VA; end
            OPCODE_TLBI_EL2_VAA: begin d_ill = (HYP == 0); d_def = CMD_DEFINED_TLBI_EL2_VAA; end
            OPCODE_TLBI_S12_VMALL, OPCODE_TLBI_S2_IPA: d_ill = 1'b1;  // stage-2 TLBI: S2P=0
            OPCODE_ATC_INV: begin
                d_ill = (ATS == 0);
                d_ainv = 1'b1;
                d_def = CMD_DEFINED_ATC_INV;
            end
            OPCODE_PRI_RESP: begin                                     // and a reserved Resp
                d_ill = (PRI == 0) || !PRI_RESP_CODE_VALID[cmd[CMD_RESP_LSB +: CMD_RESP_W]];
                d_presp = 1'b1;
                d_def = CMD_DEFINED_PRI_RESP;
            end
            OPCODE_RESUME: begin
                d_ill = (STALL_MODEL == int'(STALL_MODEL_TERMINATE_ONLY));
                d_resume = 1'b1;
                d_def = CMD_DEFINED_RESUME;
            end
            OPCODE_STALL_TERM: begin
                d_ill = (STALL_MODEL == int'(STALL_MODEL_TERMINATE_ONLY));
                d_term = 1'b1;
                d_def = CMD_DEFINED_STALL_TERM;
            end
            OPCODE_SYNC: begin                                         // and a reserved CS
                d_ill = !SYNC_CS_VALID[cmd[CMD_CS_LSB +: CMD_CS_W]];
                d_sync = 1'b1;
                d_def = CMD_DEFINED_SYNC;
            end
            default: d_ill = 1'b1;
        endcase
        d_rsv = |(cmd & ~d_def);
        if (d_rsv) d_ill = 1'b1;                                       // reserved bits set
        if (cmd[CMD_SSEC_LSB]) d_ill = 1'b1;                           // SSec: Non-secure queue
    end

    // ---- ATC invalidations in flight -----------------------------------------------------------
    // `aout`: the ITAGs sent and not yet completed; a SYNC completes only once it is empty.
    // Waiting too long (ATC_TIMEOUT cycles) for them in a SYNC, or for a free ITAG or the
    // request port in a CMD_ATC_INV, gives up: the ITAGs in flight are abandoned (`aban`: not
    // reused until their late completion comes back, so a late completion can never complete
    // a newer invalidation), a CMD_ATC_INV that could not be sent is consumed unsent and
    // remembered (`atc_failed`), and the SYNC that waited, or the next one, fails with
    // CERROR_ATC_INV_SYNC.
    localparam int NTAG = 1 << ITAG_W;
    logic [NTAG-1:0]   aout, aban, aout_n, aban_n;
    logic [31:0]       atimer;
    logic              atc_failed;
    logic [ITAG_W-1:0] afree;   // the lowest free ITAG
    logic              ahave;
    always @(*) begin
        ahave = 1'b0;
        afree = '0;
        for (int i = NTAG - 1; i >= 0; i--) begin
            if (!aout[i] && !aban[i]) begin
                ahave = 1'b1;
                afree = ITAG_W'(i);
            end
        end
    end
    wire atc_wait = (aout != '0);
    wire ainv_cmd = (st == S_EXEC) && !rerr && !d_ill && d_ainv && smmuen;
    wire ainv_fire = ainv_cmd && ahave && ainv_ready;
    wire a_waiting = ((st == S_SYNC) && atc_wait) || (ainv_cmd && !ainv_fire);
    wire a_expired = a_waiting && (atimer >= 32'(ATC_TIMEOUT));
    wire ainv_drop = ainv_cmd && !ainv_fire && a_expired;   // consumed unsent
    wire ainv_wait = ainv_cmd && !ainv_fire && !a_expired;
    wire sync_fail = (st == S_SYNC) && (atc_failed || (atc_wait && a_expired));
    always @(*) begin
        aout_n = aout;
        aban_n = aban;
        if (acpl_valid) begin
            if (aout[acpl_itag]) aout_n[acpl_itag] = 1'b0;
            else aban_n[acpl_itag] = 1'b0;          // a late one: its ITAG is free again
        end
        if (sync_fail || ainv_drop) begin
            aban_n = aban_n | aout_n;
            aout_n = '0;
        end
        if (ainv_fire) aout_n[afree] = 1'b1;
    end

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            aout <= '0; aban <= '0; atimer <= '0; atc_failed <= 1'b0;
        end else begin
            aout <= aout_n;
            aban <= aban_n;
            atimer <= (a_waiting && !a_expired) ? atimer + 32'd1 : 32'd0;
            if (ainv_drop) atc_failed <= 1'b1;
            else if (sync_fail) atc_failed <= 1'b0;
        end
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
                    else if (!presp_wait && !ainv_wait) st <= S_IDLE;
                end
                S_SYNC: if (sync_fail) begin
                    st <= S_HALT;
                    seen_err <= 1'b0;
                end else if (!sync_busy && !atc_wait) st <= S_IDLE;
                S_HALT: begin
                    // wait for the raised error to show in GERROR, then for its acknowledge
                    if (err_active) seen_err <= 1'b1;
                    if (seen_err && !err_active) st <= S_IDLE;
                end
                default: st <= S_IDLE;
            endcase
        end
    end

    // A halted queue has consumed nothing it has not accounted for in CONS.
    assign busy = (st != S_IDLE) && (st != S_HALT);
    assign ar_valid = (st == S_AR);
    // The base is aligned to the larger of the queue's size and 32 bytes (section 6.3.26).
    wire [47:0] q_align = ((48'h1 << CMD_SIZE_LOG2) << lg) - 48'h1;
    assign ar_addr = (48'(cmdq_base & CMDQ_BASE_ADDR_MASK) & ~q_align & ~48'h1F) +
                     (48'(idx) << CMD_SIZE_LOG2);
    assign ar_len = 8'd1;                                   // two 64-bit beats

    // A CMD_PRI_RESP waits in S_EXEC until the PRI queue takes its response.
    wire presp_go = (st == S_EXEC) && !rerr && !d_ill && d_presp && smmuen;
    wire presp_wait = presp_go && !presp_ready;
    // A CMD_ATC_INV waits (ainv_wait, above) until an ITAG is free and the endpoint side
    // takes it, or until it gives up.
    wire exec_ok = (st == S_EXEC) && !rerr && !d_ill && !presp_wait && !ainv_wait;
    assign inv_valid = exec_ok && d_inv;
    assign inv.op = d_op;
    assign inv.sid = cmd[CMD_STREAMID_LSB +: CMD_STREAMID_W];
    assign inv.sid_mask = d_mask;
    assign inv.ssid = cmd[CMD_SUBSTREAMID_LSB +: CMD_SUBSTREAMID_W];
    assign inv.asid = (ASID16 != 0) ? cmd[CMD_ASID_LSB +: CMD_ASID_W]
                                    : {8'h0, cmd[CMD_ASID_LSB +: 8]};   // 8-bit ASIDs
    // VA[55:12]: VA[63:56] is the top byte, which TLB entries are never tagged with
    assign inv.va = cmd[CMD_ADDR_LSB +: 56 - CMD_ADDR_ADDR_LO];
    assign inv.leaf = cmd[CMD_LEAF_LSB];
    assign inv.shared = 1'b0;  // commands reach every ASET (section 3.17)

    // RESUME and STALL_TERM complete on consumption (§4.7): no wait, no CMD_SYNC needed.
    assign resume_valid = exec_ok && d_resume;
    assign term_valid = exec_ok && d_term;
    assign stall_sid = cmd[CMD_STREAMID_LSB +: 32];
    assign stall_stag = cmd[CMD_STAG_LSB +: CMD_STAG_W];
    assign stall_ac = cmd[CMD_AC_LSB];
    assign stall_ab = cmd[CMD_AB_LSB];

    assign presp_valid = presp_go;
    assign presp_sid = cmd[CMD_STREAMID_LSB +: 32];
    assign presp_ssv = cmd[CMD_SSV_LSB];
    assign presp_ssid = cmd[CMD_SUBSTREAMID_LSB +: 20];
    assign presp_prgi = cmd[CMD_PRGINDEX_LSB +: 9];
    assign presp_code = cmd[CMD_RESP_LSB +: CMD_RESP_W];

    assign ainv_valid = ainv_cmd && ahave && !a_expired;
    assign ainv_itag = afree;
    assign ainv_sid = cmd[CMD_STREAMID_LSB +: 32];
    assign ainv_ssv = cmd[CMD_SSV_LSB];
    assign ainv_ssid = cmd[CMD_SSV_LSB] ? cmd[CMD_SUBSTREAMID_LSB +: 20] : 20'h0;
    assign ainv_glob = cmd[CMD_GLOBAL_LSB];
    assign ainv_addr = cmd[CMD_ADDR_LSB +: 52];
    assign ainv_size = cmd[CMD_ATC_INV_SIZE_LSB +: CMD_ATC_INV_SIZE_W];

    wire sync_done = (st == S_SYNC) && !sync_busy && !atc_wait && !sync_fail;
    assign irq_cmdq_sync = sync_done && (cmd[CMD_CS_LSB +: CMD_CS_W] == SYNC_CS_SIG_IRQ);
    wire cmd_err = (st == S_EXEC) && (rerr || d_ill);
    assign cons_we = (exec_ok && !d_sync) || sync_done || cmd_err || sync_fail;
    // An error leaves CONS on the command (for a timeout: the SYNC, §5.6) with its code.
    wire [6:0] err_code = sync_fail ? CMDQ_ERR_CERROR_ATC_INV_SYNC
                        : rerr ? CMDQ_ERR_CERROR_ABT : CMDQ_ERR_CERROR_ILL;
    assign cons_wdata = (cmd_err || sync_fail)
                        ? ((32'(err_code) << CMDQ_CONS_ERR_LSB) |
                           (32'(cons_m) << CMDQ_CONS_RD_LSB))
                        : ((cmdq_cons & CMDQ_CONS_ERR_MASK) |
                           (32'(cons_next) << CMDQ_CONS_RD_LSB));
    assign gerr_raise = cmd_err || sync_fail;

    // The remaining command bits are only checked against the reserved masks.
    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{cmdq_base, cmdq_prod, cmdq_cons, r_resp[0]};
    // verilator lint_on UNUSEDSIGNAL
endmodule

`default_nettype wire
