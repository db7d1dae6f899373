#!/usr/bin/env bash
# `make lesson-NN` alone: what the lesson is and what to type.
set -uo pipefail
echo "Lesson $LESSON: $TITLE"
echo "  read:   lessons/$LESSON_NAME/README.md"
echo "  edit:   the TODOs in lessons/$LESSON_NAME/"
echo "  then:   make lesson-$LESSON test     your code against the tests"
echo "          make lesson-$LESSON run      the lesson program once (${RUN_ARGS})"
echo "          make lesson-$LESSON bench    timed sweep over $BENCH_X = $BENCH_POINTS, then the chart"
echo "          make hint-$LESSON            the next hint"
echo "  add SOLUTION=1 to any of these to use the reference solution."
