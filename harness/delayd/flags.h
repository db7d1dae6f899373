/* delayd's command line: defaults, parsing, --help. */
#ifndef DELAYD_FLAGS_H
#define DELAYD_FLAGS_H

#include "delayd.h"

#define FLAGS_EXIT_USAGE 2   /* exit status for a bad command line */

/* Fill cfg from argv. Returns 0 to go on, 1 when --help was printed (exit 0), or -EINVAL
 * after printing a one-line error on stderr (exit FLAGS_EXIT_USAGE). */
int flags_parse(int argc, char **argv, struct delayd_config *cfg);

#endif
