// smmu_types_pkg: the records the translation blocks pass to each other (hand-written; the
// architectural facts they are built from are in the generated smmu_arch_pkg).
//
// Icarus 11 compiles these structs as ports, variables and unpacked arrays, but it cannot
// select a member of an element of an unpacked array (`arr[i].asid`): arrays of these types
// are read and written as whole elements (copy the element into a variable, then use its
// members). See docs/rtl.md, "Packages and types".
`default_nettype none

package smmu_types_pkg;
    import smmu_arch_pkg::*;

    // ---- encodings of the microarchitecture ------------------------------------------------
    // What a configuration lookup resolved to (configuration cache, smmu_xcalc).
    localparam logic [1:0] CTX_ABORT = 2'd0;      // silent abort (STE.Config abort, GBPA.ABORT)
    localparam logic [1:0] CTX_BYPASS = 2'd1;     // STE bypass, S1DSS bypass or GBPA bypass
    localparam logic [1:0] CTX_TRANSLATE = 2'd2;  // stage 1
    localparam logic [1:0] CTX_FAULT = 2'd3;      // configuration error (never cached)

    // Translation results (port contract: t_rsp_result).
    localparam logic [1:0] RES_OK = 2'd0, RES_BYPASS = 2'd1, RES_ABORT = 2'd2, RES_RAZWI = 2'd3;

    // Leaf sizes (IOTLB entries, smmu_xcalc).
    localparam logic [1:0] SIZE_4K = 2'd0, SIZE_2M = 2'd1, SIZE_1G = 2'd2;

    // Invalidation operations (smmu_cmdq -> caches).
    localparam logic [2:0] INV_CFG_SID = 3'd1, INV_CFG_CD = 3'd2, INV_TLB_ALL = 3'd3,
                           INV_TLB_ASID = 3'd4, INV_TLB_VA = 3'd5, INV_TLB_VAA = 3'd6;

    // ---- translation request and response (the tag, whose width is a parameter, travels
    // beside them) ----------------------------------------------------------------------------
    typedef struct packed {
        logic [EVENT_STREAMID_W-1:0]    sid;
        logic                           ssv;
        logic [EVENT_SUBSTREAMID_W-1:0] ssid;
        logic [EVENT_INPUTADDR_W-1:0]   addr;
        logic                           rnw;
        logic                           ind;      // ATS: the Execute bit of the request
        logic                           pnu;      // ATS: the Privileged bit
        logic                           ats;      // an ATS Translation Request (rnw = 1)
        logic                           nw;       // ATS: No-Write
        logic                           at;       // an ATS-Translated transaction (addr is a PA)
    } xreq_t;

    typedef struct packed {
        logic [1:0]                     result;   // RES_*
        logic [51:0]                    pa;
        logic [2:0]                     perm;     // {X, W, R}
        logic [7:0]                     attr;     // MAIR attribute
        logic [DESC_LEAF_SH_W-1:0]      sh;
        logic [EVENT_EVENTID_W-1:0]     fault;    // EventID, 0: none
    } xrsp_t;

    // ---- configuration cache: the resolved context of (StreamID, SSV, SubstreamID) ----------
    typedef struct packed {
        logic [1:0]                 kind;       // CTX_*
        logic                       ats_ok;     // STE.Config stage 1 and EATS full ATS
        logic [STE_PRIVCFG_W-1:0]   privcfg;
        logic [STE_INSTCFG_W-1:0]   instcfg;
        logic [CD_ASID_W-1:0]       asid;
        logic                       aset;       // global IOTLB entries match only their ASET
        logic [CD_T0SZ_W-1:0]       t0sz;
        logic                       tbi0;
        logic                       epd0;
        logic [CD_T1SZ_W-1:0]       t1sz;       // the TTB1 half (VA[55] = 1)
        logic                       tbi1;
        logic                       epd1;
        logic [CD_IPS_W-1:0]        ips;        // effective: at most the OAS
        logic                       affd;
        logic                       ha;         // CD.HA with HTTU: AF set by the SMMU
        logic                       hd;         // CD.HD with IDR0.HTTU=0b10: dirty state too
        logic                       wxn;
        logic                       pan;
        logic                       s;          // CD.S: translation-class faults stall
        logic                       a;
        logic                       r;
        logic                       had0;
        logic                       had1;
        logic [CD_MAIR_W-1:0]       mair;
        logic [43:0]                ttb0;       // TTB0[47:4]
        logic [43:0]                ttb1;       // TTB1[47:4]
    } ctx_t;

    typedef struct packed {
        logic [EVENT_STREAMID_W-1:0]    sid;
        logic                           ssv;
        logic [EVENT_SUBSTREAMID_W-1:0] ssid;   // 0 without SSV
    } ctx_key_t;

    // A configuration-cache entry (and the fill an engine offers): key, CD index, context.
    typedef struct packed {
        ctx_key_t                       key;
        logic [EVENT_SUBSTREAMID_W-1:0] cdidx;  // CD index (CFGI_CD matches it)
        ctx_t                           ctx;
    } ctx_entry_t;

    // ---- IOTLB ------------------------------------------------------------------------------
    // A leaf, permissions already merged with the table attributes (unless HADx).
    typedef struct packed {
        logic [1:0]                     size;     // SIZE_*
        logic [35:0]                    oa;       // OA[47:12]
        logic [DESC_LEAF_ATTRINDX_W-1:0] attrindx;
        logic [DESC_LEAF_SH_W-1:0]      sh;
        logic                           ro;       // AP[2] | APTable[1]
        logic                           el0;      // AP[1] & !APTable[0]
        logic                           uxn;      // UXN | UXNTable
        logic                           pxn;      // PXN | PXNTable
        // writable-clean (HTTU): DBM=1, read-only only because of AP[2] (not APTable[1]);
        // through a context with CD.HD a write needs the dirty update first (section 3.13.3)
        logic                           dbm;
    } leaf_t;

    typedef struct packed {
        logic [CD_ASID_W-1:0]           asid;
        logic                           gbl;      // nG = 0: any ASID of the same ASET
        logic                           aset;     // CD.ASET of the fill (global entries)
        // VA[55]: the TTB1 half. With TxSZ >= 16 an input address that passed the range
        // check has VA[55:48] all equal to VA[55], so {upper, VA[47:12]} is its VA[55:12].
        logic                           upper;
        logic [35:0]                    va;       // VA[47:12] (bits below the size: zero)
        leaf_t                          leaf;
    } tlb_entry_t;

    // ---- walk cache ---------------------------------------------------------------------------
    // A lookup: which chain a walk could continue from.
    typedef struct packed {
        logic [CD_ASID_W-1:0]           asid;
        logic [1:0]                     slvl;     // start level of the walk
        logic                           upper;    // VA[55]: a TTB1 walk
        logic [26:0]                    va;       // VA[47:21]
        logic [CD_IPS_W-1:0]            ips;      // effective IPS: the chain must fit it
    } walk_req_t;

    // A chain of table descriptors from the start level down to `lvl`.
    typedef struct packed {
        logic [1:0]                     lvl;      // level of the last descriptor (0..2)
        logic [35:0]                    tbl;      // its NextTableAddr[47:12]
        logic [DESC_TABLE_APTABLE_W-1:0] ap;      // APTable ORed over the chain (raw)
        logic                           uxn;      // UXNTable ORed
        logic                           pxn;      // PXNTable ORed
        logic [15:0]                    hi;       // NextTableAddr[47:32] ORed
    } walk_chain_t;

    typedef struct packed {
        logic [CD_ASID_W-1:0]           asid;
        logic [1:0]                     slvl;
        logic                           upper;    // VA[55]
        logic [26:0]                    va;       // VA[47:21] (the cache keeps the bits above lvl)
        walk_chain_t                    chain;
    } walk_entry_t;

    // What a walk offers the walk cache in DONE: the chain down to each level whose table
    // descriptor it read from memory (v[l]), one entry per level's array.
    typedef struct packed {
        logic [CD_ASID_W-1:0]           asid;
        logic [1:0]                     slvl;
        logic                           upper;
        logic [26:0]                    va;       // VA[47:21]
        logic [2:0]                     v;
        walk_chain_t                    c2;       // down to level 2
        walk_chain_t                    c1;       // down to level 1
        walk_chain_t                    c0;       // level 0 (a walk starting there)
    } walk_fill_t;

    // ---- invalidation (smmu_cmdq or smmu_dvm -> the caches), one per cycle with inv_valid ---
    typedef struct packed {
        logic [2:0]                     op;       // INV_*
        logic [EVENT_STREAMID_W-1:0]    sid;
        logic [EVENT_STREAMID_W-1:0]    sid_mask; // CFGI_STE_RANGE: the StreamIDs matched
        logic [EVENT_SUBSTREAMID_W-1:0] ssid;
        logic [CD_ASID_W-1:0]           asid;
        logic [43:0]                    va;       // VA[55:12] (TLBI_NH_VA/VAA Addr)
        logic                           leaf;     // TLBI_NH_VA/VAA Leaf=1: walk cache stays
        logic                           shared;   // a broadcast TLBI: ASET=0 TLB entries only
    } inv_t;
endpackage : smmu_types_pkg

`default_nettype wire
