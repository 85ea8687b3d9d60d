// Stall unit (reference smmuv3.md §3.2, §5.4; fault-paths.md §1.3): transactions held after
// a translation-class fault through a CD with S=1.
//
// STALL_MAX slots; a slot's index is its STAG, so a STAG is never reused while its
// transaction is held. Per cycle:
//   - in: one stalling transaction (from an engine or the hit path) takes the lowest free
//     slot, with its tag, request, fault and event record (Stall=1; the STAG is inserted
//     here). smmu_xlate admits a request only while the free slots outnumber the
//     transactions in flight (free_n), so a stalling transaction always finds one: it never
//     waits for a slot while holding stage 1 or an engine that a retry needs.
//   - evt: the record of the lowest slot whose record is not yet pushed goes to the event
//     queue, with the slot as sideband. The queue reports each such record back: written
//     (st_done) or not written (st_drop: queue full, disabled, abort error, or the write
//     aborted). A dropped record leaves its transaction held without a record (WAIT); while
//     the queue is writable, a waiting transaction is retried as newly arrived (§3.12.2:
//     "retried as though newly arrived when the queue is next writable"), which writes a new
//     record. A stall record is never lost and never signals an overflow.
//   - cmd: CMD_RESUME (StreamID, STAG) with Ac=1 marks its slot for retry; with Ac=0 for
//     termination, abort if Ab=1 or TERM_MODEL=1, else RAZ/WI. A StreamID or STAG that
//     names no held transaction does nothing. CMD_STALL_TERM (StreamID) marks every held
//     transaction of the stream for abort, and SMMUEN=0 every held transaction.
//   - retry: the lowest slot marked for retry re-enters stage 1 (priority over t_req).
//   - rsp: the lowest slot marked for termination sends its response (result, fault; no
//     address or attributes).
// A slot is freed when its transaction has left (retried or answered) and its record is no
// longer in the event queue's hands, so the queue's report never names a reused slot.
`default_nettype none

module smmu_stall
    import smmu_arch_pkg::*;
    import smmu_types_pkg::*;
#(
    parameter int TAG_W = 8,
    parameter int STALL_MAX = 4,
    parameter int TERM_MODEL = 0,
    localparam int SL_W = (STALL_MAX > 1) ? $clog2(STALL_MAX) : 1
) (
    input  logic                   clk,
    input  logic                   rst_n,
    input  logic                   smmuen,

    input  logic                   in_valid,
    output logic                   in_ready,
    input  logic [TAG_W-1:0]       in_tag,
    input  xreq_t                  in_req,
    input  logic [EVENT_NBITS-1:0] in_evt,

    output logic                   evt_valid,
    input  logic                   evt_ready,
    output logic [EVENT_NBITS-1:0] evt,
    output logic [SL_W-1:0]        evt_slot,
    input  logic                   st_done,     // the record of st_slot was written
    input  logic                   st_drop,     // the record of st_slot was not written
    input  logic [SL_W-1:0]        st_slot,
    input  logic                   writable,    // the event queue would take a record now

    input  logic                   resume_valid,
    input  logic [EVENT_STREAMID_W-1:0] resume_sid,
    input  logic [CMD_STAG_W-1:0]  resume_stag,
    input  logic                   resume_ac,
    input  logic                   resume_ab,
    input  logic                   term_valid,  // CMD_STALL_TERM
    input  logic [EVENT_STREAMID_W-1:0] term_sid,

    output logic                   retry_valid,
    input  logic                   retry_ready,
    output logic [TAG_W-1:0]       retry_tag,
    output xreq_t                  retry_req,

    output logic                   rsp_valid,
    input  logic                   rsp_ready,
    output logic [TAG_W-1:0]       rsp_tag,
    output xrsp_t                  rsp,

    output logic [SL_W:0]          free_n        // free slots
);
    // Slot states
    localparam logic [2:0] F = 3'd0,      // free
                           H = 3'd1,      // held; its record pushed, or waiting to be
                           W = 3'd2,      // held, its record dropped: retry when writable
                           R = 3'd3,      // marked for retry (CMD_RESUME Ac=1)
                           TA = 3'd4,     // marked for termination: abort
                           TZ = 3'd5,     // marked for termination: RAZ/WI
                           G = 3'd6;      // gone (retried or answered), record still out

    logic [2:0]             s_st [STALL_MAX];
    logic [STALL_MAX-1:0]   s_pend;       // record not yet pushed
    logic [STALL_MAX-1:0]   s_out;        // record pushed, not yet reported
    logic [TAG_W-1:0]       s_tag [STALL_MAX];
    xreq_t                  s_req [STALL_MAX];
    logic [EVENT_NBITS-1:0] s_evt [STALL_MAX];
    // kept apart from s_req/s_evt: Icarus cannot select a member of an array element
    logic [EVENT_STREAMID_W-1:0] s_sid [STALL_MAX];
    logic [EVENT_EVENTID_W-1:0]  s_fault [STALL_MAX];

    // lowest free slot, lowest record to push, lowest retry, lowest termination
    logic            any_free, any_pend, any_retry, any_term, any_used;
    logic [SL_W-1:0] free_i, pend_i, retry_i, term_i;
    always @(*) begin
        any_used = 1'b0;
        any_free = 1'b0; free_i = '0;
        any_pend = 1'b0; pend_i = '0;
        any_retry = 1'b0; retry_i = '0;
        any_term = 1'b0; term_i = '0;
        for (int i = STALL_MAX - 1; i >= 0; i--) begin
            if (s_st[i] == F) begin any_free = 1'b1; free_i = SL_W'(i); end
            else any_used = 1'b1;
            if (s_pend[i]) begin any_pend = 1'b1; pend_i = SL_W'(i); end
            if (s_st[i] == R) begin any_retry = 1'b1; retry_i = SL_W'(i); end
            if (s_st[i] == TA || s_st[i] == TZ) begin any_term = 1'b1; term_i = SL_W'(i); end
        end
    end

    assign in_ready = any_free;
    always @(*) begin
        free_n = '0;
        for (int i = 0; i < STALL_MAX; i++) free_n = free_n + (SL_W+1)'(s_st[i] == F);
    end
    wire take = in_valid && in_ready;

    logic [EVENT_NBITS-1:0] pend_evt;
    always @(*) begin
        pend_evt = s_evt[pend_i];
        pend_evt[EVENT_STAG_LSB +: EVENT_STAG_W] = EVENT_STAG_W'(pend_i);
    end
    assign evt_valid = any_pend;
    assign evt = pend_evt;
    assign evt_slot = pend_i;

    assign retry_valid = any_retry;
    assign retry_tag = s_tag[retry_i];
    assign retry_req = s_req[retry_i];

    assign rsp_valid = any_term;
    assign rsp_tag = s_tag[term_i];
    assign rsp.result = (s_st[term_i] == TA) ? RES_ABORT : RES_RAZWI;
    assign rsp.pa = '0;
    assign rsp.perm = '0;
    assign rsp.attr = '0;
    assign rsp.sh = '0;
    assign rsp.fault = s_fault[term_i];

    // a held transaction (with or without its record) that a command or SMMUEN=0 may end
    function automatic logic holding(input logic [2:0] st);
        return st == H || st == W || st == R;
    endfunction

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            for (int i = 0; i < STALL_MAX; i++) begin
                s_st[i] <= F; s_tag[i] <= '0; s_req[i] <= '0; s_evt[i] <= '0;
                s_sid[i] <= '0; s_fault[i] <= '0;
            end
            s_pend <= '0; s_out <= '0;
        end else if (take || any_used) begin
            // A free slot has no record pending or out (it frees only once both are done),
            // so with every slot free and none taken nothing below changes. The hardware
            // does not need this enable; event-driven simulators are spared the loop's
            // STALL_MAX iterations on every idle cycle (docs/rtl.md).
            for (int i = 0; i < STALL_MAX; i++) begin
                logic [2:0] st;
                logic       pend, out;
                st = s_st[i];
                pend = s_pend[i];
                out = s_out[i];
                // the record: pushed, then reported back
                if (evt_valid && evt_ready && pend_i == SL_W'(i)) begin
                    pend = 1'b0; out = 1'b1;
                end
                if ((st_done || st_drop) && st_slot == SL_W'(i)) begin
                    out = 1'b0;
                    if (st_drop && st == H) st = W;
                end
                // commands, then SMMUEN=0 (which wins)
                if (resume_valid && st == H && !pend && resume_stag == CMD_STAG_W'(i) &&
                    s_sid[i] == resume_sid)
                    st = resume_ac ? R : ((resume_ab || TERM_MODEL != 0) ? TA : TZ);
                if (term_valid && holding(st) && s_sid[i] == term_sid) st = TA;
                if (!smmuen && holding(st)) st = TA;
                // a waiting transaction is retried once the queue is writable
                if (st == W && writable) st = R;
                // leaving
                if (retry_valid && retry_ready && retry_i == SL_W'(i)) st = G;
                if (rsp_valid && rsp_ready && term_i == SL_W'(i)) st = G;
                if (st == G && !pend && !out) st = F;
                // arriving (only into a slot that was free at the start of the cycle)
                if (take && free_i == SL_W'(i)) begin
                    st = H; pend = 1'b1; out = 1'b0;
                    s_tag[i] <= in_tag;
                    s_req[i] <= in_req;
                    s_evt[i] <= in_evt;
                    s_sid[i] <= in_req.sid;
                    s_fault[i] <= in_evt[EVENT_EVENTID_LSB +: EVENT_EVENTID_W];
                end
                s_st[i] <= st;
                s_pend[i] <= pend;
                s_out[i] <= out;
            end
        end
    end
endmodule

`default_nettype wire
