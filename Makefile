# The kit's one entry point. `make` with no goal prints the course map, `make help` every goal;
# the README lists the workflows. Each component owns a make fragment, included below:
#   harness/kit/kit.mk        test helpers every lesson links
#   harness/delayd/delayd.mk  the bundled test server
#   harness/aio/aio.mk        the coroutine runtime (and aio/benchmark/benchmark.mk, its benchmark)
#   harness/lesson/lesson.mk  one lesson's pipeline: build, test, run, bench, plot
# This file keeps the flags, the includes and the course-wide goals (scripts in harness/course/).
# Nothing here names a particular lesson; harness/README.md is the contract.

SHELL      := /bin/bash
BUILD      ?= build
# The compiler is yours when you set CC (environment or command line); make's built-in `cc`
# gives way to gcc.
ifeq ($(origin CC),default)
CC := gcc
endif
PKG_CONFIG ?= pkg-config
# The asyncio side of `make benchmark`: Debian's python3 (which has aiohttp) unless you say.
PYTHON     ?= $(firstword $(wildcard /usr/bin/python3) python3)
# Whether CC is clang: asked once for a given CC and exported with it, like KIT_UNAME below (a
# make called with another CC asks again).
ifneq ($(KIT_CC_ASKED),$(CC))
KIT_CC_ASKED := $(CC)
KIT_CC_IS_CLANG := $(if $(findstring clang,$(CC) $(shell $(CC) --version 2>/dev/null | head -n 1)),1)
endif
export KIT_CC_ASKED KIT_CC_IS_CLANG
CC_IS_CLANG := $(KIT_CC_IS_CLANG)
# The kit's own flags. Valgrind 3.19 cannot read clang's default DWARF 5, hence -gdwarf-4.
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g $(if $(CC_IS_CLANG),-gdwarf-4) -MMD -MP
# Yours (CPPFLAGS, CFLAGS) come after the kit's in every compile, through SAN_FLAGS and OPT_FLAGS;
# LDFLAGS and LDLIBS join every link through KIT_LIBS (harness/kit/kit.mk).
SAN_FLAGS  := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined $(CPPFLAGS) $(CFLAGS)
# Every sanitizer link adds SAN_LINK. With gcc, the UBSan runtime is linked into the program
# (-static-libubsan), as clang does by default: as a shared library beside libasan it brought
# 5.9 MB of its own tables that LeakSanitizer reads, page by page, at every leak check a test
# asks for, and about 1,500 page faults to each test process (measured: lesson 03's tests took
# 12% less CPU without them). Its reports are the same. Its copy of the sanitizers' common
# functions stays hidden in the program (--exclude-libs), so that libasan's calls reach
# libasan's own; the kit's tests reach ASan's death callback through kit_on_asan_death().
# On Linux it also exports the kit's stand-in for mbed TLS's certificate loader, which
# libgit2 (loaded by Criterion) would otherwise call at the start of every test process, and
# its dl_iterate_phdr, which shows Criterion's section search only the two modules that can
# hold tests (harness/kit/kit.c says why and what each saves).
SAN_LINK    = $(SAN_FLAGS) $(if $(CC_IS_CLANG),,-static-libubsan -Wl$(comma)--exclude-libs$(comma)libubsan.a) \
              $(if $(filter Linux,$(KIT_OS)),-Wl$(comma)--export-dynamic-symbol=mbedtls_x509_crt_parse_file -Wl$(comma)--export-dynamic-symbol=dl_iterate_phdr)
