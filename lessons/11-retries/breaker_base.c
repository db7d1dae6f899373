/* Lesson 11, given: a breaker's set-up. */
#include "breaker.h"

#include <errno.h>

int breaker_init(struct breaker *b, int threshold, int64_t cooldown_ms)
{
    if (b == NULL || threshold < 1 || threshold > BREAKER_THRESHOLD_MAX || cooldown_ms < 0 ||
        cooldown_ms > 86400000)
        return -EINVAL;
    *b = (struct breaker){ .threshold = threshold, .cooldown_ms = cooldown_ms,
                           .state = BREAKER_CLOSED };
    return 0;
}
