# aio.mk: the aio runtime's make fragment (included by the top Makefile).
# Builds $(BUILD)/aio/{san,opt}/libaio.a, the runtime's tests, and the valgrind check.
# AIO_BACKEND=poll selects the poll() poller instead of epoll (the default on Linux).

AIO_DIR   := harness/aio
# Recursive (=): pkg-config runs when a recipe needs it, after the deps are installed.
AIO_LIBS   = $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl) -pthread
AIO_CURL_CFLAGS = $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
AIO_INC   := -I$(AIO_DIR)

ifeq ($(KIT_OS),Linux)
AIO_BACKEND ?= epoll
else
AIO_BACKEND ?= poll
endif

# The context switch: hand-written assembly on x86-64 and arm64 Linux, ucontext elsewhere or
# when asked (AIO_SWITCH=ucontext, e.g. to compare them). Each .S assembles to nothing on the
# other architecture, so a cross build (CC=aarch64-linux-gnu-gcc AIO_SWITCH=asm) needs no more.
AIO_COMMON_SRC := loop.c task.c stack.c switch.c threads.c http.c sem.c trace.c
# lesson 06: aio_wait_for and the accounting
AIO_COMMON_SRC += timeout.c
# The .S files are written for ELF: the assembly switch is for Linux only (macOS: ucontext).
ifneq ($(and $(filter Linux,$(KIT_OS)),$(filter x86_64 aarch64,$(KIT_ARCH))),)
AIO_SWITCH ?= asm
else
AIO_SWITCH ?= ucontext
endif
ifeq ($(AIO_SWITCH),asm)
AIO_ASM_SRC := switch_x86_64.S switch_aarch64.S
# AIO_SAVE_FPU=1: the switch also saves the floating-point control words (rounding mode), for
# tasks that change them. Off by default: nothing in the kit does, and it costs 4 ns a switch.
ifeq ($(AIO_SAVE_FPU),1)
AIO_SWITCH_CFLAGS := -DAIO_SAVE_FPU=1
endif
else
AIO_SWITCH_CFLAGS := -DAIO_UCONTEXT
endif

# Lesson 04: aio_join_any and aio_group.
AIO_COMMON_SRC += group.c

# $(call aio_objs,DIR,BACKEND): the object files of one build of the library.
aio_objs = $(patsubst %.c,$(1)/%.o,$(AIO_COMMON_SRC) backend_$(2).c) \
           $(patsubst %.S,$(1)/%.o,$(AIO_ASM_SRC))

AIO_SAN_OBJS  := $(call aio_objs,$(BUILD)/aio/san,$(AIO_BACKEND))
AIO_OPT_OBJS  := $(call aio_objs,$(BUILD)/aio/opt,$(AIO_BACKEND))
AIO_PSAN_OBJS := $(call aio_objs,$(BUILD)/aio/san-poll,poll)

AIO_CFLAGS = $(CFLAGS_BASE) $(AIO_INC) $(AIO_CURL_CFLAGS) $(AIO_SWITCH_CFLAGS)

# $(call aio_rules,DIR,FLAGS): compile rules for one build directory. (One pattern rule
# with several targets would mean "one recipe makes them all" to make, hence the macro.)
define aio_rules
$(1)/%.o: $(AIO_DIR)/%.c | $(DEPS_STAMP)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  CC    $$<  ($(notdir $(1)))")
	$$(Q)$$(CC) $$(AIO_CFLAGS) $(2) -c $$< -o $$@
$(1)/%.o: $(AIO_DIR)/%.S | $(DEPS_STAMP)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  AS    $$<  ($(notdir $(1)))")
	$$(Q)$$(CC) -g $$(AIO_SWITCH_CFLAGS) -c $$< -o $$@
endef
$(eval $(call aio_rules,$(BUILD)/aio/san,$(SAN_FLAGS)))
$(eval $(call aio_rules,$(BUILD)/aio/san-poll,$(SAN_FLAGS)))
# The optimised library is built with NDEBUG: the runtime's assert()s on its own invariants
# cost about 19 instructions a yield (89 -> 108, counted with callgrind), a fifth of it. The
# sanitized builds, which the tests use, keep them.
$(eval $(call aio_rules,$(BUILD)/aio/opt,$(OPT_FLAGS) -DNDEBUG))

# Built aside and renamed: other make runs (lessons, benchmark) may be linking the old one.
$(BUILD)/aio/%/libaio.a:
	@rm -f $@.tmp
	@$(if $(Q),echo "  AR    $@")
	$(Q)$(AR) rcs $@.tmp $^ && mv -f $@.tmp $@
$(BUILD)/aio/san/libaio.a: $(AIO_SAN_OBJS)
$(BUILD)/aio/opt/libaio.a: $(AIO_OPT_OBJS)
$(BUILD)/aio/san-poll/libaio.a: $(AIO_PSAN_OBJS)

ALL_TARGETS += $(BUILD)/aio/san/libaio.a $(BUILD)/aio/opt/libaio.a