OPT_FLAGS  := -O2 $(CPPFLAGS) $(CFLAGS)
KIT_INC    := -Iharness/kit
AIO_INC    := -Iharness/aio
KIT_SAN_LIB := $(BUILD)/kit/libkit-san.a
KIT_OPT_LIB := $(BUILD)/kit/libkit-opt.a
DELAYD     := $(BUILD)/bin/delayd
# One stamp a compiler: `make CC=clang` installs clang the first time.
DEPS_STAMP := $(BUILD)/.deps-ok-$(notdir $(firstword $(CC)))
PORT       ?= 8080
comma      := ,
# `make V=1` shows whole compiler command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif
# PORTABLE=1 builds the code written for systems other than Linux (macOS): the poll() poller
# instead of epoll, in the runtime and in delayd; pipes instead of eventfds; the ucontext switch
# instead of the assembly one; /dev/fd instead of /proc. It is the default off Linux; on Linux,
# `make check-portable` builds and tests it (harness/course/check-portable.sh).
# The machine, asked once and exported, so that the scripts' own make calls (hundreds in make
# check, each a fork and an exec on a VM where both are dear) do not ask again.
ifeq ($(origin KIT_UNAME),undefined)
KIT_UNAME := $(shell uname -sm)
endif
export KIT_UNAME
KIT_OS := $(word 1,$(KIT_UNAME))
KIT_ARCH := $(word 2,$(KIT_UNAME))
ifeq ($(KIT_OS),Linux)
PORTABLE ?= 0
else
PORTABLE ?= 1
endif
ifeq ($(PORTABLE),1)
CFLAGS_BASE += -DKIT_PORTABLE
AIO_BACKEND ?= poll
AIO_SWITCH ?= ucontext
endif
# Scripts find the build and the server here (the C tests too: harness/kit reads KIT_DELAYD).
export BUILD
export KIT_DELAYD := $(DELAYD)

HARNESS_TESTS :=
HARNESS_CHECK_TARGETS :=
# Of those, the ones `make check-more` runs instead of `make check` (harness/course/check.sh).
CHECK_MORE :=
ALL_TARGETS :=
LESSONS := $(sort $(patsubst lessons/%/lesson.mk,%,$(wildcard lessons/[0-9][0-9]-*/lesson.mk)))

.DEFAULT_GOAL := map

# shell_assignments(VARS): VAR='value' for each, quoted for the shell.
shell_quote = '$(subst ','\'',$(1))'
shell_assignments = $(foreach v,$(1),$(v)=$(call shell_quote,$($(v))))
COURSE_VARS := BUILD DELAYD CC LESSONS HARNESS_TESTS HARNESS_CHECK_TARGETS CHECK_MORE

# The compilation database (compile_commands.json, for clangd): every compile rule lists its
# sources with $(call compdb,FILES,COMMAND), COMMAND being the rule's own command line without
# `-c file -o object` (write $$ for a $: it is expanded when the database is written).
COMPDB_FILES :=
# Goals that write the database depend on $(COMPDB) (empty in the makes that list the entries).
COMPDB := $(if $(COMPDB_LISTING),,compile_commands.json)
compdb = $(foreach f,$(1),$(eval COMPDB_FILES += $(f))$(eval COMPDB_CMD_$(f) = $(2) -c $(f)))
json_string = "$(subst ",\",$(subst \,\\,$(1)))"
compdb_entry = {"directory": $(call json_string,$(CURDIR))$(comma) "file": $(call json_string,$(1))$(comma) "command": $(call json_string,$(strip $(COMPDB_CMD_$(1))))}

# ---- dependencies: installed once a compiler, then remembered in a stamp ----------------------
$(DEPS_STAMP): harness/course/deps.sh
	@CC='$(CC)' harness/course/deps.sh
	@mkdir -p $(@D) && touch $@
deps: $(DEPS_STAMP)

-include harness/kit/kit.mk
-include harness/delayd/delayd.mk
-include harness/aio/aio.mk
-include harness/aio/benchmark/benchmark.mk
include harness/lesson/lesson.mk

