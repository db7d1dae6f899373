/* Lesson 11, given: the jitter generator. */
#include "retry.h"

int64_t retry_draw(uint32_t *state, int64_t max)
{
    uint32_t x = *state != 0 ? *state : 1;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    if (max <= 0)
        return 0;
    return (int64_t)((uint64_t)x % ((uint64_t)max + 1));
}
