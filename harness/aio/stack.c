/* stack.c: task stacks, carved from large slabs and reused.
 *
 * Each task lives in a slot: [guard page][stack, growing down][struct aio_task]. The struct
 * sits at the top so that a task that has just started touches one page only: its struct and
 * its first frames share it. Slabs are mapped with MAP_NORESERVE, so a stack costs memory
 * only for the pages it really touches.
 *
 * A guard page is made with madvise(MADV_GUARD_INSTALL) where the kernel has it (Linux
 * 6.13 and later): it marks the page in the page table and leaves the slab one mapping, so
 * every slot gets one, at about 1 us each. Older kernels get mprotect(), which splits the
 * slab's mapping (4 us here, and slower page faults afterwards): every guarded slot then
 * costs two kernel mappings, and Linux allows vm.max_map_count of them (65530 by default) for
 * the whole process. So with mprotect only the first max_map_count / 4 slots get a guard
 * page; later slots do not, and a task whose stack pointer is past its stack at a wait aborts
 * the program with a message instead. README.md explains the choice. */
#include "aio_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_STACK_REGISTER
#define VALGRIND_STACK_REGISTER(lo, hi) 0u
#define VALGRIND_STACK_DEREGISTER(id) ((void)(id))
#endif
#ifndef VALGRIND_MAKE_MEM_UNDEFINED
#define VALGRIND_MAKE_MEM_UNDEFINED(p, n) ((void)(p), (void)(n))
#endif

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif
#ifndef MAP_STACK
#define MAP_STACK 0
#endif
/* The madvise guard is Linux's; a PORTABLE=1 build (what macOS runs) uses mprotect() only. */
#if defined(__linux__) && !defined(KIT_PORTABLE)
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102          /* Linux 6.13; older headers do not name it */
#endif
#define AIO__GUARD_MADVISE 1
#endif

#ifdef AIO__ASAN
#include <sanitizer/asan_interface.h>
/* A finished task leaves AddressSanitizer's red zones of its last frames in the shadow
 * memory of its stack (and an unmapped slab leaves them for the next mapping at the same
 * address): a task must start from a clean stack. */
#define AIO__STACK_CLEAN(lo, hi) ASAN_UNPOISON_MEMORY_REGION((lo), (size_t)((hi) - (lo)))
#define AIO__STACK_DEFAULT (256 * 1024)   /* instrumented frames are several times larger */
#else
#define AIO__STACK_CLEAN(lo, hi) ((void)(lo), (void)(hi))
#define AIO__STACK_DEFAULT (64 * 1024)
#endif
#define AIO__STACK_MIN (16 * 1024)
#define AIO__SLAB_FIRST 16                /* slots in the first slab; doubles up to the max */
#define AIO__SLAB_MAX 1024

struct aio__slab {
    struct aio__slab *next;
    char *base;
    size_t slots;
    size_t carved;              /* slots handed out at least once; the rest never touched */
    bool guarded;
};

/* Parse AIO_STACK_SIZE ("65536", "64k", "1m"); 0 when unset or unreadable. */
static size_t aio__env_stack_size(void)
{
    const char *s = getenv("AIO_STACK_SIZE");
    if (s == NULL || *s == '\0')
        return 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end == 'k' || *end == 'K')
        v *= 1024;
    else if (*end == 'm' || *end == 'M')
        v *= 1024 * 1024;
    return (size_t)v;
}

/* How many slots may have a guard page: a quarter of the process's mapping limit. */
static size_t aio__guard_budget(void)
{
    long limit = 65530;                 /* Linux's default vm.max_map_count */
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld", &limit) != 1)
            limit = 65530;
        fclose(f);
    }
    return (size_t)(limit / 4);
}

static size_t aio__round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* Fill S with the sizes for this run; no memory is mapped yet. Always 0. */
int aio__stacks_init(struct aio__stacks *S)
{
    memset(S, 0, sizeof *S);
    S->page = (size_t)sysconf(_SC_PAGESIZE);
    size_t want = aio__env_stack_size();
    if (want == 0)
        want = AIO__STACK_DEFAULT;
    if (want < AIO__STACK_MIN)
        want = AIO__STACK_MIN;
    size_t task = aio__round_up(sizeof(struct aio_task), 64);
    S->slot_size = aio__round_up(want + task, S->page) + S->page;
    S->stack_size = S->slot_size - S->page - task;
    S->guard_budget = aio__guard_budget();
    S->next_slab_slots = AIO__SLAB_FIRST;
    return 0;
}

