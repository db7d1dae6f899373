/* aio's own tests, part four: debug mode (AIO_DEBUG=1). Each scenario runs in a child
 * process with its stderr captured, because debug mode reports on stderr. */
#include "aio.h"
#include "kit.h"
#include "aio_internal.h"    /* the loop-held test installs its own callbacks */

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(debug, .fini = kit_fini_leaks, .timeout = 20);

/* Run scenario in a child with AIO_DEBUG set to debug (NULL: unset); return its stderr
 * (malloc'd, NUL-terminated) and the child's wait status. */
/* With the ucontext switch (AIO_SWITCH=ucontext, and every machine but x86-64), ASan warns once
 * a process that it "doesn't fully support makecontext/swapcontext": the runtime's doing, not a
 * debug report. Its line is taken out of a child's stderr. */
static void drop_asan_ucontext_warning(char *buf)
{
    char *line;
    while ((line = strstr(buf, "ASan doesn't fully support makecontext/swapcontext")) != NULL) {
        while (line > buf && line[-1] != '\n')
            line--;
        char *end = strchr(line, '\n');
        end = end != NULL ? end + 1 : line + strlen(line);
        memmove(line, end, strlen(end) + 1);
    }
}

static char *run_child(aio_fn scenario, const char *debug, int *statusp)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        if (debug != NULL)
            setenv("AIO_DEBUG", debug, 1);
        else
            unsetenv("AIO_DEBUG");
        aio_run(scenario, NULL);
        fflush(stderr);
        _exit(0);
    }
    close(fds[1]);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while ((n = read(fds[0], buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 512)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    close(fds[0]);
    waitpid(pid, statusp, 0);
    drop_asan_ucontext_warning(buf);
    return buf;
}

/* The same, for a scenario that must end normally. */
static char *stderr_of(aio_fn scenario, const char *debug)
{
    int status;
    char *buf = run_child(scenario, debug, &status);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "[debug-child] the scenario's process did not end cleanly; its stderr:\n%s", buf);
    return buf;
}

/* The same, for a misuse the runtime must stop: the child must die of SIGABRT. */
static char *stderr_of_abort(aio_fn scenario, const char *debug)
{
    int status;
    char *buf = run_child(scenario, debug, &status);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "[misuse-not-stopped] the runtime should stop the program (abort) on this "
              "misuse, but the process %s %d; its stderr:\n%s",
              WIFSIGNALED(status) ? "died of signal" : "exited with",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), buf);
    return buf;
}

/* Exactly one line of err starts with prefix; returns it (up to its newline) in line. */
static void expect_one_line(const char *err, const char *prefix, char *line, size_t len)
{
    const char *hit = strstr(err, prefix);
    cr_assert_not_null(hit, "[misuse-report] no line starting \"%s\"; stderr was:\n%s", prefix,
                       err);
    cr_assert(hit == err || hit[-1] == '\n', "[misuse-report] \"%s\" is not at the start of a "
              "line:\n%s", prefix, err);
    cr_assert_null(strstr(hit + 1, prefix), "[misuse-report] \"%s\" was reported twice:\n%s",
                   prefix, err);
    size_t n = strcspn(hit, "\n");
    snprintf(line, len, "%.*s", (int)n, hit);
}

/* ---- a task that holds the loop ---------------------------------------------------------- */

static int block_250ms(void *arg)
{
    (void)arg;
    usleep(250 * 1000);                 /* the mistake: a blocking sleep inside a task */
    return 0;
}

static int blocker_scenario(void *arg)
{
    (void)arg;
    aio_task *t = aio_spawn(block_250ms, NULL);
    aio_set_name(t, "blocker");
    return aio_join(t, AIO_NEVER);
}

Test(debug, a_task_that_held_the_loop_is_named)
{
    char *err = stderr_of(blocker_scenario, "1");
    const char *line = strstr(err, "aio debug: task 'blocker' held the loop for ");
    cr_assert_not_null(line, "[debug-held] no \"held the loop\" report for a task that blocked "
                       "250 ms; stderr was:\n%s", err);
    int ms = 0;
    char tail[64] = "";
    sscanf(line, "aio debug: task 'blocker' held the loop for %d ms %63[^\n]", &ms, tail);
    cr_assert_geq(ms, 200, "[debug-held-ms] the report says %d ms; the task blocked 250 ms", ms);
    cr_assert_str_eq(tail, "(no wait in between)");
    free(err);
}

