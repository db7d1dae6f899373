/* switch_aarch64.S: the context switch between tasks on arm64 (AArch64, the AAPCS64 ABI).
 *
 * As on x86-64, a switch saves only what the ABI says a called function must preserve: x19-x28,
 * the frame pointer x29, the link register x30 (where the switch returns to), the stack pointer,
 * and the low 64 bits of v8-v15 (d8-d15). The floating-point control register (FPCR: rounding
 * mode) is left alone, for the reason switch_x86_64.S gives for MXCSR. ucontext, the fallback,
 * costs a system call a switch (it saves the signal mask): about 30 times the cost of this.
 *
 * void aio__ctx_switch_asm(void **save_sp, void *load_sp)
 *   x0 = where to store this context's stack pointer, x1 = the stack pointer to resume.
 *
 * The saved frame, 160 bytes from the saved stack pointer upwards (16-byte aligned, as sp must be):
 *   [sp+0]  x19 x20 x21 x22 x23 x24 x25 x26 x27 x28
 *   [sp+80] x29 x30
 *   [sp+96] d8 d9 d10 d11 d12 d13 d14 d15
 */
#if defined(__aarch64__)
    .text
    .globl  aio__ctx_switch_asm
    .hidden aio__ctx_switch_asm
    .type   aio__ctx_switch_asm, %function
    .p2align 4
aio__ctx_switch_asm:
    sub     sp, sp, #160
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    stp     d8, d9, [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    mov     x9, sp
    str     x9, [x0]            /* this context is now saved */
    mov     sp, x1              /* ...and from here on we run on the other stack */
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     d8, d9, [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    add     sp, sp, #160
    ret                         /* to x30: the other context's last aio__ctx_switch_asm call */
    .size   aio__ctx_switch_asm, .-aio__ctx_switch_asm

/* A new task's first switch "returns" here (aio__ctx_make put this address where x30 is
 * saved). x19 holds the entry function; sp is the top of the task's stack, 16-byte aligned.
 * entry never returns; brk traps if it does. */
    .globl  aio__ctx_trampoline
    .hidden aio__ctx_trampoline
    .type   aio__ctx_trampoline, %function
    .p2align 4
aio__ctx_trampoline:
    mov     x29, #0             /* end of the frame chain, for debuggers */
    mov     x30, #0
    blr     x19
    brk     #0
    .size   aio__ctx_trampoline, .-aio__ctx_trampoline
#endif
    .section .note.GNU-stack,"",%progbits