/* Make the page at p a guard page. Tries madvise(MADV_GUARD_INSTALL) until the kernel
 * refuses it once, then uses mprotect() (while the mapping budget lasts). 0 on success. */
static int aio__guard(struct aio__stacks *S, char *p)
{
#ifdef AIO__GUARD_MADVISE
    if (!S->no_guard_madvise) {
        if (madvise(p, S->page, MADV_GUARD_INSTALL) == 0)
            return 0;
        S->no_guard_madvise = true;     /* EINVAL: a kernel older than 6.13 */
    }
#endif
    return mprotect(p, S->page, PROT_NONE);
}

/* Map a new slab and put it first in S's list. 0, or -ENOMEM. */
static int aio__slab_new(struct aio__stacks *S)
{
    struct aio__slab *sl = calloc(1, sizeof *sl);
    if (sl == NULL)
        return -ENOMEM;
    sl->slots = S->next_slab_slots;
    size_t len = sl->slots * S->slot_size;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (p == MAP_FAILED) {
        free(sl);
        return -ENOMEM;
    }
    sl->base = p;
    /* Guard pages from madvise cost no mapping: no budget to count then. */
    if (!S->no_guard_madvise || sl->slots <= S->guard_budget) {
        sl->guarded = true;
        for (size_t i = 0; i < sl->slots; i++)
            aio__guard(S, sl->base + i * S->slot_size);
        if (S->no_guard_madvise)
            S->guard_budget -= sl->slots < S->guard_budget ? sl->slots : S->guard_budget;
    }
    sl->next = S->slabs;
    S->slabs = sl;
    if (S->next_slab_slots < AIO__SLAB_MAX)
        S->next_slab_slots *= 2;
    return 0;
}

/* Hand out a slot whose struct aio_task is zeroed except for its stack fields. The slot
 * belongs to the caller until aio__stacks_put(). NULL with errno = ENOMEM when none. */
aio_task *aio__stacks_get(struct aio__stacks *S)
{
    aio_task *t = S->free;
    if (t != NULL) {
        AIO__ASSERT(t->state == AIO__FREE);
        S->free = t->next;
        char *lo = t->stack_lo, *hi = t->stack_hi;
        struct aio__slab *sl = t->slab;
        unsigned vg = t->valgrind_id;
        AIO__STACK_CLEAN(lo, hi);
        memset(t, 0, sizeof *t);
        t->stack_lo = lo;
        t->stack_hi = hi;
        t->slab = sl;
        t->valgrind_id = vg;
        S->in_use++;
        return t;
    }
    struct aio__slab *sl = S->slabs;
    if (sl == NULL || sl->carved == sl->slots) {
        if (aio__slab_new(S) < 0) {
            errno = ENOMEM;
            return NULL;
        }
        sl = S->slabs;
    }
    char *slot = sl->base + sl->carved * S->slot_size;
    sl->carved++;
    t = (aio_task *)(slot + S->slot_size - aio__round_up(sizeof *t, 64));
    AIO__STACK_CLEAN(slot + S->page, (char *)t + sizeof *t);
    memset(t, 0, sizeof *t);
    t->stack_lo = slot + S->page;
    t->stack_hi = (char *)t;
    t->slab = sl;
    t->valgrind_id = VALGRIND_STACK_REGISTER(t->stack_lo, t->stack_hi);
    S->in_use++;
    return t;
}

/* Take a slot back for reuse. Its pages stay mapped (and counted in RSS) until the loop ends:
 * giving them back with madvise() would cost a system call on every spawn. */
void aio__stacks_put(struct aio__stacks *S, aio_task *t)
{
    AIO__ASSERT(S->in_use > 0);
    t->state = AIO__FREE;
    t->loop = NULL;                     /* a stale handle fails aio__check_handle's compare */
    t->next = NULL;
    if (!S->fifo) {
        t->next = S->free;
        S->free = t;
    } else if (S->free == NULL) {
        S->free = S->free_tail = t;
    } else {
        S->free_tail->next = t;
        S->free_tail = t;
    }
    S->in_use--;
}