static int short_steps(void *arg)
{
    (void)arg;
    for (int i = 0; i < 25; i++)
        aio_sleep(10);
    return 0;
}

static int patient_scenario(void *arg)
{
    (void)arg;
    return aio_join(aio_spawn(short_steps, NULL), AIO_NEVER);
}

Test(debug, a_task_that_waits_often_is_not_reported)
{
    char *err = stderr_of(patient_scenario, "1");
    cr_assert_null(strstr(err, "held the loop"), "[debug-held-false] a task that slept 25 times "
                   "for 10 ms was reported as holding the loop:\n%s", err);
    free(err);
}

/* ---- tasks never joined ------------------------------------------------------------------ */

static int return_zero(void *arg)
{
    (void)arg;
    return 0;
}

static int orphans_scenario(void *arg)
{
    (void)arg;
    aio_task *named = aio_spawn(return_zero, NULL);
    aio_set_name(named, "orphan");
    aio_spawn(return_zero, NULL);       /* task #3, unnamed */
    aio_task *joined = aio_spawn(return_zero, NULL);
    aio_set_name(joined, "joined");
    aio_join(joined, AIO_NEVER);
    return 0;
}

Test(debug, tasks_never_joined_are_reported_at_loop_end)
{
    char *err = stderr_of(orphans_scenario, "1");
    cr_assert_not_null(strstr(err, "aio debug: task 'orphan' finished but was never joined\n"),
                       "[debug-never-joined] no report for the named task never joined:\n%s", err);
    cr_assert_not_null(strstr(err, "aio debug: task #3 (fn 0x"),
                       "[debug-unnamed] an unnamed task should be shown as its number and "
                       "function address:\n%s", err);
    cr_assert_null(strstr(err, "'joined'"), "[debug-joined-false] a joined task was reported:\n%s",
                   err);
    cr_assert_null(strstr(err, "task #1 "), "[debug-main] the first task (aio_run joins it) "
                   "was reported:\n%s", err);
    free(err);
}

Test(debug, nothing_is_reported_without_aio_debug)
{
    char *err = stderr_of(orphans_scenario, NULL);
    cr_assert_str_empty(err, "[debug-off] reports appeared without AIO_DEBUG:\n%s", err);
    free(err);
    err = stderr_of(blocker_scenario, "0");
    cr_assert_str_empty(err, "[debug-off] AIO_DEBUG=0 should mean off:\n%s", err);
    free(err);
}

/* ---- a nested loop, and what is left open --------------------------------------------------- */

static int nested_scenario(void *arg)
{
    (void)arg;
    return aio_run(return_zero, NULL) == -EBUSY ? 0 : 1;
}

Test(debug, a_nested_run_is_named)
{
    char *err = stderr_of(nested_scenario, "1");
    cr_assert_not_null(strstr(err, "aio debug: aio_run() called inside a running loop\n"),
                       "[debug-nested] no report for aio_run() inside a running loop:\n%s", err);
    free(err);
}

static int park_forever(void *arg)
{
    (void)arg;
    return aio_park(AIO_NEVER);
}

static int stuck_scenario(void *arg)
{
    (void)arg;
    aio_spawn(park_forever, NULL);
    return aio_park(AIO_NEVER);         /* nobody will unpark either: a deadlock */
}

Test(debug, what_is_still_open_at_loop_end)
{
    char *err = stderr_of(stuck_scenario, "1");
    cr_assert_not_null(strstr(err, "aio debug: at loop end: 2 tasks, 0 timers, 0 descriptors, "
                              "0 operations still open\n"),
                       "[debug-open] the loop-end report of two stuck tasks is missing or "
                       "wrong:\n%s", err);
    free(err);
}

/* ---- misuse of the API: reported, and stopped where going on would corrupt the loop --------- */