# aio.mk's sources in the database, with the flags of its sanitized library and tests.
$(call compdb,$(wildcard harness/aio/*.c),$$(CC) $$(AIO_CFLAGS) $$(SAN_FLAGS))
$(call compdb,$(filter-out %/vgcheck.c,$(wildcard harness/aio/tests/*.c)),$$(CC) $$(AIO_TEST_CFLAGS))
$(call compdb,harness/aio/tests/vgcheck.c,$$(CC) $$(CFLAGS_BASE) $$(OPT_FLAGS) $$(AIO_INC) $$(KIT_INC))

# ---- compile_commands.json: the harness, then each lesson as the student builds it, then the
# solutions' exercise files; written again when a fragment, a folder or the compiler changes.
# The compiler and flags it was written with (whatever BUILD), so a change writes it again.
COMPDB_CONFIG := .compile_commands.config
ifneq ($(file < $(COMPDB_CONFIG)),$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CONFIG))
$(file > $(COMPDB_CONFIG),$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CONFIG))
endif
COMPDB_MAKE = $(MAKE) -s --no-print-directory COMPDB_LISTING=1 SOLUTION= FROM=
compile_commands.json: $(filter-out %.d,$(MAKEFILE_LIST)) $(COMPDB_CONFIG) $(wildcard lessons/*/lesson.mk harness/*/ \
                       harness/*/tests/ lessons/*/ lessons/*/tests/ solutions/*/ $(DEPS_STAMP))
	+@mkdir -p $(BUILD) && set -o pipefail; { $(COMPDB_MAKE) compdb-entries && \
	   for l in $(LESSONS); do n=$${l%%-*}; \
	     $(COMPDB_MAKE) lesson-$$n compdb-entries && \
	     $(COMPDB_MAKE) lesson-$$n compdb-entries SOLUTION=1 || exit 1; \
	   done; } | awk 'BEGIN { print "[" } \
	     { f = $$0; sub(/.*"file": "/, "", f); sub(/".*/, "", f); if (f in seen) next; seen[f] = 1 } \
	     n++ { print prev "," } { prev = $$0 } END { if (n) print prev; print "]" }' >$(BUILD)/.$@.$$$$.tmp && \
	 mv -f $(BUILD)/.$@.$$$$.tmp $@
compdb-entries:
	@printf '%s\n' $(foreach f,$(COMPDB_FILES),$(call shell_quote,$(call compdb_entry,$(f))))

# ---- course-wide goals --------------------------------------------------------------------------
map: $(COMPDB)
	@harness/course/course-map.sh $(LESSONS)

help: $(COMPDB)
	@harness/course/course-map.sh --help $(LESSONS)

progress:
	@harness/course/course-map.sh --progress $(LESSONS)

hint-%:
	@harness/course/hint.sh $* $(LESSONS)

server: $(DELAYD)
	@echo "Ctrl+C stops it."
	@$(DELAYD) --host 127.0.0.1 --port $(PORT) $(SERVER_ARGS)

demo: $(DEPS_STAMP)
	@echo "Building lesson 01's reference solution and the test server..."
	@$(MAKE) -s --no-print-directory lesson-01 build SOLUTION=1 >/dev/null
	@echo "N requests of 200 ms each, one after another (seq) and all at once (conc):"
	@$(MAKE) -s --no-print-directory lesson-01 bench SOLUTION=1 BENCH_REPEAT=1 BENCH_PYTHON=0 \
	    BENCH_CSV=plots/data/demo.csv BENCH_PNG=plots/demo.png

# Every lesson's bench and chart, from the reference solutions (SOLUTION=0 for your own files),
# and the known mistakes each lesson shows beside its chart (PLOT_MISTAKES), then the gallery.
plots: $(DEPS_STAMP)
	@SOLUTION='$(if $(SOLUTION),$(SOLUTION),1)' harness/course/plots.sh

# Two runs side by side: make compare A=run1.csv B=run2.csv (lesson benches or benchmark.csv).
compare: $(DEPS_STAMP)
	@harness/course/compare.sh
check-compare: $(DEPS_STAMP)
	@harness/course/compare-selftest.sh
HARNESS_CHECK_TARGETS += check-compare
CHECK_MORE += check-compare

# The gallery page alone (plots/index.html) from the benches already run, and its check in
# headless Chromium (installed when missing).
gallery: $(DEPS_STAMP)
	@harness/course/gallery.sh
gallery-check: $(DEPS_STAMP)
	@harness/course/gallery-check.sh

# The gallery's self-test: made-up bench data for every lesson, the page built and checked.
check-gallery: $(DEPS_STAMP)
	@harness/course/gallery-selftest.sh
HARNESS_CHECK_TARGETS += check-gallery
CHECK_MORE += check-gallery

