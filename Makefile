# The kit's one entry point. `make` with no goal prints the course map; the README lists every
# workflow. Lessons plug in through lessons/NN-topic/lesson.mk (see harness/README.md), the
# harness through harness/*/*.mk. Nothing here names a particular lesson.

SHELL      := /bin/bash
BUILD      := build
CC         := gcc
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -MMD -MP
SAN_FLAGS  := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT_FLAGS  := -O2
KIT_INC    := -Iharness/kit
KIT_SAN_LIB := $(BUILD)/kit/libkit-san.a
KIT_OPT_LIB := $(BUILD)/kit/libkit-opt.a
DELAYD     := $(BUILD)/bin/delayd
DEPS_STAMP := $(BUILD)/.deps-ok
PORT       ?= 8080
comma      := ,
# `make V=1` shows whole compiler command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif

HARNESS_TESTS :=
HARNESS_CHECK_TARGETS :=
ALL_TARGETS :=
LESSONS := $(sort $(patsubst lessons/%/lesson.mk,%,$(wildcard lessons/[0-9][0-9]-*/lesson.mk)))

.DEFAULT_GOAL := help

# ---- dependencies: installed once, then remembered in a stamp -------------------------------
$(DEPS_STAMP): harness/deps.sh
	@harness/deps.sh
	@mkdir -p $(@D) && touch $@
deps: $(DEPS_STAMP)

-include harness/kit/kit.mk
-include harness/delayd/delayd.mk
-include harness/aio/aio.mk
-include harness/benchmark/benchmark.mk

# ---- one lesson: `make lesson-NN GOAL`, or LESSON=NN ------------------------------------------
LESSON_GOAL := $(firstword $(filter lesson-%,$(MAKECMDGOALS)))
ifneq ($(LESSON_GOAL),)
LESSON := $(patsubst lesson-%,%,$(LESSON_GOAL))
endif
LESSON_ACTIONS := test run bench plot build build-tests

ifneq ($(LESSON),)
LESSON_NAME := $(firstword $(filter $(LESSON)-%,$(LESSONS)))
ifeq ($(LESSON_NAME),)
$(error There is no lesson $(LESSON). The lessons are: $(LESSONS))
endif
LESSON_DIR := lessons/$(LESSON_NAME)
EXERCISE :=
GIVEN :=
MAIN :=
TESTS :=
PKGS :=
USES_AIO :=
LDWRAP :=
POINTS :=
BENCH_REPEAT := 3
include $(LESSON_DIR)/lesson.mk

# Where the exercise files come from: FROM first, then the solution or the student's copy.
ifeq ($(SOLUTION),1)
SRC_DIR := solutions/$(LESSON_NAME)
VARIANT := solution
else
SRC_DIR := $(LESSON_DIR)
VARIANT := student
endif
ifneq ($(FROM),)
ifeq ($(wildcard $(FROM)/.),)
$(error FROM=$(FROM) is not a folder)
endif
VARIANT := $(VARIANT)-from$(subst /,_,$(abspath $(FROM)))
endif
VDIR := $(BUILD)/$(LESSON_NAME)/$(VARIANT)
exercise_path = $(firstword $(wildcard $(if $(FROM),$(FROM)/$(1)) $(SRC_DIR)/$(1)) $(SRC_DIR)/$(1))