static int two_joins(void *arg)
{
    (void)arg;
    aio_task *t = aio_spawn(return_zero, NULL);
    aio_set_name(t, "twice");
    /* Other free slots exist, as in any real program: the second join must still see it. */
    aio_task *others[3];
    for (int i = 0; i < 3; i++)
        others[i] = aio_spawn(return_zero, NULL);
    for (int i = 0; i < 3; i++)
        aio_join(others[i], AIO_NEVER);
    int r = aio_join(t, AIO_NEVER);
    if (r != 0)
        return 100 + r;
    aio_join(t, AIO_NEVER);             /* the mistake */
    fprintf(stderr, "scenario: the second join returned\n");
    return 0;
}

Test(debug, a_task_joined_twice_is_stopped_in_both_modes)
{
    char line[512];
    char *err = stderr_of_abort(two_joins, "1");
    expect_one_line(err, "aio debug: [task-already-joined] aio_join() was given a task that "
                    "was already joined and freed (task #2)", line, sizeof line);
    cr_assert_null(strstr(err, "scenario: the second join returned"));
    free(err);
    /* Without debug mode: the same check (it is cheap), with the plain prefix. */
    err = stderr_of_abort(two_joins, NULL);
    expect_one_line(err, "aio: [task-already-joined] aio_join() was given a task that was "
                    "already joined and freed (task #2)", line, sizeof line);
    cr_assert_null(strstr(err, "aio debug:"), "[debug-off] a debug line without AIO_DEBUG:\n%s",
                   err);
    free(err);
}

static int cancel_after_join(void *arg)
{
    (void)arg;
    aio_task *t = aio_spawn(return_zero, NULL);
    aio_join(t, AIO_NEVER);
    aio_cancel(t);                      /* a stale handle */
    return 0;
}

static int unpark_after_join(void *arg)
{
    (void)arg;
    aio_task *t = aio_spawn(return_zero, NULL);
    aio_join(t, AIO_NEVER);
    aio_unpark(t);
    return 0;
}

Test(debug, a_stale_handle_is_stopped_in_cancel_and_unpark)
{
    char line[512];
    char *err = stderr_of_abort(cancel_after_join, "1");
    expect_one_line(err, "aio debug: [task-already-joined] aio_cancel() was given", line,
                    sizeof line);
    free(err);
    err = stderr_of_abort(unpark_after_join, "1");
    expect_one_line(err, "aio debug: [task-already-joined] aio_unpark() was given", line,
                    sizeof line);
    free(err);
}

/* The first task joining itself is the usual -EDEADLK (tasks::join_of_itself_is_refused);
 * another task joining it would free what aio_run() still reads. */
static int joiner_of_main(void *arg)
{
    return aio_join(arg, AIO_NEVER);
}

static int main_joined_by_another(void *arg)
{
    (void)arg;
    aio_task *t = aio_spawn(joiner_of_main, aio_current());
    return aio_join(t, AIO_NEVER);
}

Test(debug, joining_the_first_task_is_stopped)
{
    char line[512];
    char *err = stderr_of_abort(main_joined_by_another, "1");
    expect_one_line(err, "aio debug: [join-of-main-task] aio_join() was given the first task",
                    line, sizeof line);
    free(err);
}

/* A handle of another loop: loop A runs in a second thread and publishes a task of its own;
 * the scenario's loop (or plain code with no loop) then uses that handle. */
static aio_task *_Atomic foreign;
static atomic_int foreign_stop;

static int publish_and_wait(void *arg)
{
    (void)arg;
    aio_set_name(aio_current(), "of loop A");
    atomic_store(&foreign, aio_current());
    while (!atomic_load(&foreign_stop))
        aio_sleep(5);
    return 0;
}

static void *run_loop_a(void *arg)
{
    (void)arg;
    aio_run(publish_and_wait, NULL);
    return NULL;
}

static void start_loop_a(void)
{
    pthread_t tid;
    pthread_create(&tid, NULL, run_loop_a, NULL);
    while (atomic_load(&foreign) == NULL)
        usleep(1000);
}

static int cancel_a_foreign_task(void *arg)
{
    (void)arg;
    start_loop_a();
    aio_cancel(atomic_load(&foreign));
    atomic_store(&foreign_stop, 1);
    return 0;
}

static int unpark_from_no_loop(void *arg)
{
    (void)arg;
    return 0;
}