/* ---- compact tasks: one shared stack, and each task's used part saved on the heap --------
 *
 * A compact task (AIO_TASK_COMPACT) has no stack of its own. All of them run on one shared
 * stack; the task whose frames are there is its occupant. When another compact task is to
 * run, the occupant's used part, from its saved stack pointer up to the top, is copied to a
 * heap buffer of that size, and the newcomer's copied back (libco's copy-stack mode). The copy is lazy: a compact task that waits stays
 * the occupant until another compact task needs the stack, so one compact task among normal
 * ones never copies at all. A waiting task then costs its struct and the bytes it used. */

#define AIO__CHUNK_FIRST 64               /* compact structs in the first chunk; doubles */
#define AIO__CHUNK_MAX 4096
#define AIO__NODE_SIZE 64                 /* aio__compact_node's block */

struct aio__chunk {
    struct aio__chunk *next;
    size_t slots;
    size_t carved;
    aio_task tasks[];
};

/* Map the shared stack, with a guard page below it. 0, or -ENOMEM. */
static int aio__shared_map(struct aio__stacks *S)
{
    size_t len = aio__round_up(S->stack_size, S->page) + S->page;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (p == MAP_FAILED)
        return -ENOMEM;
    S->shared_map = p;
    /* A guard page always, whatever the budget: there is one shared stack per loop. */
#ifdef AIO__GUARD_MADVISE
    if (madvise(p, S->page, MADV_GUARD_INSTALL) != 0)
#endif
        mprotect(p, S->page, PROT_NONE);
    S->shared_lo = S->shared_map + S->page;
    S->shared_hi = S->shared_map + len;
    AIO__STACK_CLEAN(S->shared_lo, S->shared_hi);
    S->shared_vg = VALGRIND_STACK_REGISTER(S->shared_lo, S->shared_hi);
    return 0;
}

/* The same as aio__stacks_get(), for a compact task: a zeroed struct from a chunk, its stack
 * the shared one. NULL with errno = ENOMEM. */
aio_task *aio__compact_get(struct aio__stacks *S)
{
    if (S->shared_map == NULL && aio__shared_map(S) < 0) {
        errno = ENOMEM;
        return NULL;
    }
    aio_task *t = S->cfree;
    if (t != NULL) {
        AIO__ASSERT(t->state == AIO__FREE && t->saved == NULL && t->node == NULL);
        S->cfree = t->next;
    } else {
        struct aio__chunk *ch = S->chunks;
        if (ch == NULL || ch->carved == ch->slots) {
            size_t n = S->next_chunk_slots != 0 ? S->next_chunk_slots : AIO__CHUNK_FIRST;
            ch = malloc(sizeof *ch + n * sizeof(aio_task));
            if (ch == NULL) {
                errno = ENOMEM;
                return NULL;
            }
            ch->slots = n;
            ch->carved = 0;
            ch->next = S->chunks;
            S->chunks = ch;
            S->next_chunk_slots = n < AIO__CHUNK_MAX ? 2 * n : n;
        }
        t = &ch->tasks[ch->carved++];
    }
    memset(t, 0, sizeof *t);
    t->compact = true;
    t->stack_lo = S->shared_lo;
    t->stack_hi = S->shared_hi;
    S->in_use++;
    return t;
}

void aio__compact_done(struct aio__stacks *S, aio_task *t)
{
    if (S->occupant == t)
        S->occupant = NULL;
    free(t->saved);
    t->saved = NULL;
    t->saved_len = t->saved_cap = 0;
}

void aio__compact_put(struct aio__stacks *S, aio_task *t)
{
    AIO__ASSERT(S->in_use > 0 && S->occupant != t);
    free(t->saved);
    free(t->node);
    t->saved = NULL;
    t->node = NULL;
    t->state = AIO__FREE;
    t->loop = NULL;
    t->next = NULL;
    if (!S->fifo || S->cfree == NULL) {
        t->next = S->cfree;
        S->cfree = t;
        if (t->next == NULL)
            S->cfree_tail = t;
    } else {
        S->cfree_tail->next = t;
        S->cfree_tail = t;
    }
    S->in_use--;
}

