// SMMUv3 programming interface: the Non-secure page-0 and page-1 registers at their
// architectural offsets. Feature parameters describe what the implementation supports and
// are reflected in the IDRs; a register that belongs to an unsupported feature is RES0.
//
// Every 64-bit register is two 32-bit halves (low at the lower offset). Fields that the
// architecture lets an implementation not store (address bits at or above OAS) are not
// stored and read as zero.
module smmu_regs #(
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
    parameter int AW = 17
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
    input  logic [8:0]    gerror_raise,
    // Hardware updates of the SMMU-owned queue pointers. The engines only write them while
    // their queue is enabled, when software cannot (registers.md), so the two never collide.
    input  logic          hw_cmdq_cons_we,
    input  logic [31:0]   hw_cmdq_cons,     // RD[19:0] and ERR[30:24]
    input  logic          hw_eventq_prod_we,
    input  logic [31:0]   hw_eventq_prod,   // WR[19:0] and OVFLG[31]

    // Effective configuration for the engines
    output logic [31:0]   cr0_ack,
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
    output logic [8:0]    gerror_active,    // GERROR ^ GERRORN: errors not yet acknowledged
    output logic          irq_gerror
);
    // ---- offsets (page 0 unless noted) ------------------------------------------------
    localparam logic [AW-1:0] IDR0 = 'h000, IDR1 = 'h004, IDR2 = 'h008, IDR3 = 'h00C;
    localparam logic [AW-1:0] IDR4 = 'h010, IDR5 = 'h014, IIDR_OFF = 'h018, AIDR_OFF = 'h01C;
    localparam logic [AW-1:0] CR0 = 'h020, CR0ACK = 'h024, CR1 = 'h028, CR2 = 'h02C;
    localparam logic [AW-1:0] STATUSR = 'h040, GBPA = 'h044, AGBPA = 'h048;
    localparam logic [AW-1:0] IRQ_CTRL = 'h050, IRQ_CTRLACK = 'h054;
    localparam logic [AW-1:0] GERROR = 'h060, GERRORN = 'h064;
    localparam logic [AW-1:0] GERROR_IRQ_CFG0 = 'h068, GERROR_IRQ_CFG1 = 'h070;
    localparam logic [AW-1:0] GERROR_IRQ_CFG2 = 'h074;
    localparam logic [AW-1:0] STRTAB_BASE = 'h080, STRTAB_BASE_CFG = 'h088;
    localparam logic [AW-1:0] CMDQ_BASE = 'h090, CMDQ_PROD = 'h098, CMDQ_CONS = 'h09C;
    localparam logic [AW-1:0] EVENTQ_BASE = 'h0A0, EVENTQ_IRQ_CFG0 = 'h0B0;
    localparam logic [AW-1:0] EVENTQ_IRQ_CFG1 = 'h0B8, EVENTQ_IRQ_CFG2 = 'h0BC;
    localparam logic [AW-1:0] PRIQ_BASE = 'h0C0, PRIQ_IRQ_CFG0 = 'h0D0;
    localparam logic [AW-1:0] PRIQ_IRQ_CFG1 = 'h0D8, PRIQ_IRQ_CFG2 = 'h0DC;
    localparam logic [AW-1:0] EVENTQ_PROD = 'h100A8, EVENTQ_CONS = 'h100AC;
    localparam logic [AW-1:0] PRIQ_PROD = 'h100C8, PRIQ_CONS = 'h100CC;

    // ---- ID registers -----------------------------------------------------------------
    localparam bit [31:0] IDR0_VAL = {3'b0, 2'(ST_LEVEL), 1'(TERM_MODEL), 2'(STALL_MODEL),
        1'b0, 2'b10 /*TTENDIAN: little-endian*/, 1'b0, 1'(CD2L), 1'b0 /*VMID16*/, 1'b0,
        1'(PRI), 1'b0, 1'(SEV), 1'(MSI), 1'(ASID16), 1'b0 /*NS1ATS*/, 1'(ATS), 1'(HYP), 1'b0,
        2'(HTTU), 1'(BTM), 1'(COHACC), 2'b10 /*TTF: AArch64*/, 1'(S1P), 1'b0 /*S2P*/};
    localparam bit [31:0] IDR1_VAL = {6'b0, 5'(CMDQS), 5'(EVENTQS), 5'(PRI != 0 ? PRIQS : 0),
        5'(SSIDSIZE), 6'(SIDSIZE)};
    localparam bit [31:0] IDR3_VAL = {21'b0, 1'(RIL), 4'b0, 1'(PPS), 2'b0, 1'(HAD), 2'b0};
    localparam bit [31:0] IDR5_VAL = {16'(STALL_MAX), 9'b0, 1'b0 /*GRAN64K*/,
        1'b0 /*GRAN16K*/, 1'b1 /*GRAN4K*/, 1'b0, 3'(OAS)};

    // Implemented physical address bits: ADDR fields store bits [PA_BITS-1:lo] only.
    localparam int PA_BITS = (OAS == 0) ? 32 : (OAS == 1) ? 36 : (OAS == 2) ? 40 :
                             (OAS == 3) ? 42 : (OAS == 4) ? 44 : (OAS == 5) ? 48 : 52;
    localparam logic [63:0] PA_MASK = (64'h1 << PA_BITS) - 64'h1;

    // ---- writable masks -----------------------------------------------------------------
    localparam logic [31:0] CR0_MASK = {27'b0, 1'(ATS), 1'b1 /*CMDQEN*/, 1'b1 /*EVENTQEN*/,
                                        1'(PRI), 1'b1 /*SMMUEN*/};
    localparam logic [31:0] CR2_MASK = {29'b0, 1'(BTM) /*PTM*/, 1'b1 /*RECINVSID*/,
                                        1'(HYP) /*E2H*/};
    localparam logic [31:0] GBPA_MASK = 32'h001F_3F1F;  // ABORT, INSTCFG, PRIVCFG, SHCFG,
                                                        // ALLOCCFG, MTCFG, MemAttr
    localparam logic [31:0] IRQ_MASK = {29'b0, 1'b1 /*EVENTQ*/, 1'(PRI), 1'b1 /*GERROR*/};
    // GERROR bits: CMDQ_ERR[0], EVENTQ_ABT_ERR[2], PRIQ_ABT_ERR[3], MSI_*_ABT_ERR[7:4],
    // SFM_ERR[8]; the PRI and MSI ones only exist with those features.
    localparam logic [8:0] GERR_MASK = {1'b1, 1'(MSI), 1'(MSI != 0 && PRI != 0), 1'(MSI), 1'(MSI), 1'(PRI),
                                     1'b1, 1'b0, 1'b1};
    localparam logic [63:0] BASE_ADDR_MASK_ST = PA_MASK & ~64'h3F;
    localparam logic [63:0] BASE_ADDR_MASK_Q = PA_MASK & ~64'h1F;
    localparam logic [63:0] RA_BIT = 64'h1 << 62;
    localparam logic [63:0] STRTAB_BASE_MASK = RA_BIT | BASE_ADDR_MASK_ST;
    localparam logic [63:0] Q_BASE_MASK = RA_BIT | BASE_ADDR_MASK_Q | 64'h1F;
    localparam logic [31:0] STRTAB_CFG_MASK = 32'h0003_07FF;  // FMT, SPLIT, LOG2SIZE
    localparam logic [63:0] IRQ_CFG0_MASK = PA_MASK & ~64'h3;
    localparam logic [31:0] IRQ_CFG2_MASK = 32'h0000_003F;  // SH, MemAttr
    localparam logic [31:0] QPTR_MASK = 32'h000F_FFFF;      // index + wrap, up to 2^19 entries

    // Effective queue sizes: LOG2SIZE reads back as written but is capped by IDR1 for use.
    function automatic logic [31:0] qmask(input logic [4:0] log2size, input int qs);
        logic [4:0] eff;
        eff = (int'(log2size) > qs) ? 5'(qs) : log2size;
        qmask = (32'h2 << eff) - 32'h1;
    endfunction

    // ---- state --------------------------------------------------------------------------
    logic [31:0] cr0, cr1, cr2, gbpa, irq_ctrl, irq_ctrlack;
    logic [8:0]  gerror, gerrorn;
    logic [63:0] strtab_base, cmdq_base, eventq_base, priq_base;
    logic [31:0] strtab_base_cfg;
    logic [31:0] cmdq_prod, cmdq_cons, eventq_prod, eventq_cons, priq_prod, priq_cons;
    logic [63:0] gerror_irq_cfg0, eventq_irq_cfg0, priq_irq_cfg0;
    logic [31:0] gerror_irq_cfg1, eventq_irq_cfg1, priq_irq_cfg1;
    logic [31:0] gerror_irq_cfg2, eventq_irq_cfg2, priq_irq_cfg2;
    logic [7:0]  ack_timer, gbpa_timer;

    // A CR0 enable bit and its ACK must both be clear for the registers it guards to be
    // writable; while a change is in flight, guarded registers are read-only.
    wire smmu_off   = !cr0[0] && !cr0_ack[0];
    wire priq_off   = !cr0[1] && !cr0_ack[1];
    wire eventq_off = !cr0[2] && !cr0_ack[2];
    wire cmdq_off   = !cr0[3] && !cr0_ack[3];
    wire gerr_irq_off   = !irq_ctrl[0] && !irq_ctrlack[0];
    wire priq_irq_off   = !irq_ctrl[1] && !irq_ctrlack[1];
    wire eventq_irq_off = !irq_ctrl[2] && !irq_ctrlack[2];

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
            gbpa <= {11'b0, 1'(GBPA_ABORT_RESET), 6'b0, 2'b01 /*SHCFG: use incoming*/, 12'b0};
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
            // taken effect; the engines will hold this off until they are quiescent.
            if (ack_timer != 0) ack_timer <= ack_timer - 8'd1;
            else begin
                cr0_ack <= cr0;
                irq_ctrlack <= irq_ctrl;
            end
            if (gbpa_timer != 0) gbpa_timer <= gbpa_timer - 8'd1;
            else gbpa[31] <= 1'b0;
            // An error is raised by toggling GERROR only while it is not already active.
            gerror <= gerror ^ (gerror_raise & GERR_MASK & ~(gerror ^ gerrorn));

            if (reg_wr) begin
                case (reg_waddr)
                    CR0: begin
                        cr0 <= reg_wdata & CR0_MASK;
                        ack_timer <= 8'(CR0ACK_DELAY);
                    end
                    // TABLE_* attributes are guarded by SMMUEN, QUEUE_* by every queue enable.
                    CR1: begin
                        if (smmu_off) cr1[11:6] <= reg_wdata[11:6];
                        if (cmdq_off && eventq_off && priq_off) cr1[5:0] <= reg_wdata[5:0];
                    end
                    CR2: if (smmu_off) cr2 <= reg_wdata & CR2_MASK;
                    GBPA: if (!gbpa[31] && reg_wdata[31]) begin
                        gbpa <= (reg_wdata & GBPA_MASK) | 32'h8000_0000;
                        gbpa_timer <= 8'(GBPA_DELAY);
                    end
                    IRQ_CTRL: begin
                        irq_ctrl <= reg_wdata & IRQ_MASK;
                        ack_timer <= 8'(CR0ACK_DELAY);
                    end
                    GERRORN: gerrorn <= reg_wdata[8:0] & GERR_MASK;
                    GERROR_IRQ_CFG0: if (MSI != 0 && gerr_irq_off)
                        gerror_irq_cfg0 <= upd_lo(gerror_irq_cfg0, reg_wdata, IRQ_CFG0_MASK);
                    GERROR_IRQ_CFG0 + 4: if (MSI != 0 && gerr_irq_off)
                        gerror_irq_cfg0 <= upd_hi(gerror_irq_cfg0, reg_wdata, IRQ_CFG0_MASK);
                    GERROR_IRQ_CFG1: if (MSI != 0 && gerr_irq_off) gerror_irq_cfg1 <= reg_wdata;
                    GERROR_IRQ_CFG2: if (MSI != 0 && gerr_irq_off)
                        gerror_irq_cfg2 <= reg_wdata & IRQ_CFG2_MASK;
                    STRTAB_BASE: if (smmu_off)
                        strtab_base <= upd_lo(strtab_base, reg_wdata, STRTAB_BASE_MASK);
                    STRTAB_BASE + 4: if (smmu_off)
                        strtab_base <= upd_hi(strtab_base, reg_wdata, STRTAB_BASE_MASK);
                    STRTAB_BASE_CFG: if (smmu_off)
                        strtab_base_cfg <= reg_wdata & STRTAB_CFG_MASK;
                    CMDQ_BASE: if (cmdq_off)
                        cmdq_base <= upd_lo(cmdq_base, reg_wdata, Q_BASE_MASK);
                    CMDQ_BASE + 4: if (cmdq_off)
                        cmdq_base <= upd_hi(cmdq_base, reg_wdata, Q_BASE_MASK);
                    CMDQ_PROD: cmdq_prod <= reg_wdata & QPTR_MASK;
                    CMDQ_CONS: if (cmdq_off)
                        cmdq_cons <= (cmdq_cons & ~QPTR_MASK) | (reg_wdata & QPTR_MASK);
                    EVENTQ_BASE: if (eventq_off)
                        eventq_base <= upd_lo(eventq_base, reg_wdata, Q_BASE_MASK);
                    EVENTQ_BASE + 4: if (eventq_off)
                        eventq_base <= upd_hi(eventq_base, reg_wdata, Q_BASE_MASK);
                    EVENTQ_PROD: if (eventq_off)
                        eventq_prod <= (eventq_prod & ~QPTR_MASK) | (reg_wdata & QPTR_MASK);
                    EVENTQ_CONS: eventq_cons <= reg_wdata & (QPTR_MASK | 32'h8000_0000);
                    EVENTQ_IRQ_CFG0: if (MSI != 0 && eventq_irq_off)
                        eventq_irq_cfg0 <= upd_lo(eventq_irq_cfg0, reg_wdata, IRQ_CFG0_MASK);
                    EVENTQ_IRQ_CFG0 + 4: if (MSI != 0 && eventq_irq_off)
                        eventq_irq_cfg0 <= upd_hi(eventq_irq_cfg0, reg_wdata, IRQ_CFG0_MASK);
                    EVENTQ_IRQ_CFG1: if (MSI != 0 && eventq_irq_off) eventq_irq_cfg1 <= reg_wdata;
                    EVENTQ_IRQ_CFG2: if (MSI != 0 && eventq_irq_off)
                        eventq_irq_cfg2 <= reg_wdata & IRQ_CFG2_MASK;
                    PRIQ_BASE: if (PRI != 0 && priq_off)
                        priq_base <= upd_lo(priq_base, reg_wdata, Q_BASE_MASK);
                    PRIQ_BASE + 4: if (PRI != 0 && priq_off)
                        priq_base <= upd_hi(priq_base, reg_wdata, Q_BASE_MASK);
                    PRIQ_PROD: if (PRI != 0 && priq_off)
                        priq_prod <= (priq_prod & ~QPTR_MASK) | (reg_wdata & QPTR_MASK);
                    PRIQ_CONS: if (PRI != 0) priq_cons <= reg_wdata & (QPTR_MASK | 32'h8000_0000);
                    PRIQ_IRQ_CFG0: if (PRI != 0 && MSI != 0 && priq_irq_off)
                        priq_irq_cfg0 <= upd_lo(priq_irq_cfg0, reg_wdata, IRQ_CFG0_MASK);
                    PRIQ_IRQ_CFG0 + 4: if (PRI != 0 && MSI != 0 && priq_irq_off)
                        priq_irq_cfg0 <= upd_hi(priq_irq_cfg0, reg_wdata, IRQ_CFG0_MASK);
                    PRIQ_IRQ_CFG1: if (PRI != 0 && MSI != 0 && priq_irq_off) priq_irq_cfg1 <= reg_wdata;
                    PRIQ_IRQ_CFG2: if (PRI != 0 && MSI != 0 && priq_irq_off)
                        priq_irq_cfg2 <= reg_wdata & IRQ_CFG2_MASK;
                    default: ;  // read-only, reserved or unmapped: write ignored
                endcase
            end
            // Hardware pointer updates come last: they happen only while the queue is
            // enabled, when the software write paths above are closed.
            if (hw_cmdq_cons_we) cmdq_cons <= hw_cmdq_cons & (QPTR_MASK | 32'h7F00_0000);
            if (hw_eventq_prod_we)
                eventq_prod <= hw_eventq_prod & (QPTR_MASK | 32'h8000_0000);
        end
    end

    // always @(*) rather than always_comb: Icarus 11 cannot narrow the sensitivity of
    // always_comb to constant part-selects and warns on every one.
    always @(*) begin
        case (reg_raddr)
            IDR0: reg_rdata = IDR0_VAL;
            IDR1: reg_rdata = IDR1_VAL;
            IDR3: reg_rdata = IDR3_VAL;
            IDR5: reg_rdata = IDR5_VAL;
            IIDR_OFF: reg_rdata = IIDR;
            AIDR_OFF: reg_rdata = {24'h0, 8'(AIDR)};
            CR0: reg_rdata = cr0;
            CR0ACK: reg_rdata = cr0_ack;
            CR1: reg_rdata = cr1;
            CR2: reg_rdata = cr2;
            GBPA: reg_rdata = gbpa;
            IRQ_CTRL: reg_rdata = irq_ctrl;
            IRQ_CTRLACK: reg_rdata = irq_ctrlack;
            GERROR: reg_rdata = {23'h0, gerror};
            GERRORN: reg_rdata = {23'h0, gerrorn};
            GERROR_IRQ_CFG0: reg_rdata = gerror_irq_cfg0[31:0];
            GERROR_IRQ_CFG0 + 4: reg_rdata = gerror_irq_cfg0[63:32];
            GERROR_IRQ_CFG1: reg_rdata = gerror_irq_cfg1;
            GERROR_IRQ_CFG2: reg_rdata = gerror_irq_cfg2;
            STRTAB_BASE: reg_rdata = strtab_base[31:0];
            STRTAB_BASE + 4: reg_rdata = strtab_base[63:32];
            STRTAB_BASE_CFG: reg_rdata = strtab_base_cfg;
            CMDQ_BASE: reg_rdata = cmdq_base[31:0];
            CMDQ_BASE + 4: reg_rdata = cmdq_base[63:32];
            CMDQ_PROD: reg_rdata = cmdq_prod;
            // Pointers the SMMU owns read as zero above their wrap bit.
            CMDQ_CONS: reg_rdata = cmdq_cons & (qmask(cmdq_base[4:0], CMDQS) | 32'h7F00_0000);
            EVENTQ_BASE: reg_rdata = eventq_base[31:0];
            EVENTQ_BASE + 4: reg_rdata = eventq_base[63:32];
            EVENTQ_PROD: reg_rdata = eventq_prod & (qmask(eventq_base[4:0], EVENTQS) | 32'h8000_0000);
            EVENTQ_CONS: reg_rdata = eventq_cons;
            EVENTQ_IRQ_CFG0: reg_rdata = eventq_irq_cfg0[31:0];
            EVENTQ_IRQ_CFG0 + 4: reg_rdata = eventq_irq_cfg0[63:32];
            EVENTQ_IRQ_CFG1: reg_rdata = eventq_irq_cfg1;
            EVENTQ_IRQ_CFG2: reg_rdata = eventq_irq_cfg2;
            PRIQ_BASE: reg_rdata = priq_base[31:0];
            PRIQ_BASE + 4: reg_rdata = priq_base[63:32];
            PRIQ_PROD: reg_rdata = priq_prod & (qmask(priq_base[4:0], PRIQS) | 32'h8000_0000);
            PRIQ_CONS: reg_rdata = priq_cons;
            PRIQ_IRQ_CFG0: reg_rdata = priq_irq_cfg0[31:0];
            PRIQ_IRQ_CFG0 + 4: reg_rdata = priq_irq_cfg0[63:32];
            PRIQ_IRQ_CFG1: reg_rdata = priq_irq_cfg1;
            PRIQ_IRQ_CFG2: reg_rdata = priq_irq_cfg2;
            // No VATOS, nothing IMPLEMENTATION DEFINED, never dormant, no AGBPA.
            IDR2, IDR4, STATUSR, AGBPA: reg_rdata = 32'h0;
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
    assign gerror_active = gerror ^ gerrorn;
    // Wired, level-sensitive: asserted while any enabled global error is active.
    assign irq_gerror = irq_ctrlack[0] && ((gerror ^ gerrorn) != 9'h0);

    // The read strobe is not needed: reads have no side effects in this register file.
    // verilator lint_off UNUSEDSIGNAL
    wire unused_rd = reg_rd;
    // verilator lint_on UNUSEDSIGNAL
endmodule
