# The lesson pipeline: `make lesson-NN GOAL` (or LESSON=NN) builds one lesson from its
# lessons/NN-topic/lesson.mk, tests it, runs it, benches and charts it. Included by the top
# Makefile; harness/README.md documents every variable and its default.

LESSON_GOAL := $(firstword $(filter lesson-%,$(MAKECMDGOALS)))
ifneq ($(LESSON_GOAL),)
LESSON := $(patsubst lesson-%,%,$(LESSON_GOAL))
endif
LESSON_ACTIONS := test run bench plot timeline build build-tests watch reset solution
LESSON_SCRIPTS := harness/lesson

ifneq ($(LESSON),)
LESSON_NAME := $(firstword $(filter $(LESSON)-%,$(LESSONS)))
ifeq ($(LESSON_NAME),)
$(error [no-such-lesson] there is no lesson $(LESSON); the lessons are: $(LESSONS))
endif
LESSON_DIR := lessons/$(LESSON_NAME)

# ---- the defaults; a lesson.mk states only what differs ---------------------------------------
TITLE        :=
EXERCISE     :=
GIVEN        :=
MAIN         := main.c
TESTS        := $(patsubst $(LESSON_DIR)/%,%,$(sort $(wildcard $(LESSON_DIR)/tests/*.c)))
PKGS         :=
USES_AIO     :=
LDWRAP       :=
POINTS       :=
BENCH_MODES  :=
BENCH_X      := n
BENCH_POINTS := 1 2 4 8 16 32 64
BENCH_ARGS   :=
BENCH_REPEAT := 3
RUN_POINT    := 10
SPEEDUP_POINT := 16
PLOT_XLABEL  :=
PLOT_YLABEL  := wall time (s)
PLOT_LOGX    := 1
PLOT_LOGY    := 1
PLOT_KEY     := top left
PLOT_CAPTION :=
PLOT_PANELS  := cpu
PLOT_MISTAKES :=
BENCH_PYTHON := auto
BENCH_PYTHON_REPEAT := 1
BENCH_ONLY   :=
RUN_ARGS     :=
SPEEDUP_ARGS :=
PLOT_TITLE   :=
TIMELINE_ARGS :=
TIMELINE_SOURCE :=
# The performance component of make grade (harness/course/GRADING.md): none unless PERF_POINTS.
PERF_POINTS  :=
PERF_ARGS    :=
PERF_PEAK    :=
PERF_FULL    := 1.1
PERF_ZERO    :=
PERF_ZERO_WHY :=
include $(LESSON_DIR)/lesson.mk

# MISTAKE=name: the reference solution with solutions/NN-topic/mistakes/name.patch applied, in a
# copy under $(BUILD)/NN-topic/mistake-src/name/ (written again only where it changed), built and
# run as FROM=that copy. Its bench goes to plots/data/lesson-NN-name.csv and its chart says so,
# so a known mistake's chart can stand beside the right one (make compare draws both). The
# listing of compile_commands.json, which visits every lesson, leaves it out.
ifneq ($(and $(MISTAKE),$(if $(COMPDB_LISTING),,1)),)
MISTAKE_PATCH := solutions/$(LESSON_NAME)/mistakes/$(MISTAKE).patch
ifeq ($(wildcard $(MISTAKE_PATCH)),)
$(error [no-such-mistake] there is no $(MISTAKE_PATCH); lesson $(LESSON)'s known mistakes are: $(basename $(notdir $(wildcard solutions/$(LESSON_NAME)/mistakes/*.patch))))
endif
override SOLUTION := 1
override FROM := $(BUILD)/$(LESSON_NAME)/mistake-src/$(MISTAKE)
MISTAKE_COPY := $(shell set -e; t=$$(mktemp -d); trap 'rm -rf "$$t"' EXIT; \
  cp solutions/$(LESSON_NAME)/*.c "$$t/"; \
  patch --batch -s -p1 -d "$$t" <$(MISTAKE_PATCH) >/dev/null 2>&1 || { echo failed; exit 0; }; \
  mkdir -p $(FROM); for f in "$$t"/*.c; do cmp -s "$$f" $(FROM)/$${f##*/} || cp "$$f" $(FROM)/; done; echo ok)
ifneq ($(MISTAKE_COPY),ok)
$(error [mistake-does-not-apply] $(MISTAKE_PATCH) does not apply to the reference solution (patch -p1 in a copy of solutions/$(LESSON_NAME)/))
endif
override BENCH_PYTHON := 0
BENCH_CSV ?= plots/data/lesson-$(LESSON)-$(MISTAKE).csv
BENCH_PNG ?= plots/lesson-$(LESSON)-$(MISTAKE).png
endif
# Derived after the lesson's own values: `run` runs the last mode at RUN_POINT, a passing `test`
# compares the first and last modes at SPEEDUP_POINT.
RUN_ARGS     := $(or $(RUN_ARGS),--mode $(lastword $(BENCH_MODES)) --$(BENCH_X) $(RUN_POINT) $(BENCH_ARGS))
SPEEDUP_ARGS := $(or $(SPEEDUP_ARGS),--$(BENCH_X) $(SPEEDUP_POINT) $(BENCH_ARGS))
PLOT_TITLE   := $(or $(PLOT_TITLE),Lesson $(LESSON): $(TITLE))
PLOT_XLABEL  := $(or $(PLOT_XLABEL),$(BENCH_X))
PLOT_TITLE   := $(PLOT_TITLE)$(if $(MISTAKE), (known mistake: $(MISTAKE)))
# `timeline` runs every mode once at RUN_POINT; TIMELINE_SOURCE: both (tasks and the server's lanes)
# for lessons on the runtime, server (delayd's request lanes) for the others.
TIMELINE_ARGS := $(or $(TIMELINE_ARGS),--$(BENCH_X) $(RUN_POINT) $(BENCH_ARGS))
TIMELINE_SOURCE := $(or $(TIMELINE_SOURCE),$(if $(USES_AIO),both,server))
BENCH_CSV    ?= plots/data/lesson-$(LESSON).csv
BENCH_PNG    ?= plots/lesson-$(LESSON).png
$(foreach v,TITLE EXERCISE BENCH_MODES,$(if $($(v)),,$(error [lesson-mk-incomplete] $(LESSON_DIR)/lesson.mk sets no $(v); every lesson needs one (harness/README.md, "lesson.mk"))))

# ---- where the exercise files come from: FROM first, then the solution or the student's copy --
ifeq ($(SOLUTION),1)
SRC_DIR := solutions/$(LESSON_NAME)
VARIANT := solution
else
SRC_DIR := $(LESSON_DIR)
VARIANT := student
endif
ifneq ($(FROM),)
ifeq ($(wildcard $(FROM)/.),)
$(error [from-not-a-folder] FROM=$(FROM) is not a folder; give the folder that holds your copies of $(EXERCISE))
endif
VARIANT := $(VARIANT)-from$(subst /,_,$(abspath $(FROM)))
endif
VDIR := $(BUILD)/$(LESSON_NAME)/$(VARIANT)
exercise_path = $(firstword $(wildcard $(if $(FROM),$(FROM)/$(1)) $(SRC_DIR)/$(1)) $(SRC_DIR)/$(1))
# Where each exercise file is taken from (what watch watches and the progress digest covers).
EXERCISE_PATHS = $(foreach f,$(EXERCISE),$(call exercise_path,$(f)))

# The given files and tests do not change with the exercise files, so every variant (the
# student's, the solution, FROM) shares one build of them, in given/ (which makes checking a
# dozen mistakes, and the solution beside the skeleton, quick), unless the variant's folder
# brings headers of its own: then they are built again with those headers first.
SHARED_DIR := $(BUILD)/$(LESSON_NAME)/given
SHARED_INC := -I$(LESSON_DIR)
ifneq ($(wildcard $(SRC_DIR)/*.h),)
ifneq ($(SRC_DIR),$(LESSON_DIR))
SHARED_DIR := $(BUILD)/$(LESSON_NAME)/$(if $(filter 1,$(SOLUTION)),solution,student)
SHARED_INC := -I$(SRC_DIR) -I$(LESSON_DIR)
endif
endif
ifneq ($(and $(FROM),$(wildcard $(FROM)/*.h)),)
SHARED_DIR := $(VDIR)
SHARED_INC := -I$(FROM) $(SHARED_INC)
endif
EXERCISE_INC := $(if $(FROM),-I$(FROM)) -I$(SRC_DIR) -I$(LESSON_DIR)

# ---- compiling and linking ----------------------------------------------------------------------
LESSON_PKG_CFLAGS = $(if $(PKGS),$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null))
LESSON_PKG_LIBS = $(if $(PKGS),$(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null))
LESSON_CFLAGS = $(CFLAGS_BASE) $(KIT_INC) $(if $(USES_AIO),$(AIO_INC)) $(LESSON_PKG_CFLAGS)
LESSON_AIO_SAN := $(if $(USES_AIO),$(BUILD)/aio/san/libaio.a)
LESSON_AIO_OPT := $(if $(USES_AIO),$(BUILD)/aio/opt/libaio.a)
LESSON_LDLIBS = $(LESSON_PKG_LIBS) $(KIT_LIBS) $(if $(USES_AIO),$(AIO_LIBS)) -pthread
# lesson_cc(FLAVOUR, INCLUDES): the compiler's command line, without the source and object.
lesson_cc = $(CC) $(2) $(LESSON_CFLAGS) $(if $(filter san,$(1)),$(SAN_FLAGS),$(OPT_FLAGS))
# The link is most of a rebuild after a save: gold or lld where there is one does it in a
# fraction of the time (0.05-0.15 s instead of 0.3-0.6 s for a test binary). LESSON_LD= for ld.
LESSON_LD ?= $(if $(wildcard /usr/bin/ld.gold),-fuse-ld=gold,$(if $(wildcard /usr/bin/ld.lld),-fuse-ld=lld))

# lesson_compile(DIR, FLAVOUR, INCLUDES, SOURCE-NAME, SOURCE-PATH): one object's rule, and the
# sanitized one's entry in compile_commands.json.
define lesson_compile
$(1)/$(2)/$(basename $(4)).o: $(5) | $(DEPS_STAMP)
	@mkdir -p $$(@D)
	@$(if $(Q),echo "  CC    $$<  ($(2))")
	$(Q)$$(call lesson_cc,$(2),$(3)) -c $$< -o $$@ || { echo "[does-not-compile] $$< does not compile \
	(warnings count as errors here). Fix the first message above, then run make again." >&2; exit 1; }
$(if $(filter san,$(2)),$$(call compdb,$(5),$$$$(call lesson_cc,$(2),$(3))))
endef
$(foreach f,$(EXERCISE),$(foreach fl,san opt,$(eval $(call lesson_compile,$(VDIR),$(fl),$(EXERCISE_INC),$(f),$(call exercise_path,$(f))))))
$(foreach f,$(GIVEN) $(MAIN) $(TESTS),$(foreach fl,san opt,$(eval $(call lesson_compile,$(SHARED_DIR),$(fl),$(SHARED_INC),$(f),$(LESSON_DIR)/$(f)))))
-include $(shell find $(VDIR) $(SHARED_DIR) -name '*.d' 2>/dev/null)

lesson_objs = $(addprefix $(VDIR)/$(1)/,$(addsuffix .o,$(basename $(2)))) \
              $(addprefix $(SHARED_DIR)/$(1)/,$(addsuffix .o,$(basename $(3))))
TEST_BIN := $(VDIR)/san/test-runner
PROG := $(VDIR)/opt/prog

# GRADE_HIDDEN=1 (make grade sets it): an instructor's own tests (make grade TESTS=dir), built by
# the grader from outside the kit into $(BUILD)/NN-topic/hidden/san/, are linked in too.
HIDDEN_TEST_OBJS := $(if $(GRADE_HIDDEN),$(sort $(wildcard $(BUILD)/$(LESSON_NAME)/hidden/san/*.o)))
$(TEST_BIN): $(call lesson_objs,san,$(EXERCISE),$(GIVEN) $(TESTS)) $(HIDDEN_TEST_OBJS) $(KIT_SAN_LIB) $(LESSON_AIO_SAN)
	@$(if $(filter Darwin,$(KIT_OS)),echo "[macos-tests] the tests count calls with -Wl$(comma)--wrap$(comma) which Apple's linker lacks: run make lesson-$(LESSON) test in the dev container (.devcontainer/); run$(comma) bench and plot work here." >&2; exit 1)
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(SAN_LINK) $(LESSON_LD) $^ -o $@ $(foreach s,$(LDWRAP),-Wl$(comma)--wrap=$(s)) $(KIT_PROOF_WRAP) -lcriterion $(LESSON_LDLIBS)

$(PROG): $(call lesson_objs,opt,$(EXERCISE),$(GIVEN) $(MAIN)) $(KIT_OPT_LIB) $(LESSON_AIO_OPT)
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(OPT_FLAGS) $(LESSON_LD) $^ -o $@ $(LESSON_LDLIBS)

# ---- the lesson's metadata, for scripts: in their environment, and as `make lesson-NN vars` ---
LESSON_VARS := LESSON LESSON_NAME LESSON_DIR TITLE EXERCISE GIVEN MAIN TESTS PKGS USES_AIO \
    LDWRAP POINTS VARIANT SRC_DIR FROM TEST_BIN PROG RUN_ARGS SPEEDUP_ARGS BENCH_MODES BENCH_X \
    BENCH_POINTS BENCH_ARGS BENCH_REPEAT BENCH_CSV BENCH_PNG PLOT_TITLE PLOT_XLABEL \
    PLOT_YLABEL PLOT_LOGX PLOT_LOGY PLOT_KEY PLOT_CAPTION PLOT_PANELS PLOT_MISTAKES MISTAKE BENCH_ONLY BENCH_PYTHON BENCH_PYTHON_REPEAT PYTHON EXERCISE_PATHS ONLY AT \
    TIMELINE_ARGS TIMELINE_SOURCE TIMELINE_PNG TIMELINE_JSON \
    PERF_POINTS PERF_ARGS PERF_PEAK PERF_FULL PERF_ZERO PERF_ZERO_WHY \
    $(foreach f,$(PLOT_PANELS),PLOT_LABEL_$(f) PLOT_LIMIT_$(f))
LESSON_ENV = $(call shell_assignments,$(COURSE_VARS) $(LESSON_VARS))

$(LESSON_GOAL): $(COMPDB)
	@$(if $(filter-out $(LESSON_GOAL),$(MAKECMDGOALS)),:,$(LESSON_ENV) harness/course/lesson-info.sh)

build: $(TEST_BIN) $(PROG) $(DELAYD)
build-tests: $(TEST_BIN) $(DELAYD)
test: $(TEST_BIN) $(PROG) $(DELAYD)
	@$(LESSON_ENV) $(LESSON_SCRIPTS)/test.sh
run: $(PROG) $(DELAYD)
	@$(LESSON_ENV) $(LESSON_SCRIPTS)/run.sh $(RUN_ARGS) $(ARGS)
bench: $(PROG) $(DELAYD)
	@$(LESSON_ENV) $(LESSON_SCRIPTS)/bench.sh
plot: $(DEPS_STAMP)
	@$(LESSON_ENV) $(LESSON_SCRIPTS)/plot.sh
# What happened, drawn: every mode once, traced (harness/timeline/).
timeline: $(PROG) $(DELAYD) $(DEPS_STAMP)
	@$(LESSON_ENV) harness/timeline/timeline.sh
# The work loop: test again at every save, the skeleton back, the reference once it is earned.
watch: $(DEPS_STAMP) $(DELAYD) $(KIT_SAN_LIB) $(LESSON_AIO_SAN)
	@$(LESSON_ENV) $(LESSON_SCRIPTS)/watch.sh
reset:
	@$(LESSON_ENV) $(LESSON_SCRIPTS)/reset.sh
solution:
	@$(LESSON_ENV) $(LESSON_SCRIPTS)/solution.sh
else
LESSON_VARS :=
$(LESSON_ACTIONS):
	@echo "[no-lesson] make $@ needs a lesson: type it before the goal, for example make lesson-01 $@" >&2
	@echo "The lessons are: $(LESSONS)" >&2
	@exit 2
endif

# The pipeline's own self-test: bench, table and charts from a stand-in program; then every
# lesson's asyncio program (python/main.py) in each mode at a tiny point, its row against C's.
check-lesson-bench: $(DELAYD) $(DEPS_STAMP)
	@PYTHON='$(PYTHON)' $(LESSON_SCRIPTS)/selftest.sh
	@PYTHON='$(PYTHON)' $(LESSON_SCRIPTS)/pykit-selftest.sh
HARNESS_CHECK_TARGETS += check-lesson-bench
CHECK_MORE += check-lesson-bench

# The student's work loop (ONLY, watch, reset, solution, progress), in a scratch copy of the kit.
check-lesson-loop: $(DELAYD) $(DEPS_STAMP) $(KIT_SAN_LIB)
	@$(LESSON_SCRIPTS)/loop-selftest.sh
HARNESS_CHECK_TARGETS += check-lesson-loop
CHECK_MORE += check-lesson-loop

# `make lesson-NN timeline` on lessons 01 and 03's references at a tiny point (harness/timeline/).
check-timeline: $(DELAYD) $(DEPS_STAMP) $(KIT_OPT_LIB) $(BUILD)/aio/opt/libaio.a
	@harness/timeline/selftest.sh
HARNESS_CHECK_TARGETS += check-timeline
CHECK_MORE += check-timeline

# How long a student waits from a save to the verdict, in watch mode and with make test
# (BENCH_LESSONS="01 03", ROUNDS=3). A measure, not a test.
feedback-bench: $(DELAYD) $(DEPS_STAMP) $(KIT_SAN_LIB)
	@$(LESSON_SCRIPTS)/feedback-bench.sh

.PHONY: $(LESSON_ACTIONS) $(LESSON_GOAL) check-lesson-bench check-lesson-loop check-timeline feedback-bench
