/* Lesson 02, given: the lesson program. Waits for N timers of D ms each, either by sleeping
 * for each in turn or with one event loop, and prints one row (see harness/README.md). */
#include "loop.h"
#include "kit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>




/* The work each timer stands for: here, only counting that it happened. */
static void on_timer(struct loop *loop, void *arg)
{
    long *fired = arg;

    (void)loop;
    (*fired)++;
}

/* Like time.sleep() in a loop: the process waits for each timer in turn. Returns timers
 * fired. */
static long run_blocking(const struct kit_options *o)
{
    struct timespec d = { o->delay_ms / 1000, (o->delay_ms % 1000) * 1000000L };
    long fired = 0;

    for (long i = 0; i < o->n; i++) {
        struct timespec left = d;

        while (nanosleep(&left, &left) != 0 && errno == EINTR)
            continue;
        on_timer(NULL, &fired);
    }
    return fired;
}

/* Like asyncio.gather() of N asyncio.sleep(): all timers on one loop, one wait for them all.
 * Returns timers fired, or a negative errno. */
static long run_loop_mode(const struct kit_options *o)
{
    struct loop loop;
    long fired = 0;
    long rc = 0;

    loop_init(&loop);
    for (long i = 0; i < o->n && rc >= 0; i++) {
        int64_t id = loop_add_timer(&loop, o->delay_ms, on_timer, &fired);

        if (id < 0) {
            fprintf(stderr, "loop_add_timer: %s\n", strerror((int)-id));
            rc = id;
        }
    }
    if (rc >= 0) {
        rc = loop_run(&loop);
        if (rc < 0)
            fprintf(stderr, "loop_run: %s\n", strerror((int)-rc));
    }
    loop_close(&loop);
    if (rc == -ENOSYS)
        fprintf(stderr, "loop.c is not finished: `make lesson-02 test` says what is left.\n");
    return rc < 0 ? rc : fired;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = { "loop", "blocking", NULL };
    struct kit_options o = { .mode = "loop", .n = 16, .delay_ms = 50 };

    kit_parse_options(argc, argv, modes, 0, 1000000, &o);
    int blocking = strcmp(o.mode, "blocking") == 0;
    double wall = kit_wall();
    double cpu = kit_cpu();
    long fired = blocking ? run_blocking(&o) : run_loop_mode(&o);
    double theory = (blocking ? (double)o.n : 1.0) * (double)o.delay_ms / 1000.0;

    wall = kit_wall() - wall;
    cpu = kit_cpu() - cpu;
    if (fired < 0)
        return 1;
    printf("mode=%s n=%ld delay_ms=%ld wall_s=%.4f cpu_s=%.4f fired=%ld theory_s=%.4f\n",
           o.mode, o.n, o.delay_ms, wall, cpu, fired, theory);
    if (fired != o.n) {
        fprintf(stderr, "only %ld of %ld timers fired\n", fired, o.n);
        return 1;
    }
    return 0;
}