Test(debug, a_task_of_another_loop_is_stopped)
{
    char line[512];
    char *err = stderr_of_abort(cancel_a_foreign_task, "1");
    expect_one_line(err, "aio debug: [task-of-another-loop] aio_cancel() was given task 'of "
                    "loop A', which belongs to another loop", line, sizeof line);
    free(err);
    /* Plain code on a thread with no loop (a pool thread, say) waking a task. */
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        unsetenv("AIO_DEBUG");
        start_loop_a();
        aio_unpark(atomic_load(&foreign));
        _exit(0);
    }
    close(fds[1]);
    char buf[1024];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fds[0]);
    drop_asan_ucontext_warning(buf);
    int status;
    waitpid(pid, &status, 0);
    (void)unpark_from_no_loop;
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "[misuse-not-stopped] "
              "aio_unpark() from a thread with no loop should abort, but the process %s %d; "
              "stderr:\n%s", WIFSIGNALED(status) ? "died of signal" : "exited with",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), buf);
    cr_assert_not_null(strstr(buf, "aio: [task-of-another-loop] aio_unpark() was given task "
                              "'of loop A', which belongs to a loop while none runs on this "
                              "thread"), "[misuse-report] stderr was:\n%s", buf);
}

/* ---- misuse that is only reported: the call does nothing, as its contract says ----------- */

static int sleep_40(void *arg)
{
    (void)arg;
    return aio_sleep(40);
}

static int unparks_that_do_nothing(void *arg)
{
    (void)arg;
    aio_task *sleeper = aio_spawn(sleep_40, NULL);
    aio_set_name(sleeper, "sleeper");
    aio_task *done = aio_spawn(return_zero, NULL);
    aio_set_name(done, "finished");
    aio_task *parked = aio_spawn(park_forever, NULL);
    aio_set_name(parked, "parked");
    aio_sleep(10);                      /* all three ran: asleep, finished, parked */
    aio_task *fresh = aio_spawn(return_zero, NULL);
    aio_set_name(fresh, "fresh");
    aio_unpark(fresh);                  /* reported: it has not even started */
    aio_unpark(sleeper);                /* reported: it sleeps */
    aio_unpark(done);                   /* reported: it finished */
    aio_unpark(aio_current());          /* reported: the running task */
    aio_unpark(parked);                 /* a real wake-up */
    aio_unpark(parked);                 /* ready already: two wakers, not reported */
    int r = aio_join(parked, AIO_NEVER) + aio_join(done, AIO_NEVER);
    r += aio_join(fresh, AIO_NEVER);
    return r + aio_join(sleeper, AIO_NEVER);
}

Test(debug, unpark_of_a_task_not_parked_is_reported)
{
    char line[512];
    char *err = stderr_of(unparks_that_do_nothing, "1");
    expect_one_line(err, "aio debug: [unpark-not-parked] aio_unpark() of task 'sleeper', which "
                    "is waiting in another call (sleep, join, I/O), did nothing", line,
                    sizeof line);
    expect_one_line(err, "aio debug: [unpark-not-parked] aio_unpark() of task 'finished', which "
                    "is finished, did nothing", line, sizeof line);
    expect_one_line(err, "aio debug: [unpark-not-parked] aio_unpark() of task 'fresh', which is "
                    "ready to run but not parked", line, sizeof line);
    expect_one_line(err, "aio debug: [unpark-not-parked] aio_unpark() of task #1 (fn 0x", line,
                    sizeof line);
    cr_assert_not_null(strstr(line, "which is the running task itself, did nothing"), "%s",
                       line);
    cr_assert_null(strstr(err, "'parked'"), "[unpark-false] a task really parked (then ready) "
                   "was reported:\n%s", err);
    free(err);
    err = stderr_of(unparks_that_do_nothing, NULL);
    cr_assert_str_empty(err, "[debug-off] reports appeared without AIO_DEBUG:\n%s", err);
    free(err);
}

/* Waiting calls made where no task runs: plain code after aio_run(), and a pool thread. */
static int sleep_in_pool_thread(void *arg)
{
    (void)arg;
    return aio_sleep(1) == -EPERM ? 7 : -1;
}

static int wait_outside_scenario(void *arg)
{
    (void)arg;
    return aio_to_thread(sleep_in_pool_thread, NULL, AIO_NEVER) == 7 ? 0 : 1;
}