# ---- tests: the same Criterion suites against the epoll and the poll build -------------------
# Two binaries a backend: the HTTP suite apart, because Criterion 2.4's runner leaks 48 bytes
# (LeakSanitizer then fails the run) when its suites start a server in some tests and not in
# others. They start a private delayd through harness/kit: run them from the repository root.
AIO_CORE_TESTS := test_tasks test_io test_debug test_sem
AIO_CORE_TESTS += test_group
# AIO_TRACE
AIO_CORE_TESTS += test_trace
# Compact tasks (AIO_TASK_COMPACT): a binary of their own, as HTTP's, because Criterion's
# runner leaks its 48 bytes again when this suite joins the core ones.
AIO_COMPACT_TESTS := test_compact
AIO_HTTP_TESTS := test_http
# lesson 06
AIO_CORE_TESTS += test_timeout
AIO_HTTP_TESTS += test_timeout_http
AIO_HTTP_TESTS += test_trace_http
AIO_TEST_CFLAGS = $(CFLAGS_BASE) $(SAN_FLAGS) $(AIO_INC) $(KIT_INC) \
                  $(shell $(PKG_CONFIG) --cflags criterion 2>/dev/null)
AIO_TEST_LIBS = -lcriterion $(KIT_LIBS) $(AIO_LIBS)
aio_test_objs = $(patsubst %,$(BUILD)/aio/tests.d/%.o,$(1))

$(BUILD)/aio/tests.d/%.o: $(AIO_DIR)/tests/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC    $<")
	$(Q)$(CC) $(AIO_TEST_CFLAGS) -c $< -o $@

# $(call aio_test_bin,BINARY,SUITES,LIBRARY[,LDFLAGS]). delayd is order-only: run, not linked.
define aio_test_bin
$(1): $(call aio_test_objs,$(2)) $(3) $(KIT_SAN_LIB) | $(DELAYD)
	@$$(if $$(Q),echo "  LINK  $$@")
	$$(Q)$$(CC) $$(SAN_LINK) $(4) $$^ -o $$@ $$(AIO_TEST_LIBS)
HARNESS_TESTS += $(1)
endef
# The HTTP suite counts curl_multi_socket_action(), curl_multi_perform() and curl_multi_wait()
# and makes one of them fail on demand (wrappers in test_http.c pass every other call through)
# to see which interface drives a client, and the runtime report a failure and end the
# transfers. It runs three times: on epoll (the first client of a loop in curl's poll), on
# epoll with AIO_HTTP_API=socket (api_socket.c) and on poll() (mark_poll_backend.c: the socket
# interface).
AIO_HTTP_WRAP := -Wl,--wrap=curl_multi_socket_action -Wl,--wrap=curl_multi_perform \
                 -Wl,--wrap=curl_multi_wait
$(eval $(call aio_test_bin,$(BUILD)/aio/tests,$(AIO_CORE_TESTS),$(BUILD)/aio/san/libaio.a))
# The default build's own backend is poll() too where there is no epoll (PORTABLE=1).
AIO_HTTP_MARK := $(if $(filter poll,$(AIO_BACKEND)),mark_poll_backend)
$(eval $(call aio_test_bin,$(BUILD)/aio/tests-http,$(AIO_HTTP_TESTS) $(AIO_HTTP_MARK),$(BUILD)/aio/san/libaio.a,$(AIO_HTTP_WRAP)))
$(eval $(call aio_test_bin,$(BUILD)/aio/tests-http-socket,$(AIO_HTTP_TESTS) api_socket $(AIO_HTTP_MARK),$(BUILD)/aio/san/libaio.a,$(AIO_HTTP_WRAP)))
$(eval $(call aio_test_bin,$(BUILD)/aio/tests-poll,$(AIO_CORE_TESTS),$(BUILD)/aio/san-poll/libaio.a))
$(eval $(call aio_test_bin,$(BUILD)/aio/tests-http-poll,$(AIO_HTTP_TESTS) mark_poll_backend,$(BUILD)/aio/san-poll/libaio.a,$(AIO_HTTP_WRAP)))
$(eval $(call aio_test_bin,$(BUILD)/aio/tests-compact,$(AIO_COMPACT_TESTS),$(BUILD)/aio/san/libaio.a))
$(eval $(call aio_test_bin,$(BUILD)/aio/tests-compact-poll,$(AIO_COMPACT_TESTS),$(BUILD)/aio/san-poll/libaio.a))
# The poll() builds' runs are make check-more's (make check-portable tests poll() too).
CHECK_MORE += $(BUILD)/aio/tests-poll $(BUILD)/aio/tests-http-poll $(BUILD)/aio/tests-compact-poll

AIO_TEST_OBJS := $(call aio_test_objs,$(AIO_CORE_TESTS) $(AIO_HTTP_TESTS) $(AIO_COMPACT_TESTS) \
                   api_socket mark_poll_backend)

# ---- valgrind: a plain program (no Criterion forks) over the optimised library --------------
$(BUILD)/aio/vgcheck: $(AIO_DIR)/tests/vgcheck.c $(BUILD)/aio/opt/libaio.a $(KIT_OPT_LIB) | $(DELAYD)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(CFLAGS_BASE) $(OPT_FLAGS) $(AIO_INC) $(KIT_INC) $^ -o $@ $(KIT_LIBS) $(AIO_LIBS)

check-aio-valgrind: $(BUILD)/aio/vgcheck
	valgrind --quiet --error-exitcode=1 --leak-check=full \
	    $(BUILD)/aio/vgcheck

HARNESS_CHECK_TARGETS += check-aio-valgrind
.PHONY: check-aio-valgrind

-include $(AIO_SAN_OBJS:.o=.d) $(AIO_OPT_OBJS:.o=.d) $(AIO_PSAN_OBJS:.o=.d) $(AIO_TEST_OBJS:.o=.d)