# The given files and tests do not change with FROM, so a FROM build reuses the objects of the
# variant beneath it (which makes checking a dozen mistakes quick), unless FROM brings headers.
SHARED_DIR := $(BUILD)/$(LESSON_NAME)/$(if $(filter 1,$(SOLUTION)),solution,student)
SHARED_INC := -I$(SRC_DIR) -I$(LESSON_DIR)
ifneq ($(and $(FROM),$(wildcard $(FROM)/*.h)),)
SHARED_DIR := $(VDIR)
SHARED_INC := -I$(FROM) $(SHARED_INC)
endif

LESSON_PKG_CFLAGS = $(if $(PKGS),$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
LESSON_PKG_LIBS = $(if $(PKGS),$(shell pkg-config --libs $(PKGS) 2>/dev/null))
LESSON_CFLAGS = $(CFLAGS_BASE) $(KIT_INC) $(if $(USES_AIO),-Iharness/aio) $(LESSON_PKG_CFLAGS)
LESSON_AIO_SAN := $(if $(USES_AIO),$(BUILD)/aio/san/libaio.a)
LESSON_AIO_OPT := $(if $(USES_AIO),$(BUILD)/aio/opt/libaio.a)
LESSON_LDLIBS = $(LESSON_PKG_LIBS) $(KIT_LIBS) $(if $(USES_AIO),$(AIO_LIBS)) -pthread

# compile_rule(DIR, FLAVOUR, FLAGS, INCLUDES, SOURCE-NAME, SOURCE-PATH)
define compile_rule
$(1)/$(2)/$(basename $(5)).o: $(6) | $(DEPS_STAMP)
	@mkdir -p $$(@D)
	@$(if $(Q),echo "  CC    $$<  ($(2))")
	$(Q)$$(CC) $(4) $$(LESSON_CFLAGS) $(3) -c $$< -o $$@ || { echo "$$< does not compile \
	(warnings count as errors here). Fix the first message above, then run make again." >&2; exit 1; }
endef
EXERCISE_INC := $(if $(FROM),-I$(FROM)) -I$(SRC_DIR) -I$(LESSON_DIR)
$(foreach f,$(EXERCISE),$(foreach fl,san opt,$(eval $(call compile_rule,$(VDIR),$(fl),$$($(if $(filter san,$(fl)),SAN,OPT)_FLAGS),$(EXERCISE_INC),$(f),$(call exercise_path,$(f))))))
$(foreach f,$(GIVEN) $(MAIN) $(TESTS),$(foreach fl,san opt,$(eval $(call compile_rule,$(SHARED_DIR),$(fl),$$($(if $(filter san,$(fl)),SAN,OPT)_FLAGS),$(SHARED_INC),$(f),$(LESSON_DIR)/$(f)))))
-include $(shell find $(VDIR) $(SHARED_DIR) -name '*.d' 2>/dev/null)

objs = $(addprefix $(VDIR)/$(1)/,$(addsuffix .o,$(basename $(2)))) \
       $(addprefix $(SHARED_DIR)/$(1)/,$(addsuffix .o,$(basename $(3))))
TEST_BIN := $(VDIR)/san/test-runner
PROG := $(VDIR)/opt/prog

$(TEST_BIN): $(call objs,san,$(EXERCISE),$(GIVEN) $(TESTS)) $(KIT_SAN_LIB) $(LESSON_AIO_SAN)
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(SAN_FLAGS) $^ -o $@ $(foreach s,$(LDWRAP),-Wl$(comma)--wrap=$(s)) -lcriterion $(LESSON_LDLIBS)

$(PROG): $(call objs,opt,$(EXERCISE),$(GIVEN) $(MAIN)) $(KIT_OPT_LIB) $(LESSON_AIO_OPT)
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $^ -o $@ $(LESSON_LDLIBS)

LESSON_ENV := LESSON=$(LESSON) LESSON_NAME=$(LESSON_NAME) VARIANT=$(VARIANT) \
    KIT_DELAYD=$(DELAYD) PROG=$(PROG) TEST_BIN=$(TEST_BIN) \
    SPEEDUP_ARGS="$(SPEEDUP_ARGS)" RUN_ARGS="$(RUN_ARGS)" \
    BENCH_MODES="$(BENCH_MODES)" BENCH_X="$(BENCH_X)" BENCH_POINTS="$(BENCH_POINTS)" \
    BENCH_ARGS="$(BENCH_ARGS)" BENCH_REPEAT="$(BENCH_REPEAT)" TITLE="$(TITLE)" \
    PLOT_TITLE="$(PLOT_TITLE)" PLOT_XLABEL="$(PLOT_XLABEL)" PLOT_YLABEL="$(PLOT_YLABEL)" \
    PLOT_LOGX="$(PLOT_LOGX)" PLOT_LOGY="$(PLOT_LOGY)" BENCH_CSV="$(BENCH_CSV)" \
    BENCH_PNG="$(BENCH_PNG)" FROM="$(FROM)" CC="$(CC)"

$(LESSON_GOAL):
	@$(if $(filter-out $(LESSON_GOAL),$(MAKECMDGOALS)),:,$(LESSON_ENV) harness/lesson-info.sh)

build: $(TEST_BIN) $(PROG) $(DELAYD)
build-tests: $(TEST_BIN) $(DELAYD)
test: $(TEST_BIN) $(PROG) $(DELAYD)
	@$(LESSON_ENV) harness/run-tests.sh
run: $(PROG) $(DELAYD)
	@$(LESSON_ENV) harness/bench/run-once.sh $(RUN_ARGS) $(ARGS)
bench: $(PROG) $(DELAYD)
	@$(LESSON_ENV) harness/bench/bench.sh
plot: $(DEPS_STAMP)
	@$(LESSON_ENV) harness/plot/plot.sh
else
$(LESSON_ACTIONS):
	@echo "Which lesson? Type it before the goal, for example: make lesson-01 $@" >&2
	@echo "The lessons are: $(LESSONS)" >&2
	@exit 2
endif

# ---- course-wide workflows ------------------------------------------------------------------
help:
	@harness/course-map.sh $(LESSONS)

progress:
	@harness/course-map.sh --progress $(LESSONS)

hint-%:
	@harness/hint.sh $* $(LESSONS)

server: $(DELAYD)
	@echo "Ctrl+C stops it."
	@$(DELAYD) --host 127.0.0.1 --port $(PORT) $(SERVER_ARGS)

demo: $(DEPS_STAMP)
	@echo "Building lesson 01's reference solution and the test server..."
	@$(MAKE) -s --no-print-directory lesson-01 build SOLUTION=1 >/dev/null
	@echo "N requests of 200 ms each, one after another (seq) and all at once (conc):"
	@$(MAKE) -s --no-print-directory lesson-01 bench SOLUTION=1 BENCH_REPEAT=1 \
	    BENCH_CSV=plots/data/demo.csv BENCH_PNG=plots/demo.png

# Every lesson's bench and chart, from the reference solutions (SOLUTION=0 for your own files).
plots: $(DEPS_STAMP)
	@for l in $(LESSONS); do n=$${l%%-*}; \
	  $(MAKE) -s --no-print-directory lesson-$$n bench SOLUTION=$(if $(SOLUTION),$(SOLUTION),1) || exit 1; done

# Grade your own lessons, or a class: make grade SUBMISSIONS=dir (see harness/grade.sh).
grade: $(DEPS_STAMP) $(DELAYD) $(KIT_SAN_LIB)
	@harness/grade.sh $(SUBMISSIONS)

check: $(DEPS_STAMP)
	@harness/check.sh

# Mutation sweep of the reference solutions: make mutants LESSON=NN (every lesson without LESSON).
mutants: $(DEPS_STAMP)
	@harness/course/mutants.sh $(LESSON)

all: $(ALL_TARGETS)

clean:
	rm -rf $(BUILD)

.PHONY: help deps all clean check mutants demo grade plots progress server $(LESSON_ACTIONS) $(LESSON_GOAL)

# `make print-VAR` shows a variable (the self-test reads the harness lists this way).
print-%:
	@echo $($*)