Test(debug, waiting_outside_a_task_is_reported)
{
    char line[512];
    char *err = stderr_of(wait_outside_scenario, "1");
    expect_one_line(err, "aio debug: [wait-outside-task] aio_sleep() was called outside a "
                    "task (no loop runs on this thread); it returns -EPERM.", line, sizeof line);
    free(err);
}

static int park_outside(void *arg)
{
    (void)arg;
    return 0;
}

Test(debug, waiting_before_aio_run_is_reported_with_aio_debug_only)
{
    (void)park_outside;
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fds[1], 2);
    close(fds[1]);
    setenv("AIO_DEBUG", "1", 1);
    int r1 = aio_park(AIO_NEVER);
    int r2 = aio_join(NULL, AIO_NEVER);
    int r3 = aio_wait_fd(0, AIO_READ, AIO_NEVER);
    unsetenv("AIO_DEBUG");
    int r4 = aio_yield();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[4096];
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    cr_assert(r1 == -EPERM && r2 == -EPERM && r3 == -EPERM && r4 == -EPERM, "[outside-eperm] "
              "park, join, wait_fd and yield outside a loop returned %d, %d, %d, %d; expected "
              "-EPERM each", r1, r2, r3, r4);
    char line[512];
    expect_one_line(buf, "aio debug: [wait-outside-task] aio_park() was called outside a task "
                    "(no loop runs on this thread)", line, sizeof line);
    expect_one_line(buf, "aio debug: [wait-outside-task] aio_join() was called", line,
                    sizeof line);
    expect_one_line(buf, "aio debug: [wait-outside-task] aio_wait_fd() was called", line,
                    sizeof line);
    cr_assert_null(strstr(buf, "aio_yield"), "[debug-off] reported without AIO_DEBUG:\n%s", buf);
}

/* ---- the loop's own callbacks holding it (curl runs there, not in a task) ---------------- */

struct slow_cb {
    struct aio__timer timer;
    struct aio__watch watch;
    int fd[2];
};

static void slow_timer_fire(struct aio__loop *L, struct aio__timer *tm)
{
    (void)L;
    (void)tm;
    usleep(150 * 1000);                 /* as a callback that does too much at once */
}

static void slow_ready(struct aio__loop *L, struct aio__watch *w, int revents)
{
    (void)revents;
    struct slow_cb *s = (struct slow_cb *)((char *)w - offsetof(struct slow_cb, watch));
    char c;
    if (read(s->fd[0], &c, 1) != 1)
        abort();
    aio__watch_set(L, w, 0);
    usleep(150 * 1000);
}

static int slow_callbacks(void *arg)
{
    (void)arg;
    struct aio__loop *L = aio__loop_get();
    struct slow_cb s = {.timer = {.slot = AIO__NOSLOT, .fire = slow_timer_fire}};
    if (pipe(s.fd) != 0)
        return -errno;
    aio__timer_start(L, &s.timer, aio_now());
    aio_sleep(5);                       /* the timer fires in the loop, not in this task */
    s.watch = (struct aio__watch){.fd = s.fd[0], .ready = slow_ready};
    aio__watch_set(L, &s.watch, AIO_READ);
    if (write(s.fd[1], "x", 1) != 1)
        return -errno;
    aio_sleep(5);                       /* the watch fires in the loop's dispatch phase */
    close(s.fd[0]);
    close(s.fd[1]);
    return 0;
}

Test(debug, a_slow_loop_callback_is_reported)
{
    char line[512];
    char *err = stderr_of(slow_callbacks, "1");
    int ms = 0;
    expect_one_line(err, "aio debug: [loop-held] the loop's own timer callbacks held it for ",
                    line, sizeof line);
    cr_assert_eq(sscanf(line, "aio debug: [loop-held] the loop's own timer callbacks held it "
                        "for %d ms", &ms), 1);
    cr_assert_geq(ms, 140, "[loop-held-ms] %d ms reported for a 150 ms callback", ms);
    expect_one_line(err, "aio debug: [loop-held] the loop's own I/O callbacks held it for ",
                    line, sizeof line);
    cr_assert_null(strstr(err, "held the loop"), "[loop-held-task] the task was blamed for "
                   "the loop's own callbacks:\n%s", err);
    free(err);
}

/* ---- what the loop's end still waits for: one count of pending work ----------------------- */

