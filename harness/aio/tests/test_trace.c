/* aio's own tests: the trace (AIO_TRACE=file). Each test runs a scenario with the variable
 * set, then reads the file back: every spawned task must have its spawn, runs and end in that
 * order, every wait must name its cause, a small buffer must be written out whole, a path that
 * cannot be written must be reported while the program still runs, and debug mode's stall
 * report must agree with the trace's running slice. */
#include "aio.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

TestSuite(trace, .fini = kit_fini_leaks, .timeout = 20);

#define MAX_EV 20000

struct ev {
    long long ns;
    char name[16];
    unsigned long task;
    char a[24];
    char b[24];
};

static struct ev evs[MAX_EV];
static size_t nev;
static char trace_path[64];

/* A fresh file name for this test's trace (Criterion runs each test in its own process). */
static void trace_to_tmp(void)
{
    snprintf(trace_path, sizeof trace_path, "/tmp/aio-trace-test.%d", (int)getpid());
    cr_assert_eq(setenv("AIO_TRACE", trace_path, 1), 0);
    unsetenv("AIO_TRACE_EVENTS");
}

/* Read the trace back into evs; every line must be whole: five fields, a known event. */
static void read_trace(void)
{
    static const char *const known[] = {"loop-start", "loop-end", "spawn", "name", "run",
                                        "yield", "wait", "wake", "end", "http-start",
                                        "http-end", "idle-start", "idle-end", "flush"};
    FILE *f = fopen(trace_path, "r");
    cr_assert_not_null(f, "[trace-missing] AIO_TRACE=%s was set but no file was written: %s",
                       trace_path, strerror(errno));
    char line[256];
    nev = 0;
    int lineno = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        if (line[0] == '#')
            continue;
        cr_assert_lt(nev, MAX_EV);
        struct ev *e = &evs[nev];
        int n = sscanf(line, "%lld %15s %lu %23s %23s", &e->ns, e->name, &e->task, e->a, e->b);
        cr_assert_eq(n, 5, "[trace-line] line %d of the trace is not `ns event task a b`: %s",
                     lineno, line);
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok = ok || strcmp(e->name, known[i]) == 0;
        cr_assert(ok, "[trace-line] line %d names an unknown event: %s", lineno, line);
        cr_assert(nev == 0 || e->ns >= evs[nev - 1].ns, "[trace-order] line %d goes back in "
                  "time (%lld ns after %lld ns)", lineno, e->ns, evs[nev - 1].ns);
        nev++;
    }
    fclose(f);
    unlink(trace_path);
}

static size_t count(const char *name, unsigned long task)
{
    size_t n = 0;
    for (size_t i = 0; i < nev; i++)
        n += strcmp(evs[i].name, name) == 0 && (task == 0 || evs[i].task == task);
    return n;
}

/* The index of the first event name of task at or after from, or -1. */
static long find(const char *name, unsigned long task, size_t from)
{
    for (size_t i = from; i < nev; i++)
        if (strcmp(evs[i].name, name) == 0 && evs[i].task == task)
            return (long)i;
    return -1;
}

/* Each task seen must have exactly one spawn and one end, the spawn first, a run in between,
 * and nothing of it after its end. Returns how many tasks there were. */
static size_t check_lives(void)
{
    size_t tasks = 0;
    for (size_t i = 0; i < nev; i++) {
        if (strcmp(evs[i].name, "spawn") != 0)
            continue;
        unsigned long id = evs[i].task;
        tasks++;
        cr_assert_eq(count("spawn", id), 1, "[trace-spawn] task %lu was spawned %zu times in "
                     "the trace", id, count("spawn", id));
        cr_assert_eq(count("end", id), 1, "[trace-end] task %lu has %zu end events; every "
                     "spawned task should end once", id, count("end", id));
        long run = find("run", id, i), end = find("end", id, i);
        cr_assert(run > (long)i && end > run, "[trace-order] task %lu: spawn at event %zu, "
                  "first run at %ld, end at %ld; expected spawn < run < end", id, i, run, end);
        for (size_t j = (size_t)end + 1; j < nev; j++)
            cr_assert(evs[j].task != id || strcmp(evs[j].name, "wake") == 0,
                      "[trace-after-end] task %lu has a %s event after its end", id,
                      evs[j].name);
    }
    for (size_t i = 0; i < nev; i++)
        if (evs[i].task != 0)
            cr_assert_eq(count("spawn", evs[i].task), 1, "[trace-spawn] task %lu has a %s "
                         "event but no spawn", evs[i].task, evs[i].name);
    return tasks;
}

/* ---- every kind of wait, named ---------------------------------------------------------- */

static aio_sem sem;
static int pipefd[2];
static aio_task *parked;

static int sleeper(void *arg)
{
    (void)arg;
    return aio_sleep(30);
}

static int reader(void *arg)
{
    (void)arg;
    char c;
    int r = aio_wait_fd(pipefd[0], AIO_READ, AIO_NEVER);
    return r < 0 ? r : (int)read(pipefd[0], &c, 1);
}

