/* aio's own tests, compact tasks (AIO_TASK_COMPACT): they run on the loop's shared stack and
 * keep the part they used on the heap while another compact task has it. Each test checks
 * that a task's frames come back intact (patterns in locals), in the same order of events as
 * normal tasks, mixed with normal tasks, and that the saved size is what was used. */
#include "aio.h"
#include "kit.h"
#include "aio_internal.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(compact, .fini = kit_fini_leaks, .timeout = 30);

static aio_task *spawn_c(aio_fn fn, void *arg)
{
    aio_task *t = aio_spawn_opts(fn, arg, AIO_TASK_COMPACT);
    cr_assert_not_null(t, "[compact-spawn] aio_spawn_opts(AIO_TASK_COMPACT) failed: %s",
                       strerror(errno));
    return t;
}

/* Fill a local with a pattern of the task's own, wait in between, and check it each time. */
static int fill_check(volatile unsigned char *buf, size_t n, unsigned seed, int fill)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char want = (unsigned char)(seed * 31u + i * 7u);
        if (fill)
            buf[i] = want;
        else if (buf[i] != want)
            return -1;
    }
    return 0;
}

/* ---- yield order, mixed with normal tasks ------------------------------------------------ */

#define LOGMAX 256
static int order_log[LOGMAX];
static int nlog;

static int yielder(void *arg)
{
    int id = (int)(intptr_t)arg;
    volatile unsigned char mine[300];
    fill_check(mine, sizeof mine, (unsigned)id, 1);
    for (int i = 0; i < 4; i++) {
        if (nlog < LOGMAX)
            order_log[nlog++] = id;
        if (aio_yield() < 0 || fill_check(mine, sizeof mine, (unsigned)id, 0) < 0)
            return -EIO;
    }
    return id;
}

static int mixed_yielders(void *arg)
{
    (void)arg;
    aio_task *t[6];
    for (int i = 0; i < 6; i++)
        t[i] = i % 2 == 0 ? spawn_c(yielder, (void *)(intptr_t)i)
                          : aio_spawn(yielder, (void *)(intptr_t)i);
    int sum = 0;
    for (int i = 0; i < 6; i++) {
        int r = aio_join(t[i], AIO_NEVER);
        if (r != i)
            return -EIO;
        sum += r;
    }
    return sum;
}

Test(compact, yield_is_round_robin_among_compact_and_normal_tasks)
{
    nlog = 0;
    cr_assert_eq(aio_run(mixed_yielders, NULL), 15, "[compact-frames] a task's locals changed "
                 "across a yield, or a join returned another result");
    cr_assert_eq(nlog, 24);
    for (int i = 0; i < 24; i++)
        cr_assert_eq(order_log[i], i % 6, "[compact-order] event %d came from task %d, "
                     "expected %d: compact tasks should take turns as normal tasks do", i,
                     order_log[i], i % 6);
}

/* ---- sleep, park, join, cancel ---------------------------------------------------------- */

static int sleeper(void *arg)
{
    int ms = (int)(intptr_t)arg;
    volatile unsigned char mine[512];
    fill_check(mine, sizeof mine, (unsigned)ms, 1);
    int r = aio_sleep(ms);
    if (nlog < LOGMAX)
        order_log[nlog++] = ms;
    return r == 0 && fill_check(mine, sizeof mine, (unsigned)ms, 0) == 0 ? ms : -EIO;
}

static int parker(void *arg)
{
    volatile unsigned char mine[200];
    fill_check(mine, sizeof mine, 99, 1);
    int r = aio_park((int64_t)(intptr_t)arg);
    if (fill_check(mine, sizeof mine, 99, 0) < 0)
        return -EIO;
    return r;
}

static int waits_of_every_kind(void *arg)
{
    (void)arg;
    aio_task *s[3] = {spawn_c(sleeper, (void *)150), spawn_c(sleeper, (void *)50),
                      spawn_c(sleeper, (void *)100)};
    aio_task *p = spawn_c(parker, (void *)(intptr_t)AIO_NEVER);
    aio_task *q = spawn_c(parker, (void *)(intptr_t)AIO_NEVER);
    aio_task *d = spawn_c(parker, (void *)(intptr_t)(aio_now() + 30));
    aio_yield();
    aio_unpark(p);
    if (aio_join(p, AIO_NEVER) != 0)
        return -1;
    if (aio_join(d, AIO_NEVER) != -ETIMEDOUT)
        return -2;
    aio_cancel(q);
    if (aio_join(q, AIO_NEVER) != -ECANCELED)
        return -3;
    for (int i = 0; i < 3; i++)
        if (aio_join(s[i], AIO_NEVER) <= 0)
            return -4;
    return 0;
}

