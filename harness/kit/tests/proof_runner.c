/* A small test binary for the kit's own tests of proof.c (test_kit.c, suite kit_proof): linked
 * like a lesson's tests (the proof's wraps, libkit), with two tests that pass and ask
 * LeakSanitizer. With KIT_PROOF_FORK_HANG=1 in a graded runner's environment, proof.c makes
 * every child the runner forks stop short of its start for good, as a copy blocked on a lock of
 * the sanitizer's allocator would: the runner's watchdog must end it and say so on the proof
 * channel. */
#include "kit_test.h"

#include <criterion/criterion.h>

Test(proof_runner, first)
{
    cr_assert(1);
    kit_expect_no_leaks("the first test");
}

Test(proof_runner, second)
{
    cr_assert(1);
    kit_expect_no_leaks("the second test");
}
