# aio.mk: the aio runtime's make fragment (included by the top Makefile).
# Builds $(BUILD)/aio/{san,opt}/libaio.a, the runtime's tests, and the valgrind check.
# AIO_BACKEND=poll selects the poll() poller instead of epoll (the default on Linux).

AIO_DIR   := harness/aio
AIO_LIBS  := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl) -pthread
AIO_CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
AIO_INC   := -I$(AIO_DIR)

ifeq ($(shell uname -s),Linux)
AIO_BACKEND ?= epoll
else
AIO_BACKEND ?= poll
endif

AIO_COMMON_SRC := loop.c task.c stack.c switch.c threads.c http.c
ifeq ($(shell uname -m),x86_64)
AIO_ASM_SRC := switch_x86_64.S
endif

# $(call aio_objs,DIR,BACKEND): the object files of one build of the library.
aio_objs = $(patsubst %.c,$(1)/%.o,$(AIO_COMMON_SRC) backend_$(2).c) \
           $(patsubst %.S,$(1)/%.o,$(AIO_ASM_SRC))

AIO_SAN_OBJS  := $(call aio_objs,$(BUILD)/aio/san,$(AIO_BACKEND))
AIO_OPT_OBJS  := $(call aio_objs,$(BUILD)/aio/opt,$(AIO_BACKEND))
AIO_PSAN_OBJS := $(call aio_objs,$(BUILD)/aio/san-poll,poll)

AIO_CFLAGS := $(CFLAGS_BASE) $(AIO_INC) $(AIO_CURL_CFLAGS)

# $(call aio_rules,DIR,FLAGS): compile rules for one build directory. (One pattern rule
# with several targets would mean "one recipe makes them all" to make, hence the macro.)
define aio_rules
$(1)/%.o: $(AIO_DIR)/%.c | $(DEPS_STAMP)
	@mkdir -p $$(@D)
	$(CC) $(AIO_CFLAGS) $(2) -c $$< -o $$@
$(1)/%.o: $(AIO_DIR)/%.S | $(DEPS_STAMP)
	@mkdir -p $$(@D)
	$(CC) -g -c $$< -o $$@
endef
$(eval $(call aio_rules,$(BUILD)/aio/san,$(SAN_FLAGS)))
$(eval $(call aio_rules,$(BUILD)/aio/san-poll,$(SAN_FLAGS)))
$(eval $(call aio_rules,$(BUILD)/aio/opt,$(OPT_FLAGS)))

$(BUILD)/aio/san/libaio.a: $(AIO_SAN_OBJS)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/aio/opt/libaio.a: $(AIO_OPT_OBJS)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/aio/san-poll/libaio.a: $(AIO_PSAN_OBJS)
	@rm -f $@
	ar rcs $@ $^

ALL_TARGETS += $(BUILD)/aio/san/libaio.a $(BUILD)/aio/opt/libaio.a

-include $(AIO_SAN_OBJS:.o=.d) $(AIO_OPT_OBJS:.o=.d) $(AIO_PSAN_OBJS:.o=.d)