static int joiner(void *arg)
{
    return aio_join(arg, AIO_NEVER);
}

static int sem_user(void *arg)
{
    (void)arg;
    int r = aio_sem_acquire(&sem, AIO_NEVER);
    if (r == 0) {
        aio_sleep(5);
        aio_sem_release(&sem);
    }
    return r;
}

static int parker(void *arg)
{
    (void)arg;
    return aio_park(AIO_NEVER);
}

static int every_wait(void *arg)
{
    (void)arg;
    aio_sem_init(&sem, 1);
    cr_assert_eq(pipe(pipefd), 0);
    aio_task *s = aio_spawn(sleeper, NULL);
    aio_set_name(s, "sleeper");
    aio_task *r = aio_spawn(reader, NULL);
    aio_task *j = aio_spawn(joiner, s);
    aio_task *u1 = aio_spawn(sem_user, NULL), *u2 = aio_spawn(sem_user, NULL);
    parked = aio_spawn(parker, NULL);
    aio_yield();
    aio_yield();
    aio_unpark(parked);
    aio_sleep(10);
    cr_assert_eq(write(pipefd[1], "x", 1), 1);
    int rc = aio_join(r, AIO_NEVER) + aio_join(j, AIO_NEVER) + aio_join(u1, AIO_NEVER) +
             aio_join(u2, AIO_NEVER) + aio_join(parked, AIO_NEVER);
    close(pipefd[0]);
    close(pipefd[1]);
    return rc == 1 ? 42 : -1;
}

/* The cause of the first wait of task id, or "" */
static const char *first_cause(unsigned long id)
{
    long w = find("wait", id, 0);
    return w < 0 ? "" : evs[w].a;
}

