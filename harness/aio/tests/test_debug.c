/* aio's own tests, part four: debug mode (AIO_DEBUG=1). Each scenario runs in a child
 * process with its stderr captured, because debug mode reports on stderr. */
#include "aio.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(debug, .timeout = 20);

/* Run scenario in a child with AIO_DEBUG set to debug (NULL: unset); return its stderr
 * (malloc'd, NUL-terminated). */
static char *stderr_of(aio_fn scenario, const char *debug)
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
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "[debug-child] the scenario's process did not end cleanly; its stderr:\n%s", buf);
    return buf;
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