Test(compact, sleep_park_timeout_cancel_and_join)
{
    nlog = 0;
    int r = aio_run(waits_of_every_kind, NULL);
    cr_assert_eq(r, 0, "[compact-waits] step %d failed (1 unpark, 2 park deadline, 3 cancel, "
                 "4 sleep)", -r);
    cr_assert_eq(nlog, 3);
    cr_assert(order_log[0] == 50 && order_log[1] == 100 && order_log[2] == 150,
              "[compact-sleep-order] compact sleepers woke in the order %d, %d, %d",
              order_log[0], order_log[1], order_log[2]);
}

/* A compact task joining a compact task, and a cancelled compact task that had not started. */
static int child_value(void *arg)
{
    return (int)(intptr_t)arg;
}

static int compact_parent(void *arg)
{
    (void)arg;
    aio_task *c = spawn_c(child_value, (void *)7);
    aio_task *never = spawn_c(child_value, (void *)8);
    aio_cancel(never);
    int r = aio_join(c, AIO_NEVER);
    int r2 = aio_join(never, AIO_NEVER);
    return r == 7 && r2 == 8 ? 0 : -EIO;
}

static int run_compact_parent(void *arg)
{
    (void)arg;
    return aio_join(spawn_c(compact_parent, NULL), AIO_NEVER);
}

Test(compact, a_compact_task_spawns_and_joins_compact_tasks)
{
    cr_assert_eq(aio_run(run_compact_parent, NULL), 0);
}

static int bad_flags(void *arg)
{
    (void)arg;
    errno = 0;
    aio_task *t = aio_spawn_opts(child_value, NULL, 0x80);
    return t == NULL && errno == EINVAL ? 0 : -1;
}

Test(compact, unknown_flags_are_refused)
{
    cr_assert_eq(aio_run(bad_flags, NULL), 0, "[compact-flags] aio_spawn_opts() with an "
                 "unknown flag should return NULL with errno EINVAL");
}

/* ---- deep stacks and the saved size ------------------------------------------------------ */

#define DEEP (40 * 1024)

static int deep(void *arg)
{
    volatile unsigned char big[DEEP];
    fill_check(big, sizeof big, 5, 1);
    int r = aio_park((int64_t)(intptr_t)arg);
    (void)r;
    return fill_check(big, sizeof big, 5, 0) == 0 ? 0 : -EIO;
}

static int shallow(void *arg)
{
    return aio_park((int64_t)(intptr_t)arg);
}

static size_t saved_deep, saved_shallow;

static int measure_saved(void *arg)
{
    (void)arg;
    aio_task *d = spawn_c(deep, (void *)(intptr_t)AIO_NEVER);
    aio_task *s = spawn_c(shallow, (void *)(intptr_t)AIO_NEVER);
    aio_task *s2 = spawn_c(shallow, (void *)(intptr_t)AIO_NEVER);
    aio_yield();                        /* all three park; s2 stays on the shared stack */
    saved_deep = aio__compact_saved(d);
    saved_shallow = aio__compact_saved(s);
    aio_unpark(d);
    aio_unpark(s);
    aio_unpark(s2);
    int r = aio_join(d, AIO_NEVER);
    aio_join(s, AIO_NEVER);
    aio_join(s2, AIO_NEVER);
    return r;
}

Test(compact, the_saved_size_is_what_the_task_used)
{
    cr_assert_eq(aio_run(measure_saved, NULL), 0, "[compact-deep] a compact task's 40 KiB "
                 "local came back changed after another compact task used the stack");
    cr_assert_geq(saved_deep, (size_t)DEEP, "[compact-saved] %zu bytes kept for a task whose "
                  "frames use %d", saved_deep, DEEP);
    cr_assert_lt(saved_deep, (size_t)DEEP + 16 * 1024);
    cr_assert_gt(saved_shallow, 0);
    /* Instrumented frames are larger; still far under a page and a half. */
    cr_assert_lt(saved_shallow, (size_t)6144, "[compact-saved] %zu bytes kept for a task "
                 "parked in its first frame", saved_shallow);
}

/* ---- many tasks, interleaved with normal ones ------------------------------------------- */

#define MANY 5000

static int many_mixed(void *arg)
{
    (void)arg;
    aio_task **t = calloc(MANY, sizeof *t);
    for (int i = 0; i < MANY; i++)
        t[i] = i % 3 == 0 ? aio_spawn(parker, (void *)(intptr_t)AIO_NEVER)
                          : spawn_c(parker, (void *)(intptr_t)AIO_NEVER);
    aio_yield();
    for (int i = MANY - 1; i >= 0; i--)
        aio_unpark(t[i]);
    int bad = 0;
    for (int i = 0; i < MANY; i++)
        bad += aio_join(t[i], AIO_NEVER) != 0;
    free(t);
    return bad;
}