# Grade your own lessons, or a class: make grade SUBMISSIONS=dir (see harness/course/grade.sh and
# GRADING.md). SUBMISSIONS and GRADES reach the script through the environment, never through a
# command line make expands. bubblewrap, the grader's sandbox, is installed once, with its stamp.
GRADE_DEPS_STAMP := $(BUILD)/.deps-ok-grade
$(GRADE_DEPS_STAMP): harness/course/deps.sh
	@CC='$(CC)' KIT_DEPS_GRADE=1 harness/course/deps.sh
	@mkdir -p $(@D) && touch $@
# TESTS=dir (or GRADE_TESTS) adds an instructor's own tests; it reaches the script as GRADE_TESTS
# and no make below it sees it (TESTS is also a lesson's variable), hence the empty MAKEFLAGS.
grade: $(DEPS_STAMP) $(GRADE_DEPS_STAMP) $(DELAYD) $(KIT_SAN_LIB)
	@GRADE_TESTS="$${GRADE_TESTS:-$${TESTS:-}}" MAKEFLAGS= MAKEOVERRIDES= env -u TESTS harness/course/grade.sh

# The grader's answer to a test runner whose fork of a test never starts (made on purpose).
check-grade-rerun: $(DEPS_STAMP) $(GRADE_DEPS_STAMP) $(DELAYD) $(KIT_SAN_LIB)
	@MAKEFLAGS= MAKEOVERRIDES= harness/course/grade-rerun-selftest.sh
HARNESS_CHECK_TARGETS += check-grade-rerun
CHECK_MORE += check-grade-rerun

# The copy students get: no solutions, no mistakes (harness/course/dist-student.sh; DIST=dir).
dist-student:
	@harness/course/dist-student.sh

# The GitHub Actions workflow that grades a student's repository on push (in the students' copy
# too): $(BUILD)/actions/.github/workflows/grade.yml, or ACTIONS_DIR=dir.
actions:
	@harness/course/actions.sh

# A Gradescope autograder bundle ($(BUILD)/gradescope/autograder.zip; GRADE_LESSONS="04" for one
# assignment), and its test against a fake /autograder layout (run by CI).
gradescope:
	@harness/course/gradescope.sh
check-gradescope: $(DEPS_STAMP)
	@harness/course/gradescope-selftest.sh

# The self-test grades a class in the sandbox, so it installs bubblewrap as make grade does (a
# fresh machine has none; without it the grader's self-test fails, saying how to install it).
check: $(DEPS_STAMP) $(GRADE_DEPS_STAMP)
	@harness/course/check.sh
# The second tier (CI runs both): the runtime's poll() builds and the tools' own self-tests.
check-more: $(DEPS_STAMP)
	@CHECK_SET=more harness/course/check.sh

# The runtime, the kit and every solution built for arm64 and tested under qemu-user.
check-arm64: $(DEPS_STAMP)
	@harness/course/check-arm64.sh

# The dev container's image built from .devcontainer/Dockerfile (podman), make check inside it.
check-devcontainer:
	@harness/course/check-devcontainer.sh

# The code paths written for macOS and other systems, built and tested on Linux.
check-portable: $(DEPS_STAMP)
	@harness/course/check-portable.sh

# Mutation sweep of the reference solutions: make mutants LESSON=NN (every lesson without LESSON).
mutants: $(DEPS_STAMP)
	@harness/course/mutants.sh $(LESSON)

# The metadata scripts read (harness/lib.sh's kit_vars): the course's, and with lesson-NN the
# lesson's, as shell assignments.
vars:
	@printf '%s\n' $(foreach v,$(COURSE_VARS) $(LESSON_VARS),$(call shell_quote,$(v)=$(call shell_quote,$($(v)))))

all: $(ALL_TARGETS) $(COMPDB)

clean:
	rm -rf $(BUILD)

.PHONY: map help deps all clean check check-more check-grade-rerun check-arm64 check-devcontainer check-portable mutants demo grade plots gallery gallery-check \
        check-gallery compare check-compare progress server vars compdb-entries dist-student gradescope check-gradescope actions

