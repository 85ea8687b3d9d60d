// Translation outcome of one request, purely combinational.
//
// One instance sits in the hit path (inputs: the request in stage 1, the context-cache entry
// and the IOTLB entry it hit) and one in every walk engine (inputs: the engine's request, the
// context it fetched or was handed, and the leaf it walked or the fault it found). Sharing the
// module keeps the permission model and the event-record layout in one place, so a hit and a
// walk of the same translation can never disagree.
//
// Priority, as the architecture orders faults (reference §4.5):
//   context kind (abort / bypass / configuration fault)
//   -> input range of the half VA[55] selects (TxSZ, TBIx)   F_TRANSLATION
//   -> a fault the walk found (x_fault)                      F_WALK_EABT / F_TRANSLATION /
//                                                            F_ADDR_SIZE / F_ACCESS
//   -> no leaf yet: that half disabled (EPDx)                F_TRANSLATION
//                   else `miss` (the hit path hands the request to a walk engine)
//   -> permission check on the leaf                          F_PERMISSION
//      unless only the dirty state (HTTU, leaf.dbm) refuses a write: `dirty` and `miss`
// EPDx only stops a walk (section 5.4.1.1: "the A-profile architecture allows a TLB hit to
// occur for an input address associated with an EPD bit set to 1"), so a leaf already in
// the IOTLB is still used.
// Translation-class faults (F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION) obey CD.S
// (stall: `stall`, and a record with Stall=1 that the stall unit writes with its STAG, so
// evt_valid stays low), CD.A (abort or RAZ/WI) and CD.R (record); every other fault aborts,
// and is recorded when x_record says so (C_BAD_STREAMID depends on CR2.RECINVSID; everything
// else is always recorded).
// Event IDs and the record layout: smmu_arch_pkg (generated from models/arch/events.py).
`default_nettype none

module smmu_xcalc
    import smmu_arch_pkg::*;
    import smmu_types_pkg::*;
#(
    parameter int PA_BITS = 48  // IAS = OAS for AArch64: the bypass input-address limit
) (
    input  xreq_t       req,
    // context: c_kind is CTX_* (abort: silent, bypass, stage-1 translate, configuration fault)
    input  logic [1:0]  c_kind,
    input  logic        c_chk_ias,  // bypass by STE/S1DSS (not GBPA): beyond IAS records a fault
    input  logic        c_ats_ok,   // the STE allows ATS (stage 1, EATS full)
    input  logic        c_atschk,   // CR0.ATSCHK
    input  logic [1:0]  c_privcfg,
    input  logic [1:0]  c_instcfg,
    input  logic [5:0]  c_t0sz,
    input  logic        c_tbi0,
    input  logic        c_epd0,
    input  logic [5:0]  c_t1sz,
    input  logic        c_tbi1,
    input  logic        c_epd1,
    input  logic        c_wxn,
    input  logic        c_pan,
    input  logic        c_hd,       // the context's effective CD.HD (HTTU dirty state)
    input  logic        c_s,
    input  logic        c_a,
    input  logic        c_r,
    input  logic [63:0] c_mair,
    // leaf (IOTLB entry or walk result)
    input  logic        l_hit,
    input  leaf_t       leaf,
    // fault found by an engine
    input  logic [7:0]  x_fault,
    input  logic        x_record,
    input  logic [EVENT_FETCHADDR_W-1:0] x_fetch,  // FetchAddr
    // outcome
    output logic        miss,
    output logic        dirty,       // a write (or an ATS request without No-Write) that
                                     // needs the dirty update first (a miss)
    output logic        no_walk,     // out of range or EPDx: an engine must not walk
    output xrsp_t       rsp,
    output logic        stall,       // held by the stall unit: no response now
    output logic        evt_valid,
    output logic [EVENT_NBITS-1:0] evt
);
    logic [1:0]  result, sh;
    logic [51:0] pa;
    logic [2:0]  perm;
    logic [7:0]  attr, fault;

    logic        e_pnu, e_ind;
    logic        upper, tbi, epd, range_fault;
    logic [5:0]  txsz;
    logic [63:0] hi_mask;
    logic        p_r, p_w, p_x, priv_w, el0_w, allowed;
    logic        ro_c, p_w_c;   // read-only and write permission once dirty (HTTU)
    logic [7:0]  f;
    logic        f_xlat;
    logic        ats_ur;      // ATS not allowed here: UR with F_BAD_ATS_TREQ

    always @(*) begin
        // STE.PRIVCFG / INSTCFG: 0b1x forces the value x, anything else uses the incoming one.
        // INSTCFG only affects reads: a write is always a data access.
        e_pnu = c_privcfg[1] ? c_privcfg[0] : req.pnu;
        // An ATS request is checked as a data read (an instruction fetch where STE.INSTCFG
        // forces one, as the model's lookup does); its `ind` is the Execute bit, which only
        // selects whether the completion grants execute.
        e_ind = req.rnw && (req.ats ? (c_instcfg == 2'b11)
                                    : (c_instcfg[1] ? c_instcfg[0] : req.ind));

        // VA[55] selects the half (section 3.4.1). Its input range: VA[63:IA] (VA[55:IA]
        // with TBIx, the top byte being ignored) must all equal VA[55], that is be zero for
        // TTB0 and all ones for TTB1.
        upper = req.addr[55];
        txsz = upper ? c_t1sz : c_t0sz;
        tbi = upper ? c_tbi1 : c_tbi0;
        epd = upper ? c_epd1 : c_epd0;
        hi_mask = ~((64'h1 << (7'd64 - {1'b0, txsz})) - 64'h1);
        if (tbi) hi_mask[63:56] = 8'h0;
        range_fault = (c_kind == CTX_TRANSLATE) &&
                      ((req.addr & hi_mask) != (upper ? hi_mask : 64'h0));
        no_walk = range_fault || ((c_kind == CTX_TRANSLATE) && epd);
        ats_ur = req.ats && (c_kind != CTX_FAULT) &&
                 (!c_chk_ias || ((c_kind != CTX_ABORT) && !c_ats_ok));

        // Permissions at each exception level (VMSAv8-64 EL1&0, reference §4.3).
        priv_w = !leaf.ro;
        el0_w = leaf.el0 && !leaf.ro;
        if (e_pnu) begin
            p_r = !(c_pan && leaf.el0);
            p_w = priv_w && !(c_pan && leaf.el0);
            p_x = !leaf.pxn && !el0_w && !(c_wxn && priv_w);
        end else begin
            p_r = leaf.el0;
            p_w = el0_w;
            p_x = !leaf.uxn && !(c_wxn && el0_w);
        end
        // A writable-clean page (leaf.dbm) is writable once the dirty update cleared AP[2]
        // (section 3.13.3), where the context has CD.HD (the entry may have been cached
        // through another context, a global one): a write it refuses only for that goes to a
        // miss engine, which makes the update before anything writes through it.
        ro_c = leaf.ro && !(leaf.dbm && c_hd);
        p_w_c = e_pnu ? !ro_c && !(c_pan && leaf.el0) : leaf.el0 && !ro_c;
        if (!req.rnw) allowed = p_w;
        else if (e_ind) allowed = p_x;
        else allowed = p_r;

        miss = 1'b0;
        dirty = 1'b0;
        result = RES_ABORT;
        pa = 52'h0;
        perm = 3'b000;
        attr = 8'h0;
        sh = 2'b00;
        f = 8'h0;
        f_xlat = 1'b0;
        case (c_kind)
            CTX_ABORT: ;  // STE.Config abort or GBPA.ABORT: silent, no fault ID
            CTX_BYPASS: begin
                // Stage 1 bypassed by the STE: an input address beyond IAS (= OAS) is a stage-1
                // Address Size fault; it has no CD, so it aborts and is recorded. SMMUEN=0
                // (GBPA bypass): beyond the OAS the transaction aborts with no event (§3.4).
                if ((req.addr >> PA_BITS) != 64'h0) begin
                    if (c_chk_ias) f = EVENT_ID_F_ADDR_SIZE;
                end else begin
                    result = RES_BYPASS;
                    pa = req.addr[51:0];
                end
            end
            CTX_FAULT: f = x_fault;
            default: begin
                if (range_fault) f = EVENT_ID_F_TRANSLATION;
                else if (x_fault != 8'h0) f = x_fault;
                else if (!l_hit && epd) f = EVENT_ID_F_TRANSLATION;
                else if (!l_hit) miss = 1'b1;
                else if (!allowed && !req.rnw && leaf.dbm && c_hd && p_w_c) begin
                    dirty = 1'b1;
                    miss = 1'b1;
                end else if (!allowed) f = EVENT_ID_F_PERMISSION;
                else if (req.ats && !req.nw && leaf.ro && leaf.dbm && c_hd && p_w_c) begin
                    // an ATS request without No-Write: the page is made dirty before the
                    // completion grants W (section 3.13.7)
                    dirty = 1'b1;
                    miss = 1'b1;
                end else begin
                    result = RES_OK;
                    case (leaf.size)
                        SIZE_2M: pa = {4'h0, leaf.oa[35:9], req.addr[20:0]};
                        SIZE_1G: pa = {4'h0, leaf.oa[35:18], req.addr[29:0]};
                        default: pa = {4'h0, leaf.oa, req.addr[11:0]};
                    endcase
                    perm = {p_x, p_w, p_r};
                    attr = c_mair[{leaf.attrindx, 3'b000} +: 8];
                    sh = leaf.sh;
                end
                f_xlat = (f == EVENT_ID_F_TRANSLATION) || (f == EVENT_ID_F_ADDR_SIZE) ||
                         (f == EVENT_ID_F_ACCESS) || (f == EVENT_ID_F_PERMISSION);
            end
        endcase
        if (f != 8'h0) result = (f_xlat && !c_a) ? RES_RAZWI : RES_ABORT;
        fault = f;
        // With CD.S the result is what a termination as an abort gives (the stall unit
        // answers with its own result once software terminates the transaction).
        stall = (f != 8'h0) && f_xlat && c_s;
        if (stall) result = RES_ABORT;
        evt_valid = (f != 8'h0) && !stall &&
                    ((c_kind == CTX_BYPASS) || (f_xlat ? c_r : x_record));

        // ATS Translation Request (reference fault-paths.md §3.1, SPEC §3.9.1.2): the same
        // lookup, another answer. UR with F_BAD_ATS_TREQ where ATS is not allowed (SMMUEN=0,
        // a bypass STE, EATS not full: the engine finds the last two while fetching the STE,
        // the hit path from c_ats_ok), UR with no event for an abort STE, CA for a
        // configuration error (never recorded: no CR2.REC_CFG_ATS), Success with R=W=0 for a
        // translation-class fault (no event, no stall, CD.A/R/S do not apply), else Success
        // with what the page grants a data read at that privilege, W only without No-Write and
        // X only where asked. The completion covers the 4 KiB STU.
        // ATS-Translated transaction (reference fault-paths.md §3.1, SPEC §3.9.1.3): the
        // address is already a PA. ATSCHK=0 passes it untouched with no lookup; ATSCHK=1
        // checks the STE alone: abort with F_TRANSL_FORBIDDEN (SMMUEN=0, STE bypass, EATS
        // not full), a silent abort for an abort STE, a configuration error as for any
        // transaction, otherwise passed untouched. CD, CD.S/A/R and the IOTLB play no part.
        if (req.at && (!c_atschk || c_kind != CTX_FAULT || (req.addr >> PA_BITS) != 64'h0))
        begin
            miss = 1'b0;
            dirty = 1'b0;
            no_walk = 1'b1;
            perm = 3'b000;
            attr = 8'h0;
            sh = 2'b00;
            stall = 1'b0;
            f = 8'h0;
            if ((req.addr >> PA_BITS) != 64'h0) begin
                // not an address this SMMU can emit: aborted, no record (as an SMMUEN=0
                // bypass beyond the OAS, section 3.4)
                result = RES_ABORT;
                pa = 52'h0;
            end else if (!c_atschk ? c_chk_ias || c_kind == CTX_BYPASS
                                   : c_chk_ias && c_kind != CTX_ABORT && c_ats_ok) begin
                result = RES_BYPASS;
                pa = req.addr[51:0];
            end else begin
                result = RES_ABORT;
                pa = 52'h0;
                if (c_atschk && (!c_chk_ias || c_kind != CTX_ABORT))
                    f = EVENT_ID_F_TRANSL_FORBIDDEN;
            end
            fault = f;
            evt_valid = (f != 8'h0) && c_chk_ias;
        end
        // A refused request needs no walk (and gets none: nothing to cache from it).
        if (ats_ur) begin
            miss = 1'b0;
            dirty = 1'b0;
            no_walk = 1'b1;
        end
        if (req.ats && !miss) begin
            stall = 1'b0;
            attr = 8'h0;
            sh = 2'b00;
            if (ats_ur) f = EVENT_ID_F_BAD_ATS_TREQ;
            // no record with SMMUEN=0: this SMMU writes its event queue only with SMMUEN=1
            evt_valid = (f == EVENT_ID_F_BAD_ATS_TREQ) && c_chk_ias;
            if (f == EVENT_ID_F_TRANSLATION || f == EVENT_ID_F_ADDR_SIZE ||
                f == EVENT_ID_F_ACCESS || f == EVENT_ID_F_PERMISSION) begin
                result = RES_OK;
                pa = 52'h0;
                perm = 3'b000;
            end else if (f != 8'h0 || result == RES_ABORT) begin
                result = RES_ABORT;
                pa = 52'h0;
                perm = 3'b000;
            end else begin
                // result RES_OK or RES_BYPASS (S1DSS bypass: identity, R=W=1)
                if (result == RES_BYPASS) perm = 3'b111;
                perm = {perm[2] && req.ind, perm[1] && !req.nw, perm[0]};
                pa[11:0] = 12'h0;
            end
            fault = f;
        end

        // Event record (reference §6.1), fields per event ID (§6.2).
        evt = '0;
        evt[EVENT_EVENTID_LSB +: EVENT_EVENTID_W] = f;
        evt[EVENT_STREAMID_LSB +: EVENT_STREAMID_W] = req.sid;
        case (f)
            EVENT_ID_F_STREAM_DISABLED: ;                     // StreamID only
            // the SubstreamID, no SSV: 0 for a transaction without one (CD 0 via S1DSS)
            EVENT_ID_C_BAD_SUBSTREAMID:
                evt[EVENT_SUBSTREAMID_LSB +: EVENT_SUBSTREAMID_W] = req.ssv ? req.ssid : 20'h0;
            default: begin
                evt[EVENT_SSV_LSB] = req.ssv;
                evt[EVENT_SUBSTREAMID_LSB +: EVENT_SUBSTREAMID_W] = req.ssv ? req.ssid : 20'h0;
            end
        endcase
        case (f)
            EVENT_ID_F_STE_FETCH, EVENT_ID_F_CD_FETCH:
                evt[EVENT_FETCHADDR_LSB +: EVENT_FETCHADDR_W] = x_fetch;
            EVENT_ID_F_BAD_ATS_TREQ:
                evt[EVENT_INPUTADDR_LSB +: EVENT_INPUTADDR_W] = req.addr;
            EVENT_ID_F_TRANSL_FORBIDDEN: begin
                evt[EVENT_RNW_LSB] = req.rnw;
                evt[EVENT_INPUTADDR_LSB +: EVENT_INPUTADDR_W] = req.addr;
            end
            EVENT_ID_F_WALK_EABT: begin
                evt[EVENT_CLASS_LSB +: EVENT_CLASS_W] = EVENT_CLASS_TT;
                evt[EVENT_RNW_LSB] = req.rnw;
                evt[EVENT_IND_LSB] = e_ind;
                evt[EVENT_PNU_LSB] = e_pnu;
                evt[EVENT_INPUTADDR_LSB +: EVENT_INPUTADDR_W] = req.addr;
                evt[EVENT_FETCHADDR_LSB +: EVENT_FETCHADDR_W] = x_fetch;
            end
            EVENT_ID_F_TRANSLATION, EVENT_ID_F_ADDR_SIZE, EVENT_ID_F_ACCESS,
            EVENT_ID_F_PERMISSION: begin
                evt[EVENT_STALL_LSB] = stall;
                evt[EVENT_CLASS_LSB +: EVENT_CLASS_W] = EVENT_CLASS_IN;
                evt[EVENT_RNW_LSB] = req.rnw;
                evt[EVENT_IND_LSB] = e_ind;
                evt[EVENT_PNU_LSB] = e_pnu;
                evt[EVENT_INPUTADDR_LSB +: EVENT_INPUTADDR_W] = req.addr;
            end
            default: ;
        endcase
    end

    assign rsp.result = result;
    assign rsp.pa = pa;
    assign rsp.perm = perm;
    assign rsp.attr = attr;
    assign rsp.sh = sh;
    assign rsp.fault = fault;
endmodule

`default_nettype wire