Test(compact, thousands_of_compact_tasks_among_normal_ones)
{
    cr_assert_eq(aio_run(many_mixed, NULL), 0, "[compact-many] some tasks' locals changed or "
                 "their park did not return 0");
}

/* ---- descriptors and semaphores: the runtime's records live off the stack ---------------- */

struct pipe_job {
    int fd;
    int id;
};

static int reader(void *arg)
{
    struct pipe_job *j = arg;
    volatile unsigned char mine[256];
    fill_check(mine, sizeof mine, (unsigned)j->id, 1);
    char c = 0;
    for (;;) {
        ssize_t n = read(j->fd, &c, 1);
        if (n == 1)
            break;
        if (n < 0 && errno != EAGAIN)
            return -EIO;
        int r = aio_wait_fd(j->fd, AIO_READ, aio_now() + 5000);
        if (r < 0)
            return r;
    }
    if (fill_check(mine, sizeof mine, (unsigned)j->id, 0) < 0)
        return -EIO;
    return c == (char)('a' + j->id) ? 0 : -EBADMSG;
}

#define PIPES 8

static int pipes_and_compact_readers(void *arg)
{
    (void)arg;
    int fds[PIPES][2];
    struct pipe_job jobs[PIPES];
    aio_task *t[PIPES];
    for (int i = 0; i < PIPES; i++) {
        if (pipe2(fds[i], O_NONBLOCK) < 0)
            return -errno;
        jobs[i] = (struct pipe_job){.fd = fds[i][0], .id = i};
        t[i] = spawn_c(reader, &jobs[i]);   /* the spawner's struct: fine, it is not compact */
    }
    aio_sleep(20);                      /* every reader waits on its pipe */
    for (int i = PIPES - 1; i >= 0; i--) {
        char c = (char)('a' + i);
        if (write(fds[i][1], &c, 1) != 1)
            return -EIO;
        aio_yield();
    }
    int bad = 0;
    for (int i = 0; i < PIPES; i++) {
        bad += aio_join(t[i], AIO_NEVER) != 0;
        close(fds[i][0]);
        close(fds[i][1]);
    }
    return bad;
}

Test(compact, compact_tasks_wait_on_descriptors)
{
    cr_assert_eq(aio_run(pipes_and_compact_readers, NULL), 0, "[compact-io] compact readers "
                 "did not each get their own pipe's byte");
}

static aio_sem sem;
static int holders, most_holders;

static int sem_user(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        if (aio_sem_acquire(&sem, aio_now() + 5000) < 0)
            return -EIO;
        holders++;
        if (holders > most_holders)
            most_holders = holders;
        aio_yield();
        holders--;
        aio_sem_release(&sem);
    }
    return 0;
}

static int sem_contention(void *arg)
{
    (void)arg;
    aio_sem_init(&sem, 2);
    aio_task *t[10];
    for (int i = 0; i < 10; i++)
        t[i] = i % 2 ? spawn_c(sem_user, NULL) : aio_spawn(sem_user, NULL);
    int bad = 0;
    for (int i = 0; i < 10; i++)
        bad += aio_join(t[i], AIO_NEVER) != 0;
    return bad;
}

Test(compact, compact_tasks_queue_on_a_semaphore)
{
    holders = most_holders = 0;
    cr_assert_eq(aio_run(sem_contention, NULL), 0);
    cr_assert_eq(most_holders, 2, "[compact-sem] %d holders at once, the semaphore allows 2",
                 most_holders);
}

/* ---- the loop ending with compact tasks parked: their buffers are freed (LeakSanitizer) --- */

static int leave_parked(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        spawn_c(shallow, (void *)(intptr_t)AIO_NEVER);
    return aio_park(AIO_NEVER);
}

Test(compact, a_deadlock_with_compact_tasks_parked_frees_them)
{
    cr_assert_eq(aio_run(leave_parked, NULL), -EDEADLK);
    cr_assert(!kit_leaked(), "[compact-leak] the compact tasks left parked at the deadlock "
              "were not freed (LeakSanitizer's report is above)");
}

/* ---- the shared stack's guard page -------------------------------------------------------- */

static int recurse(int depth)
{
    volatile char pad[1024];
    pad[0] = (char)depth;
    return depth > 0 ? recurse(depth - 1) + pad[0] : pad[0];
}

static int overflow_body(void *arg)
{
    (void)arg;
    return recurse(100000);
}

static int spawn_overflow(void *arg)
{
    (void)arg;
    return aio_join(spawn_c(overflow_body, NULL), AIO_NEVER);
}

Test(compact, overflow_of_the_shared_stack_hits_its_guard_page)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        aio_run(spawn_overflow, NULL);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    cr_assert(!(WIFEXITED(status) && WEXITSTATUS(status) == 0),
              "[compact-guard] a compact task that recursed far past the shared stack ran on");
}
