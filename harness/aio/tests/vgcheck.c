/* vgcheck.c: one plain program (no Criterion forks) that walks every part of the runtime,
 * for `make check-aio-valgrind`: Valgrind must see no invalid access and no leak, which
 * also proves the stack switches are registered with it. Exit 0 and "vgcheck: ok" on success. */
#include "aio.h"
#include "kit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, what)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "vgcheck: FAILED: %s (%s:%d)\n", what, __FILE__, __LINE__); \
            failures++;                                                     \
        }                                                                   \
    } while (0)

static const char *base;

static int value(void *arg)
{
    return (int)(intptr_t)arg;
}

static int sleeper(void *arg)
{
    return aio_sleep((int)(intptr_t)arg);
}

static int parker(void *arg)
{
    (void)arg;
    return aio_park(AIO_NEVER);
}

static int blocking(void *arg)
{
    usleep((useconds_t)(intptr_t)arg * 1000);
    return 3;
}

static int offload(void *arg)
{
    return aio_to_thread(blocking, arg, AIO_NEVER);
}

static int getter(void *arg)
{
    aio_http *c = arg;
    char url[128];
    snprintf(url, sizeof url, "%s/delay/50", base);
    struct aio_response r;
    int rc = aio_http_get(c, url, &r, aio_now() + 5000);
    if (rc == 0) {
        rc = (int)r.status;
        aio_response_free(&r);
    }
    return rc;
}

static void tasks_part(void)
{
    aio_task *t[200];
    for (int i = 0; i < 200; i++)
        t[i] = aio_spawn(i % 2 ? value : sleeper, (void *)(intptr_t)(i % 20));
    int bad = 0;
    for (int i = 0; i < 200; i++)
        bad += aio_join(t[i], AIO_NEVER) != (i % 2 ? i % 20 : 0);
    CHECK(bad == 0, "spawn/join results");
    aio_task *p = aio_spawn(parker, NULL);
    aio_yield();
    aio_unpark(p);
    CHECK(aio_join(p, AIO_NEVER) == 0, "park/unpark");
    p = aio_spawn(parker, NULL);
    aio_yield();
    aio_cancel(p);
    CHECK(aio_join(p, AIO_NEVER) == -ECANCELED, "cancel a parked task");
    aio_task *s = aio_spawn(sleeper, (void *)200);
    CHECK(aio_join(s, aio_now() + 10) == -ETIMEDOUT, "join deadline");
    aio_cancel(s);
    CHECK(aio_join(s, AIO_NEVER) == -ECANCELED, "join after cancel");
}

static void io_part(void)
{
    int fds[2];
    CHECK(pipe2(fds, O_NONBLOCK) == 0, "pipe");
    CHECK(aio_wait_fd(fds[0], AIO_READ, aio_now() + 10) == -ETIMEDOUT, "wait_fd deadline");
    CHECK(aio_wait_fd(fds[1], AIO_WRITE, AIO_NEVER) == AIO_WRITE, "wait_fd writable");
    close(fds[0]);
    close(fds[1]);
    aio_task *t[6];
    for (int i = 0; i < 6; i++)
        t[i] = aio_spawn(offload, (void *)20);
    int sum = 0;
    for (int i = 0; i < 6; i++)
        sum += aio_join(t[i], AIO_NEVER);
    CHECK(sum == 18, "to_thread results");
    aio_task *c = aio_spawn(offload, (void *)100);
    aio_sleep(10);
    aio_cancel(c);
    CHECK(aio_join(c, AIO_NEVER) == -ECANCELED, "cancel during to_thread");
}

static void http_part(void)
{
    aio_http *c = aio_http_new();
    aio_task *t[20];
    for (int i = 0; i < 20; i++)
        t[i] = aio_spawn(getter, c);
    int ok = 0;
    for (int i = 0; i < 20; i++)
        ok += aio_join(t[i], AIO_NEVER) == 200;
    CHECK(ok == 20, "20 concurrent GETs");
    char url[128];
    struct aio_response r;
    snprintf(url, sizeof url, "%s/hang", base);
    CHECK(aio_http_get(c, url, &r, aio_now() + 100) == -ETIMEDOUT, "GET /hang deadline");
    aio_task *g = aio_spawn(getter, c);
    aio_sleep(10);
    aio_cancel(g);
    CHECK(aio_join(g, AIO_NEVER) == -ECANCELED, "cancel during GET");
    /* Larger than a loop iteration's budget: paused and resumed many times on the way. */
    snprintf(url, sizeof url, "%s/bytes/3000017", base);
    int rc = aio_http_get(c, url, &r, aio_now() + 60000);
    CHECK(rc == 0 && r.len == 3000017 && r.body[3000016] == (char)('a' + 3000016 % 26),
          "a 3 MB GET, paused and resumed");
    aio_response_free(&r);
    aio_http_free(c);
}

/* A compact task with an 8 KiB local filled with its own pattern, checked after each wait:
 * its frames are copied off the shared stack and back while others run. */
static int compact_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    volatile unsigned char mine[8192];
    for (size_t i = 0; i < sizeof mine; i++)
        mine[i] = (unsigned char)(id + i);
    int rc = 0;
    for (int round = 0; round < 3 && rc == 0; round++) {
        rc = round == 0 ? aio_yield() : round == 1 ? aio_sleep(5) : aio_park(aio_now() + 5);
        if (rc == -ETIMEDOUT)
            rc = 0;
        for (size_t i = 0; i < sizeof mine; i++)
            if (mine[i] != (unsigned char)(id + i))
                return -EIO;
    }
    return rc == 0 ? id : rc;
}

static void compact_part(void)
{
    aio_task *t[40];
    for (int i = 0; i < 40; i++)
        t[i] = i % 4 == 3 ? aio_spawn(compact_worker, (void *)(intptr_t)i)
                          : aio_spawn_opts(compact_worker, (void *)(intptr_t)i, AIO_TASK_COMPACT);
    int bad = 0;
    for (int i = 0; i < 40; i++)
        bad += aio_join(t[i], AIO_NEVER) != i;
    CHECK(bad == 0, "compact tasks' locals across yield, sleep, park");
    aio_http *c = aio_http_new();
    aio_task *g[8], *o[4];
    for (int i = 0; i < 8; i++)
        g[i] = aio_spawn_opts(getter, c, AIO_TASK_COMPACT);
    for (int i = 0; i < 4; i++)
        o[i] = aio_spawn_opts(offload, (void *)10, AIO_TASK_COMPACT);
    int ok = 0, sum = 0;
    for (int i = 0; i < 8; i++)
        ok += aio_join(g[i], AIO_NEVER) == 200;
    for (int i = 0; i < 4; i++)
        sum += aio_join(o[i], AIO_NEVER);
    CHECK(ok == 8, "8 GETs from compact tasks");
    CHECK(sum == 12, "to_thread from compact tasks");
    aio_task *p = aio_spawn_opts(parker, NULL, AIO_TASK_COMPACT);
    aio_yield();
    aio_cancel(p);
    CHECK(aio_join(p, AIO_NEVER) == -ECANCELED, "cancel a parked compact task");
    aio_http_free(c);
}

static int main_task(void *arg)
{
    (void)arg;
    tasks_part();
    io_part();
    http_part();
    compact_part();
    return 0;
}

int main(void)
{
    base = kit_server_start(NULL);
    CHECK(aio_run(main_task, NULL) == 0, "aio_run");
    kit_server_stop();
    if (failures > 0)
        return 1;
    printf("vgcheck: ok\n");
    return 0;
}