Test(trace, every_task_has_a_spawn_and_an_end_and_waits_name_their_cause)
{
    trace_to_tmp();
    cr_assert_eq(aio_run(every_wait, NULL), 42);
    read_trace();
    cr_assert_eq(strcmp(evs[0].name, "loop-start"), 0, "[trace-order] the first event is %s, "
                 "not loop-start", evs[0].name);
    cr_assert_eq(strcmp(evs[nev - 1].name, "loop-end"), 0, "[trace-order] the last event is "
                 "%s, not loop-end", evs[nev - 1].name);
    size_t tasks = check_lives();
    cr_assert_eq(tasks, 7, "[trace-spawn] %zu tasks in the trace; the scenario spawned 7 (the "
                 "first task and 6 more)", tasks);
    /* Task ids follow spawn order: 1 is aio_run's, then sleeper 2, reader 3, joiner 4,
     * the sem users 5 and 6, the parker 7. */
    static const struct { unsigned long id; const char *cause; } want[] = {
        {2, "timer"}, {3, "fd"}, {4, "join"}, {5, "timer"}, {6, "sem"}, {7, "park"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert_str_eq(first_cause(want[i].id), want[i].cause, "[trace-cause] task %lu's "
                         "first wait is named '%s'; expected '%s'", want[i].id,
                         first_cause(want[i].id), want[i].cause);
    long fdw = find("wait", 3, 0);
    cr_assert_eq(atoi(evs[fdw].b), pipefd[0], "[trace-cause] the fd wait names descriptor %s, "
                 "not %d", evs[fdw].b, pipefd[0]);
    long jw = find("wait", 4, 0);
    cr_assert_str_eq(evs[jw].b, "2", "[trace-cause] the join names task %s, not 2", evs[jw].b);
    long n = find("name", 2, 0);
    cr_assert(n >= 0 && strcmp(evs[n].a, "sleeper") == 0, "[trace-name] task 2's name is "
              "missing from the trace");
    /* Every wait is followed by that task's wake, then its run. */
    for (size_t i = 0; i < nev; i++) {
        if (strcmp(evs[i].name, "wait") != 0)
            continue;
        long wk = find("wake", evs[i].task, i), run = find("run", evs[i].task, i);
        cr_assert(wk > (long)i && run > wk, "[trace-order] task %lu waits at event %zu but "
                  "its wake (%ld) and next run (%ld) do not follow in that order", evs[i].task,
                  i, wk, run);
    }
    cr_assert_geq(count("idle-start", 0), 1, "[trace-idle] the loop slept (30 ms of timers) "
                  "but the trace has no idle-start");
    cr_assert_eq(count("idle-start", 0), count("idle-end", 0), "[trace-idle] %zu idle-start "
                 "but %zu idle-end", count("idle-start", 0), count("idle-end", 0));
}

/* ---- a buffer that fills up is written out, not corrupted -------------------------------- */

static int yield3(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        aio_yield();
    return 0;
}

static int many_yields(void *arg)
{
    (void)arg;
    aio_task *t[50];
    for (int i = 0; i < 50; i++)
        t[i] = aio_spawn(yield3, NULL);
    for (int i = 0; i < 50; i++)
        aio_join(t[i], AIO_NEVER);
    return 7;
}

Test(trace, a_full_buffer_is_written_out_whole)
{
    trace_to_tmp();
    setenv("AIO_TRACE_EVENTS", "16", 1);
    cr_assert_eq(aio_run(many_yields, NULL), 7);
    read_trace();
    size_t tasks = check_lives();
    cr_assert_eq(tasks, 51, "[trace-full] %zu tasks in the trace, expected 51: events were "
                 "lost when the 16-event buffer filled", tasks);
    cr_assert_eq(count("yield", 0), 150, "[trace-full] %zu yields in the trace, expected 150 "
                 "(50 tasks, 3 each)", count("yield", 0));
    size_t flushes = count("flush", 0);
    /* About 450 events in a 16-event buffer: a flush at least every 16 events. */
    cr_assert_geq(flushes, 450 / 16, "[trace-full] the buffer of 16 events was written out "
                  "%zu times for %zu events; each write should be a flush event", flushes, nev);
}

Test(trace, a_bad_value_for_the_buffer_size_is_reported)
{
    trace_to_tmp();
    setenv("AIO_TRACE_EVENTS", "12x", 1);
    char err[] = "/tmp/aio-trace-err.XXXXXX";
    int efd = mkstemp(err), saved = dup(2);
    dup2(efd, 2);
    int rc = aio_run(many_yields, NULL);
    dup2(saved, 2);
    char buf[1024] = "";
    ssize_t n = pread(efd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(efd);
    unlink(err);
    cr_assert_eq(rc, 7);
    cr_assert_not_null(strstr(buf, "[aio-trace-events]"), "[trace-message] AIO_TRACE_EVENTS=12x "
                       "should be reported with [aio-trace-events]; stderr was:\n%s", buf);
    read_trace();
    cr_assert_eq(count("yield", 0), 150);
}

/* ---- a path that cannot be written ------------------------------------------------------- */

Test(trace, a_bad_path_is_reported_and_the_program_runs)
{
    setenv("AIO_TRACE", "/nonexistent-folder/trace.txt", 1);
    char err[] = "/tmp/aio-trace-err.XXXXXX";
    int efd = mkstemp(err), saved = dup(2);
    dup2(efd, 2);
    int rc = aio_run(many_yields, NULL);
    dup2(saved, 2);
    close(saved);
    char buf[1024] = "";
    ssize_t n = pread(efd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(efd);
    unlink(err);
    cr_assert_eq(rc, 7, "[trace-bad-path] the program should run untraced and return 7; "
                 "aio_run returned %d", rc);
    cr_assert_not_null(strstr(buf, "aio: [aio-trace-open] cannot write the trace to "
                              "'/nonexistent-folder/trace.txt'"),
                       "[trace-message] expected one [aio-trace-open] line naming the path; "
                       "stderr was:\n%s", buf);
    cr_assert_null(strstr(strstr(buf, "[aio-trace-open]") + 1, "[aio-trace-open]"),
                   "[trace-message] the bad path was reported twice:\n%s", buf);
}

/* ---- debug mode's stall report and the trace agree ---------------------------------------- */

static int busy_250ms(void *arg)
{
    (void)arg;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do                                  /* the mistake: work that never waits */
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000LL + (t.tv_nsec - t0.tv_nsec) < 250000000LL);
    return 0;
}

static int stall(void *arg)
{
    (void)arg;
    aio_task *t = aio_spawn(busy_250ms, NULL);
    aio_set_name(t, "busy");
    return aio_join(t, AIO_NEVER);
}

Test(trace, a_stall_is_one_long_running_slice_as_debug_mode_reports)
{
    trace_to_tmp();
    setenv("AIO_DEBUG", "1", 1);
    char err[] = "/tmp/aio-trace-err.XXXXXX";
    int efd = mkstemp(err), saved = dup(2);
    dup2(efd, 2);
    int rc = aio_run(stall, NULL);
    dup2(saved, 2);
    close(saved);
    char buf[4096] = "";
    ssize_t n = pread(efd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(efd);
    unlink(err);
    unsetenv("AIO_DEBUG");
    cr_assert_eq(rc, 0);
    const char *held = strstr(buf, "task 'busy' held the loop for ");
    cr_assert_not_null(held, "[trace-debug] debug mode did not report the busy task; stderr "
                       "was:\n%s", buf);
    long long held_ms = atoll(held + strlen("task 'busy' held the loop for "));
    read_trace();
    cr_assert_eq(count("run", 2), 1, "[trace-debug] the busy task never waited, so it should "
                 "have one running slice; the trace has %zu", count("run", 2));
    long run = find("run", 2, 0), end = find("end", 2, 0);
    double slice_ms = (double)(evs[end].ns - evs[run].ns) / 1e6;
    /* The same interval measured twice: debug mode's ends at the switch just after the end. */
    cr_assert(slice_ms >= 250 && slice_ms + 1 >= (double)held_ms && slice_ms <= held_ms + 50,
              "[trace-debug] debug mode says the task held the loop %lld ms; its running slice "
              "in the trace is %.1f ms; they should agree (and be at least 250 ms)", held_ms,
              slice_ms);
}