static int block_200ms(void *arg)
{
    (void)arg;
    usleep(200 * 1000);
    return 0;
}

static int abandon_a_job(void *arg)
{
    (void)arg;
    /* The wait ends at its deadline; the job runs on, and the loop's end waits for it. */
    return aio_to_thread(block_200ms, NULL, aio_now() + 20) == -ETIMEDOUT ? 0 : 1;
}

Test(debug, a_job_left_running_is_counted_at_loop_end)
{
    char *err = stderr_of(abandon_a_job, "1");
    cr_assert_not_null(strstr(err, "aio debug: at loop end: 0 tasks, 0 timers, 0 descriptors, "
                              "1 operation still open\n"),
                       "[debug-pending] a thread job still running when the last task ended "
                       "should be counted (1 operation):\n%s", err);
    free(err);
}

/* ---- a watch renewed on a descriptor that may still be in the poller's set ---------------- */

/* The HTTP client closes a kept connection's watch without a system call and renews it when
 * curl wants the socket again (aio__watch_renew): on epoll a change first, an add when the
 * change finds the number missing. Both cases must end up watched. Not a debug-mode test: it
 * is in this file, in a suite of its own, because this file already reaches the loop's
 * internals (aio_internal.h). */
TestSuite(watch_renew, .fini = kit_fini_leaks, .timeout = 20);

struct renewed {
    struct aio__watch watch;
    int fired;
};

static void renewed_ready(struct aio__loop *L, struct aio__watch *w, int revents)
{
    (void)revents;
    struct renewed *r = (struct renewed *)((char *)w - offsetof(struct renewed, watch));
    char c;
    if (read(w->fd, &c, 1) != 1)
        abort();
    r->fired++;
    aio__watch_set(L, w, 0);
}

/* Close r's watch, let swap() change what its number means (or not), renew the watch, write a
 * byte to wr: 1 if the watch saw it within 2 s. */
static int renew_and_see(struct renewed *r, int wr)
{
    struct aio__loop *L = aio__loop_get();
    if (aio__watch_renew(L, &r->watch, AIO_READ) != 0)
        return -1;
    if (write(wr, "x", 1) != 1)
        return -1;
    for (int i = 0; i < 200 && r->fired == 0; i++)
        aio_sleep(10);
    return r->fired == 1;
}

struct renew_case {
    int kept, reused; /* what each renewal saw: 1 when its watch fired */
};

static int renew_both(void *arg)
{
    struct renew_case *rc = arg;
    struct aio__loop *L = aio__loop_get();
    int a[2], b[2];
    if (pipe(a) != 0 || pipe(b) != 0)
        return -errno;

    /* The descriptor kept open: still in the set when its watch is renewed. */
    struct renewed r = {.watch = {.fd = a[0], .ready = renewed_ready}};
    aio__watch_set(L, &r.watch, AIO_READ);
    aio__watch_close(L, &r.watch);
    rc->kept = renew_and_see(&r, a[1]);

    /* The number handed to another pipe behind the loop's back: closing the first one took it
     * out of the set, so the renewal must add it. */
    struct renewed s = {.watch = {.fd = a[0], .ready = renewed_ready}};
    aio__watch_set(L, &s.watch, AIO_READ);
    aio__watch_close(L, &s.watch);
    if (dup2(b[0], a[0]) < 0)           /* closes the old a[0]; the number now reads b */
        return -errno;
    close(b[0]);
    rc->reused = renew_and_see(&s, b[1]);
    close(a[0]);
    close(a[1]);
    close(b[1]);
    return 0;
}

Test(watch_renew, a_renewed_watch_sees_its_descriptor_kept_or_reused)
{
    struct renew_case rc = {0};
    cr_assert_eq(aio_run(renew_both, &rc), 0);
    cr_assert_eq(rc.kept, 1, "[renew-kept] a watch renewed on a descriptor still in the "
                 "poller's set saw %d byte(s) written to it, expected 1", rc.kept);
    cr_assert_eq(rc.reused, 1, "[renew-reused] a watch renewed on a number another pipe got "
                 "behind the loop's back saw %d byte(s), expected 1: the poller was told to "
                 "change a watch it no longer had, and nothing added it", rc.reused);
}
