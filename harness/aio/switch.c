/* switch.c: making and switching task contexts: the x86-64 or arm64 assembly when we have it,
 * ucontext (slower: it saves the signal mask with a system call) everywhere else. */
#include "aio_internal.h"

#include <stdint.h>
#include <string.h>

#if AIO__ASM_SWITCH

void aio__ctx_switch_asm(void **save_sp, void *load_sp);
void aio__ctx_trampoline(void);

/* Lay out a frame on the new stack that looks as if aio__ctx_switch_asm had saved it, with
 * the trampoline as the return address and entry in r12 (and, with AIO_SAVE_FPU=1, the
 * default floating-point control words below the registers). The stack memory stays owned by
 * the caller. */
#if defined(__aarch64__)
/* arm64: the frame switch_aarch64.S restores, 160 bytes below the top: x19 = entry, x30 (the
 * address its ret goes to) = the trampoline, every other saved register 0. */
void aio__ctx_make(struct aio__ctx *ctx, void *lo, void *hi, void (*entry)(void))
{
    (void)lo;
    uintptr_t top = (uintptr_t)hi & ~(uintptr_t)15;  /* sp once the frame is popped */
    uint64_t *sp = (uint64_t *)(top - 160);
    memset(sp, 0, 160);
    sp[0] = (uint64_t)(uintptr_t)entry;                 /* x19 */
    sp[11] = (uint64_t)(uintptr_t)aio__ctx_trampoline;  /* x30, at [sp+88] */
    ctx->sp = sp;
}
#else
void aio__ctx_make(struct aio__ctx *ctx, void *lo, void *hi, void (*entry)(void))
{
    (void)lo;
    uintptr_t top = (uintptr_t)hi & ~(uintptr_t)15;  /* after ret, the trampoline runs here */
    uint64_t *sp = (uint64_t *)top;
    *--sp = (uint64_t)(uintptr_t)aio__ctx_trampoline;   /* "return address" */
    *--sp = 0;                              /* rbp */
    *--sp = 0;                              /* rbx */
    *--sp = (uint64_t)(uintptr_t)entry;     /* r12: the trampoline calls it */
    *--sp = 0;                              /* r13 */
    *--sp = 0;                              /* r14 */
    *--sp = 0;                              /* r15 */
#if AIO_SAVE_FPU
    /* The default control words: round to nearest, all exceptions masked. */
    *--sp = (uint64_t)0x1F80 | ((uint64_t)0x037F << 32);
#endif
    ctx->sp = sp;
}
#endif

/* Save the running context into from and continue in to. */
void aio__ctx_switch(struct aio__ctx *from, struct aio__ctx *to)
{
    aio__ctx_switch_asm(&from->sp, to->sp);
}

#else

/* ucontext's makecontext() wants a stack description and an entry with no arguments; the
 * entry finds its task through the loop's current pointer. */
void aio__ctx_make(struct aio__ctx *ctx, void *lo, void *hi, void (*entry)(void))
{
    memset(ctx, 0, sizeof *ctx);
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = lo;
    ctx->uc.uc_stack.ss_size = (size_t)((char *)hi - (char *)lo);
    ctx->uc.uc_link = NULL;
    makecontext(&ctx->uc, entry, 0);
}

/* swapcontext() keeps the registers in the ucontext_t, not on the stack: what the context
 * still needs of its stack, once resumed, are this function's frame and its callers'. The
 * margin below the frame address covers the registers this frame saved and its spills. */
#define AIO__UC_MARGIN 512

__attribute__((noinline)) void aio__ctx_switch(struct aio__ctx *from, struct aio__ctx *to)
{
    from->low = (char *)__builtin_frame_address(0) - AIO__UC_MARGIN;
    swapcontext(&from->uc, &to->uc);
}

#endif
