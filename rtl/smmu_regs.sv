// SMMUv3 programming interface: the Non-secure page-0 and page-1 registers at their
// architectural offsets. Feature parameters describe what the implementation supports and
// are reflected in the IDRs; a register that belongs to an unsupported feature is RES0.
//
// Every 64-bit register is two 32-bit halves (low at the lower offset). Fields that the
// architecture lets an implementation not store (address bits at or above OAS) are not
// stored and read as zero.
//
// Offsets, field positions and encodings come from smmu_arch_pkg (generated from
// models/arch/registers.py).
`default_nettype none

module smmu_regs
    import smmu_arch_pkg::*;
#(
    // IDR0
    parameter int S1P = 1,
    parameter int COHACC = 1,
    parameter int BTM = 0,
    parameter int HTTU = 0,
    parameter int HYP = 0,
    parameter int ATS = 0,
    parameter int ASID16 = 1,
    parameter int MSI = 0,
    parameter int SEV = 0,
    parameter int PRI = 0,
    parameter int CD2L = 1,
    parameter int STALL_MODEL = 1,
    parameter int TERM_MODEL = 0,
    parameter int ST_LEVEL = 1,
    // IDR1
    parameter int SIDSIZE = 16,
    parameter int SSIDSIZE = 16,
    parameter int PRIQS = 7,
    parameter int EVENTQS = 7,
    parameter int CMDQS = 8,
    // IDR3
    parameter int HAD = 0,
    parameter int PPS = 0,
    parameter int RIL = 0,
    // IDR5
    parameter int OAS = 5,   // 48 bits
    parameter int STALL_MAX = 0,
    // Identification and implementation choices
    parameter logic [31:0] IIDR = 32'h0,
    parameter int AIDR = 0,  // SMMUv3.0
    parameter int GBPA_ABORT_RESET = 0,
    parameter int CR0ACK_DELAY = 4,    // cycles for CR0/IRQ_CTRL changes to take effect
    parameter int GBPA_DELAY = 4,    // cycles for a GBPA update to complete
    parameter int AW = REG_OFF_W
) (
    input  logic          clk,
    input  logic          rst_n,

    input  logic          reg_wr,
    input  logic [AW-1:0] reg_waddr,
    input  logic [31:0]   reg_wdata,
    input  logic          reg_rd,
    input  logic [AW-1:0] reg_raddr,
    output logic [31:0]   reg_rdata,

    // Global error bits raised by the engines (a toggle request per GERROR bit).
    input  logic [GERROR_SFM_ERR_LSB:0] gerror_raise,
    // Hardware updates of the SMMU-owned queue pointers. The engines only write them while
    // their queue is enabled, when software cannot (registers.md), so the two never collide.
    input  logic          hw_cmdq_cons_we,
    input  logic [31:0]   hw_cmdq_cons,     // RD and ERR
    input  logic          hw_eventq_prod_we,
    input  logic [31:0]   hw_eventq_prod,   // WR and OVFLG
    input  logic          hw_priq_prod_we,
    input  logic [31:0]   hw_priq_prod,     // WR and OVFLG
    // The engines are part-way through a command or a record write: a CMDQEN or EVENTQEN
    // change to 0 is not acknowledged until they have stopped (sections 6.3.9.3, 6.3.9.4).
    input  logic          cmdq_busy,
    input  logic          eventq_busy,
    input  logic          priq_busy,

    // Effective configuration for the engines
    output logic [31:0]   cr0_ack,
    // An engine may start new work only while its enable is set and acknowledged: a write of
    // 0 stops new command fetches and record writes at once, before the acknowledgement.
    output logic          cmdq_run,
    output logic          eventq_run,
    output logic          priq_run,
    output logic [31:0]   gbpa_q,
    output logic [31:0]   cr2_q,
    output logic [31:0]   irq_ctrlack_q,
    output logic [63:0]   strtab_base_q,
    output logic [31:0]   strtab_base_cfg_q,
    output logic [63:0]   cmdq_base_q,
    output logic [31:0]   cmdq_prod_q,
    output logic [31:0]   cmdq_cons_q,
    output logic [63:0]   eventq_base_q,
    output logic [31:0]   eventq_prod_q,
    output logic [31:0]   eventq_cons_q,
    output logic [63:0]   priq_base_q,
    output logic [31:0]   priq_prod_q,
    output logic [31:0]   priq_cons_q,
    output logic [GERROR_SFM_ERR_LSB:0] gerror_active,  // GERROR ^ GERRORN: not yet acknowledged
    output logic          irq_gerror
);
    // Register offsets are smmu_arch_pkg's REG_*. IDR4 and AGBPA (not in models/arch) read as
    // zero and ignore writes like every unmapped offset.

    // A field of a 32-bit register holding the low bits of v (constant expressions only).
    function automatic logic [31:0] fld(input int lsb, input int w, input int v);
        fld = (32'(v) & ~(32'hFFFF_FFFF << w)) << lsb;
    endfunction

    // ---- ID registers -----------------------------------------------------------------
    // Not implemented (zero): IDR0.S2P, DORMHINT, NS1ATS, ATOS, VMW, VMID16, VATOS, ATSRECERR;
    // IDR5.GRAN16K, GRAN64K, VAX.
    localparam bit [31:0] IDR0_VAL = fld(IDR0_S1P_LSB, IDR0_S1P_W, S1P)
        | fld(IDR0_TTF_LSB, IDR0_TTF_W, int'(TTF_AARCH64))
        | fld(IDR0_COHACC_LSB, IDR0_COHACC_W, COHACC) | fld(IDR0_BTM_LSB, IDR0_BTM_W, BTM)
        | fld(IDR0_HTTU_LSB, IDR0_HTTU_W, HTTU) | fld(IDR0_HYP_LSB, IDR0_HYP_W, HYP)
        | fld(IDR0_ATS_LSB, IDR0_ATS_W, ATS) | fld(IDR0_ASID16_LSB, IDR0_ASID16_W, ASID16)
        | fld(IDR0_MSI_LSB, IDR0_MSI_W, MSI) | fld(IDR0_SEV_LSB, IDR0_SEV_W, SEV)
        | fld(IDR0_PRI_LSB, IDR0_PRI_W, PRI) | fld(IDR0_CD2L_LSB, IDR0_CD2L_W, CD2L)
        | fld(IDR0_TTENDIAN_LSB, IDR0_TTENDIAN_W, int'(TT_ENDIAN_LITTLE))
        | fld(IDR0_STALL_MODEL_LSB, IDR0_STALL_MODEL_W, STALL_MODEL)
        | fld(IDR0_TERM_MODEL_LSB, IDR0_TERM_MODEL_W, TERM_MODEL)
        | fld(IDR0_ST_LEVEL_LSB, IDR0_ST_LEVEL_W, ST_LEVEL);
    localparam bit [31:0] IDR1_VAL = fld(IDR1_CMDQS_LSB, IDR1_CMDQS_W, CMDQS)
        | fld(IDR1_EVENTQS_LSB, IDR1_EVENTQS_W, EVENTQS)
        | fld(IDR1_PRIQS_LSB, IDR1_PRIQS_W, PRI != 0 ? PRIQS : 0)
        | fld(IDR1_SSIDSIZE_LSB, IDR1_SSIDSIZE_W, SSIDSIZE)
        | fld(IDR1_SIDSIZE_LSB, IDR1_SIDSIZE_W, SIDSIZE);
    localparam bit [31:0] IDR3_VAL = fld(IDR3_RIL_LSB, IDR3_RIL_W, RIL)
        | fld(IDR3_PPS_LSB, IDR3_PPS_W, PPS) | fld(IDR3_HAD_LSB, IDR3_HAD_W, HAD);
    localparam bit [31:0] IDR5_VAL = fld(IDR5_STALL_MAX_LSB, IDR5_STALL_MAX_W, STALL_MAX)
        | IDR5_GRAN4K_MASK | fld(IDR5_OAS_LSB, IDR5_OAS_W, OAS);

    // Implemented physical address bits: ADDR fields store bits [PA_BITS-1:lo] only.
    localparam int PA_BITS = oas_bits(IDR5_OAS_W'(OAS));
    localparam logic [63:0] PA_MASK = (64'h1 << PA_BITS) - 64'h1;

    // ---- writable masks -----------------------------------------------------------------
    localparam logic [31:0] CR0_WMASK = CR0_SMMUEN_MASK | CR0_EVENTQEN_MASK | CR0_CMDQEN_MASK
        | fld(CR0_PRIQEN_LSB, CR0_PRIQEN_W, PRI) | fld(CR0_ATSCHK_LSB, CR0_ATSCHK_W, ATS);
    localparam logic [31:0] CR1_TABLE = CR1_TABLE_IC_MASK | CR1_TABLE_OC_MASK | CR1_TABLE_SH_MASK;
    localparam logic [31:0] CR1_QUEUE = CR1_QUEUE_IC_MASK | CR1_QUEUE_OC_MASK | CR1_QUEUE_SH_MASK;
    localparam logic [31:0] CR2_WMASK = CR2_RECINVSID_MASK | fld(CR2_PTM_LSB, CR2_PTM_W, BTM)
        | fld(CR2_E2H_LSB, CR2_E2H_W, HYP);
    localparam logic [31:0] GBPA_WMASK = GBPA_FIELDS & ~GBPA_UPDATE_MASK;
    localparam logic [31:0] IRQ_WMASK = IRQ_CTRL_GERROR_IRQEN_MASK | IRQ_CTRL_EVENTQ_IRQEN_MASK
        | fld(IRQ_CTRL_PRIQ_IRQEN_LSB, IRQ_CTRL_PRIQ_IRQEN_W, PRI);
    // The PRI and MSI GERROR bits only exist with those features.
    localparam logic [31:0] GERR_MASK32 = GERROR_CMDQ_ERR_MASK | GERROR_EVENTQ_ABT_ERR_MASK
        | GERROR_SFM_ERR_MASK | fld(GERROR_PRIQ_ABT_ERR_LSB, GERROR_PRIQ_ABT_ERR_W, PRI)
        | fld(GERROR_MSI_CMDQ_ABT_ERR_LSB, GERROR_MSI_CMDQ_ABT_ERR_W, MSI)
        | fld(GERROR_MSI_EVENTQ_ABT_ERR_LSB, GERROR_MSI_EVENTQ_ABT_ERR_W, MSI)
        | fld(GERROR_MSI_PRIQ_ABT_ERR_LSB, GERROR_MSI_PRIQ_ABT_ERR_W,
              (MSI != 0 && PRI != 0) ? 1 : 0)
        | fld(GERROR_MSI_GERROR_ABT_ERR_LSB, GERROR_MSI_GERROR_ABT_ERR_W, MSI);
    localparam logic [GERROR_SFM_ERR_LSB:0] GERR_MASK = GERR_MASK32[GERROR_SFM_ERR_LSB:0];
    localparam logic [63:0] STRTAB_BASE_WMASK = STRTAB_BASE_RA_MASK
        | (PA_MASK & STRTAB_BASE_ADDR_MASK);
    localparam logic [63:0] CMDQ_BASE_WMASK = CMDQ_BASE_RA_MASK
        | (PA_MASK & CMDQ_BASE_ADDR_MASK) | CMDQ_BASE_LOG2SIZE_MASK;
    // EVENTQ_BASE and PRIQ_BASE (same layout)
    localparam logic [63:0] EVENTQ_BASE_WMASK = EVENTQ_BASE_WA_MASK
        | (PA_MASK & EVENTQ_BASE_ADDR_MASK) | EVENTQ_BASE_LOG2SIZE_MASK;
    localparam logic [63:0] IRQ_CFG0_WMASK = PA_MASK & IRQ_CFG0_ADDR_MASK;

    // Effective queue sizes: LOG2SIZE reads back as written but is capped by IDR1 for use.
    localparam int LOG2SIZE_W = CMDQ_BASE_LOG2SIZE_W;  // same in EVENTQ_BASE / PRIQ_BASE
    function automatic logic [31:0] qmask(input logic [LOG2SIZE_W-1:0] log2size, input int qs);
        logic [LOG2SIZE_W-1:0] eff;
        eff = (int'(log2size) > qs) ? LOG2SIZE_W'(qs) : log2size;
        qmask = (32'h2 << eff) - 32'h1;
    endfunction

    // ---- state --------------------------------------------------------------------------
    logic [31:0] cr0, cr1, cr2, gbpa, irq_ctrl, irq_ctrlack;
    logic [GERROR_SFM_ERR_LSB:0] gerror, gerrorn;
    logic [63:0] strtab_base, cmdq_base, eventq_base, priq_base;
    logic [31:0] strtab_base_cfg;
    logic [31:0] cmdq_prod, cmdq_cons, eventq_prod, eventq_cons, priq_prod, priq_cons;
    logic [63:0] gerror_irq_cfg0, eventq_irq_cfg0, priq_irq_cfg0;
    logic [31:0] gerror_irq_cfg1, eventq_irq_cfg1, priq_irq_cfg1;
    logic [31:0] gerror_irq_cfg2, eventq_irq_cfg2, priq_irq_cfg2;
    logic [7:0]  ack_timer, gbpa_timer;

    wire [31:0] ack_hold = (cmdq_busy ? CR0_CMDQEN_MASK : 32'h0) |
                           (eventq_busy ? CR0_EVENTQEN_MASK : 32'h0) |
                           (priq_busy ? CR0_PRIQEN_MASK : 32'h0);
    assign cmdq_run = cr0[CR0_CMDQEN_LSB] && cr0_ack[CR0_CMDQEN_LSB];
    assign eventq_run = cr0[CR0_EVENTQEN_LSB] && cr0_ack[CR0_EVENTQEN_LSB];
    assign priq_run = (PRI != 0) && cr0[CR0_PRIQEN_LSB] && cr0_ack[CR0_PRIQEN_LSB];

    // A CR0 enable bit and its ACK must both be clear for the registers it guards to be
    // writable; while a change is in flight, guarded registers are read-only.
    wire smmu_off   = !cr0[CR0_SMMUEN_LSB] && !cr0_ack[CR0_SMMUEN_LSB];
    wire priq_off   = !cr0[CR0_PRIQEN_LSB] && !cr0_ack[CR0_PRIQEN_LSB];
    wire eventq_off = !cr0[CR0_EVENTQEN_LSB] && !cr0_ack[CR0_EVENTQEN_LSB];
    wire cmdq_off   = !cr0[CR0_CMDQEN_LSB] && !cr0_ack[CR0_CMDQEN_LSB];
    wire gerr_irq_off   = !irq_ctrl[IRQ_CTRL_GERROR_IRQEN_LSB] &&
                          !irq_ctrlack[IRQ_CTRL_GERROR_IRQEN_LSB];
    wire priq_irq_off   = !irq_ctrl[IRQ_CTRL_PRIQ_IRQEN_LSB] &&
                          !irq_ctrlack[IRQ_CTRL_PRIQ_IRQEN_LSB];
    wire eventq_irq_off = !irq_ctrl[IRQ_CTRL_EVENTQ_IRQEN_LSB] &&
                          !irq_ctrlack[IRQ_CTRL_EVENTQ_IRQEN_LSB];
    // CR1: TABLE_* attributes are guarded by SMMUEN, QUEUE_* by every queue enable.
    wire [31:0] cr1_wmask = (smmu_off ? CR1_TABLE : 32'h0) |
                            ((cmdq_off && eventq_off && priq_off) ? CR1_QUEUE : 32'h0);

    function automatic logic [63:0] upd_lo(input logic [63:0] cur, input logic [31:0] d,
                                           input logic [63:0] mask);
        upd_lo = (cur & ~(mask & 64'h0000_0000_FFFF_FFFF)) | ({32'h0, d} & mask);
    endfunction
    function automatic logic [63:0] upd_hi(input logic [63:0] cur, input logic [31:0] d,
                                           input logic [63:0] mask);
        upd_hi = (cur & ~(mask & 64'hFFFF_FFFF_0000_0000)) | ({d, 32'h0} & mask);
    endfunction

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            cr0 <= '0; cr0_ack <= '0; cr1 <= '0; cr2 <= '0;
            gbpa <= fld(GBPA_ABORT_LSB, GBPA_ABORT_W, GBPA_ABORT_RESET)
                  | fld(GBPA_SHCFG_LSB, GBPA_SHCFG_W, 1);  // SHCFG 0b01: use incoming
            irq_ctrl <= '0; irq_ctrlack <= '0;
            gerror <= '0; gerrorn <= '0;
            strtab_base <= '0; strtab_base_cfg <= '0;
            cmdq_base <= '0; cmdq_prod <= '0; cmdq_cons <= '0;
            eventq_base <= '0; eventq_prod <= '0; eventq_cons <= '0;
            priq_base <= '0; priq_prod <= '0; priq_cons <= '0;
            gerror_irq_cfg0 <= '0; gerror_irq_cfg1 <= '0; gerror_irq_cfg2 <= '0;
            eventq_irq_cfg0 <= '0; eventq_irq_cfg1 <= '0; eventq_irq_cfg2 <= '0;
            priq_irq_cfg0 <= '0; priq_irq_cfg1 <= '0; priq_irq_cfg2 <= '0;
            ack_timer <= '0; gbpa_timer <= '0;
        end else begin
            // CR0ACK and IRQ_CTRLACK follow their control registers once the change has
            // taken effect: at least CR0ACK_DELAY cycles after the write, and for CMDQEN and
            // EVENTQEN not before their engine has finished the command or record write in
            // progress, whose CONS/PROD update would otherwise land after software, seeing
            // the acknowledgement, took the pointer back.
            if (ack_timer != 0) ack_timer <= ack_timer - 8'd1;
            else begin
                cr0_ack <= (cr0 & ~ack_hold) | (cr0_ack & ack_hold);
                irq_ctrlack <= irq_ctrl;
            end
            if (gbpa_timer != 0) gbpa_timer <= gbpa_timer - 8'd1;
            else gbpa[GBPA_UPDATE_LSB] <= 1'b0;
            // An error is raised by toggling GERROR only while it is not already active.
            gerror <= gerror ^ (gerror_raise & GERR_MASK & ~(gerror ^ gerrorn));

            if (reg_wr) begin
                case (reg_waddr)
                    REG_CR0: begin
                        cr0 <= reg_wdata & CR0_WMASK;
                        ack_timer <= 8'(CR0ACK_DELAY);
                    end
                    REG_CR1: cr1 <= (cr1 & ~cr1_wmask) | (reg_wdata & cr1_wmask);
                    REG_CR2: if (smmu_off) cr2 <= reg_wdata & CR2_WMASK;
                    REG_GBPA: if (!gbpa[GBPA_UPDATE_LSB] && reg_wdata[GBPA_UPDATE_LSB]) begin
                        gbpa <= (reg_wdata & GBPA_WMASK) | GBPA_UPDATE_MASK;
                        gbpa_timer <= 8'(GBPA_DELAY);
                    end
                    REG_IRQ_CTRL: begin
                        irq_ctrl <= reg_wdata & IRQ_WMASK;
                        ack_timer <= 8'(CR0ACK_DELAY);
                    end
                    REG_GERRORN: gerrorn <= reg_wdata[GERROR_SFM_ERR_LSB:0] & GERR_MASK;
                    REG_GERROR_IRQ_CFG0: if (MSI != 0 && gerr_irq_off)
                        gerror_irq_cfg0 <= upd_lo(gerror_irq_cfg0, reg_wdata, IRQ_CFG0_WMASK);
                    REG_GERROR_IRQ_CFG0_HI: if (MSI != 0 && gerr_irq_off)
                        gerror_irq_cfg0 <= upd_hi(gerror_irq_cfg0, reg_wdata, IRQ_CFG0_WMASK);
                    REG_GERROR_IRQ_CFG1: if (MSI != 0 && gerr_irq_off) gerror_irq_cfg1 <= reg_wdata;
                    REG_GERROR_IRQ_CFG2: if (MSI != 0 && gerr_irq_off)
                        gerror_irq_cfg2 <= reg_wdata & IRQ_CFG2_FIELDS;
                    REG_STRTAB_BASE: if (smmu_off)
                        strtab_base <= upd_lo(strtab_base, reg_wdata, STRTAB_BASE_WMASK);
                    REG_STRTAB_BASE_HI: if (smmu_off)
                        strtab_base <= upd_hi(strtab_base, reg_wdata, STRTAB_BASE_WMASK);
                    REG_STRTAB_BASE_CFG: if (smmu_off)
                        strtab_base_cfg <= reg_wdata & STRTAB_BASE_CFG_FIELDS;
                    REG_CMDQ_BASE: if (cmdq_off)
                        cmdq_base <= upd_lo(cmdq_base, reg_wdata, CMDQ_BASE_WMASK);
                    REG_CMDQ_BASE_HI: if (cmdq_off)
                        cmdq_base <= upd_hi(cmdq_base, reg_wdata, CMDQ_BASE_WMASK);
                    REG_CMDQ_PROD: cmdq_prod <= reg_wdata & CMDQ_PROD_WR_MASK;
                    REG_CMDQ_CONS: if (cmdq_off)
                        cmdq_cons <= (cmdq_cons & ~CMDQ_CONS_RD_MASK) |
                                     (reg_wdata & CMDQ_CONS_RD_MASK);
                    REG_EVENTQ_BASE: if (eventq_off)
                        eventq_base <= upd_lo(eventq_base, reg_wdata, EVENTQ_BASE_WMASK);
                    REG_EVENTQ_BASE_HI: if (eventq_off)
                        eventq_base <= upd_hi(eventq_base, reg_wdata, EVENTQ_BASE_WMASK);
                    REG_EVENTQ_PROD: if (eventq_off)
                        eventq_prod <= (eventq_prod & ~EVENTQ_PROD_WR_MASK) |
                                       (reg_wdata & EVENTQ_PROD_WR_MASK);
                    REG_EVENTQ_CONS: eventq_cons <= reg_wdata & EVENTQ_CONS_FIELDS;
                    REG_EVENTQ_IRQ_CFG0: if (MSI != 0 && eventq_irq_off)
                        eventq_irq_cfg0 <= upd_lo(eventq_irq_cfg0, reg_wdata, IRQ_CFG0_WMASK);
                    REG_EVENTQ_IRQ_CFG0_HI: if (MSI != 0 && eventq_irq_off)
                        eventq_irq_cfg0 <= upd_hi(eventq_irq_cfg0, reg_wdata, IRQ_CFG0_WMASK);
                    REG_EVENTQ_IRQ_CFG1: if (MSI != 0 && eventq_irq_off) eventq_irq_cfg1 <= reg_wdata;
                    REG_EVENTQ_IRQ_CFG2: if (MSI != 0 && eventq_irq_off)
                        eventq_irq_cfg2 <= reg_wdata & IRQ_CFG2_FIELDS;
                    // The PRI queue's registers share the event queue's layouts
                    // (EVENTQ_BASE/PROD/CONS in smmu_arch_pkg).
                    REG_PRIQ_BASE: if (PRI != 0 && priq_off)
                        priq_base <= upd_lo(priq_base, reg_wdata, EVENTQ_BASE_WMASK);
                    REG_PRIQ_BASE_HI: if (PRI != 0 && priq_off)
                        priq_base <= upd_hi(priq_base, reg_wdata, EVENTQ_BASE_WMASK);
                    REG_PRIQ_PROD: if (PRI != 0 && priq_off)
                        priq_prod <= (priq_prod & ~EVENTQ_PROD_WR_MASK) |
                                     (reg_wdata & EVENTQ_PROD_WR_MASK);
                    REG_PRIQ_CONS: if (PRI != 0) priq_cons <= reg_wdata & EVENTQ_CONS_FIELDS;
                    REG_PRIQ_IRQ_CFG0: if (PRI != 0 && MSI != 0 && priq_irq_off)
                        priq_irq_cfg0 <= upd_lo(priq_irq_cfg0, reg_wdata, IRQ_CFG0_WMASK);
                    REG_PRIQ_IRQ_CFG0_HI: if (PRI != 0 && MSI != 0 && priq_irq_off)
                        priq_irq_cfg0 <= upd_hi(priq_irq_cfg0, reg_wdata, IRQ_CFG0_WMASK);
                    REG_PRIQ_IRQ_CFG1: if (PRI != 0 && MSI != 0 && priq_irq_off) priq_irq_cfg1 <= reg_wdata;
                    REG_PRIQ_IRQ_CFG2: if (PRI != 0 && MSI != 0 && priq_irq_off)
                        priq_irq_cfg2 <= reg_wdata & IRQ_CFG2_FIELDS;
                    default: ;  // read-only, reserved or unmapped: write ignored
                endcase
            end
            // Hardware pointer updates come last: they happen only while the queue is
            // enabled, when the software write paths above are closed.
            if (hw_cmdq_cons_we) cmdq_cons <= hw_cmdq_cons & CMDQ_CONS_FIELDS;
            if (hw_eventq_prod_we) eventq_prod <= hw_eventq_prod & EVENTQ_PROD_FIELDS;
            if (PRI != 0 && hw_priq_prod_we) priq_prod <= hw_priq_prod & EVENTQ_PROD_FIELDS;
        end
    end

    // always @(*) rather than always_comb: Icarus 11 cannot narrow the sensitivity of
    // always_comb to constant part-selects and warns on every one.
    always @(*) begin
        case (reg_raddr)
            REG_IDR0: reg_rdata = IDR0_VAL;
            REG_IDR1: reg_rdata = IDR1_VAL;
            REG_IDR3: reg_rdata = IDR3_VAL;
            REG_IDR5: reg_rdata = IDR5_VAL;
            REG_IIDR: reg_rdata = IIDR;
            REG_AIDR: reg_rdata = AIDR_FIELDS & 32'(AIDR);
            REG_CR0: reg_rdata = cr0;
            REG_CR0ACK: reg_rdata = cr0_ack;
            REG_CR1: reg_rdata = cr1;
            REG_CR2: reg_rdata = cr2;
            REG_GBPA: reg_rdata = gbpa;
            REG_IRQ_CTRL: reg_rdata = irq_ctrl;
            REG_IRQ_CTRLACK: reg_rdata = irq_ctrlack;
            REG_GERROR: reg_rdata = 32'(gerror);
            REG_GERRORN: reg_rdata = 32'(gerrorn);
            REG_GERROR_IRQ_CFG0: reg_rdata = gerror_irq_cfg0[31:0];
            REG_GERROR_IRQ_CFG0_HI: reg_rdata = gerror_irq_cfg0[63:32];
            REG_GERROR_IRQ_CFG1: reg_rdata = gerror_irq_cfg1;
            REG_GERROR_IRQ_CFG2: reg_rdata = gerror_irq_cfg2;
            REG_STRTAB_BASE: reg_rdata = strtab_base[31:0];
            REG_STRTAB_BASE_HI: reg_rdata = strtab_base[63:32];
            REG_STRTAB_BASE_CFG: reg_rdata = strtab_base_cfg;
            REG_CMDQ_BASE: reg_rdata = cmdq_base[31:0];
            REG_CMDQ_BASE_HI: reg_rdata = cmdq_base[63:32];
            REG_CMDQ_PROD: reg_rdata = cmdq_prod;
            // Pointers the SMMU owns read as zero above their wrap bit.
            REG_CMDQ_CONS: reg_rdata = cmdq_cons & (qmask(cmdq_base[CMDQ_BASE_LOG2SIZE_LSB +:
                                                             CMDQ_BASE_LOG2SIZE_W], CMDQS)
                                                       | CMDQ_CONS_ERR_MASK);
            REG_EVENTQ_BASE: reg_rdata = eventq_base[31:0];
            REG_EVENTQ_BASE_HI: reg_rdata = eventq_base[63:32];
            REG_EVENTQ_PROD: reg_rdata = eventq_prod & (qmask(eventq_base[EVENTQ_BASE_LOG2SIZE_LSB +:
                                                                 EVENTQ_BASE_LOG2SIZE_W], EVENTQS)
                                                           | EVENTQ_PROD_OVFLG_MASK);
            REG_EVENTQ_CONS: reg_rdata = eventq_cons;
            REG_EVENTQ_IRQ_CFG0: reg_rdata = eventq_irq_cfg0[31:0];
            REG_EVENTQ_IRQ_CFG0_HI: reg_rdata = eventq_irq_cfg0[63:32];
            REG_EVENTQ_IRQ_CFG1: reg_rdata = eventq_irq_cfg1;
            REG_EVENTQ_IRQ_CFG2: reg_rdata = eventq_irq_cfg2;
            REG_PRIQ_BASE: reg_rdata = priq_base[31:0];
            REG_PRIQ_BASE_HI: reg_rdata = priq_base[63:32];
            REG_PRIQ_PROD: reg_rdata = priq_prod & (qmask(priq_base[EVENTQ_BASE_LOG2SIZE_LSB +:
                                                             EVENTQ_BASE_LOG2SIZE_W], PRIQS)
                                                       | EVENTQ_PROD_OVFLG_MASK);
            REG_PRIQ_CONS: reg_rdata = priq_cons;
            REG_PRIQ_IRQ_CFG0: reg_rdata = priq_irq_cfg0[31:0];
            REG_PRIQ_IRQ_CFG0_HI: reg_rdata = priq_irq_cfg0[63:32];
            REG_PRIQ_IRQ_CFG1: reg_rdata = priq_irq_cfg1;
            REG_PRIQ_IRQ_CFG2: reg_rdata = priq_irq_cfg2;
            // No VATOS, never dormant; IDR4 (IMPLEMENTATION DEFINED) and AGBPA are unmapped.
            REG_IDR2, REG_STATUSR: reg_rdata = 32'h0;
            default: reg_rdata = 32'h0;  // unmapped: RAZ
        endcase
    end

    assign gbpa_q = gbpa;
    assign cr2_q = cr2;
    assign irq_ctrlack_q = irq_ctrlack;
    assign strtab_base_q = strtab_base;
    assign strtab_base_cfg_q = strtab_base_cfg;
    assign cmdq_base_q = cmdq_base;
    assign cmdq_prod_q = cmdq_prod;
    assign cmdq_cons_q = cmdq_cons;
    assign eventq_base_q = eventq_base;
    assign eventq_prod_q = eventq_prod;
    assign eventq_cons_q = eventq_cons;
    assign priq_base_q = priq_base;
    assign priq_prod_q = priq_prod;
    assign priq_cons_q = priq_cons;
    assign gerror_active = gerror ^ gerrorn;
    // Wired, level-sensitive: asserted while any enabled global error is active.
    assign irq_gerror = irq_ctrlack[IRQ_CTRL_GERROR_IRQEN_LSB] && ((gerror ^ gerrorn) != '0);

    // The read strobe is not needed: reads have no side effects in this register file.
    // verilator lint_off UNUSEDSIGNAL
    wire unused_rd = reg_rd;
    // verilator lint_on UNUSEDSIGNAL
endmodule

`default_nettype wire