/* Copy the occupant's used stack to its buffer. The buffer is right-sized: it grows to what
 * is used, and shrinks when the task now uses less than half of it. Out of memory here
 * cannot be handed to anybody (the switch is under way): stop with a message. */
static void aio__compact_save(struct aio__stacks *S, aio_task *o)
{
    char *low = aio__ctx_low(&o->ctx);
    if (low < S->shared_lo)
        low = S->shared_lo;             /* the ucontext margin may reach below the stack */
    size_t len = (size_t)(S->shared_hi - low);
    if (len > o->saved_cap || len < o->saved_cap / 2) {
        size_t cap = aio__round_up(len, 16);
        char *p = realloc(o->saved, cap);
        if (p == NULL)
            aio__fatal("compact-save-failed", "no memory to keep a compact task's %zu bytes "
                       "of stack while it waits", len);
        o->saved = p;
        o->saved_cap = (unsigned)cap;
    }
    /* AddressSanitizer keeps the red zones of o's frames in the shadow of the shared stack:
     * clear them, or the copy would be reported as reading them. o's frames come back
     * without red zones. */
    AIO__STACK_CLEAN(low, S->shared_hi);
    memcpy(o->saved, low, len);
    o->saved_len = (unsigned)len;
}

void aio__compact_bring(struct aio__stacks *S, aio_task *t, void (*entry)(void))
{
    AIO__ASSERT(t->compact && S->occupant != t);
    if (S->occupant != NULL)
        aio__compact_save(S, S->occupant);
    S->occupant = t;
    if (!t->stack_made) {
        /* Its first frame, laid out where it runs, and a clean stack under it. */
        AIO__STACK_CLEAN(S->shared_lo, S->shared_hi);
        (void)VALGRIND_MAKE_MEM_UNDEFINED(S->shared_hi - 1024, 1024);
        aio__ctx_make(&t->ctx, S->shared_lo, S->shared_hi, entry);
        t->stack_made = true;
        return;
    }
    char *low = S->shared_hi - t->saved_len;
    AIO__STACK_CLEAN(low, S->shared_hi);
    /* Memcheck marked the stack below the last occupant's frames unaddressable as they
     * returned: make the range addressable again; the copy then brings the definedness of
     * t's own bytes with it. */
    (void)VALGRIND_MAKE_MEM_UNDEFINED(low, t->saved_len);
    memcpy(low, t->saved, t->saved_len);
}

size_t aio__compact_saved(const aio_task *t)
{
    return t->saved_len;
}

void *aio__compact_node(aio_task *t, size_t size)
{
    AIO__ASSERT(size <= AIO__NODE_SIZE);
    if (t->node == NULL && size <= AIO__NODE_SIZE)
        t->node = malloc(AIO__NODE_SIZE);
    return t->node;
}

/* Unmap every slab. Every task handle of this loop is invalid afterwards. */
void aio__stacks_free(struct aio__stacks *S)
{
    struct aio__slab *sl = S->slabs;
    while (sl != NULL) {
        struct aio__slab *next = sl->next;
        for (size_t i = 0; i < sl->carved; i++) {
            char *slot = sl->base + i * S->slot_size;
            aio_task *t = (aio_task *)(slot + S->slot_size -
                                       aio__round_up(sizeof *t, 64));
            VALGRIND_STACK_DEREGISTER(t->valgrind_id);
        }
        munmap(sl->base, sl->slots * S->slot_size);
        free(sl);
        sl = next;
    }
    S->slabs = NULL;
    S->free = S->free_tail = NULL;
    while (S->chunks != NULL) {
        struct aio__chunk *ch = S->chunks;
        for (size_t i = 0; i < ch->carved; i++) {
            free(ch->tasks[i].saved);   /* tasks the loop ended without (a deadlock) */
            free(ch->tasks[i].node);
        }
        S->chunks = ch->next;
        free(ch);
    }
    S->cfree = S->cfree_tail = NULL;
    S->occupant = NULL;
    if (S->shared_map != NULL) {
        VALGRIND_STACK_DEREGISTER(S->shared_vg);
        munmap(S->shared_map, (size_t)(S->shared_hi - S->shared_map));
        S->shared_map = NULL;
    }
}
