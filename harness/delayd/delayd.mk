# delayd, the kit's bundled HTTP test server (harness/delayd/README.md).
# Builds $(DELAYD) optimised, $(DELAYD_ASAN) (the same server with ASan+UBSan, for the
# robustness tests) and $(BUILD)/delayd/tests (Criterion, ASan+UBSan), which starts the real
# $(DELAYD) through harness/kit and $(DELAYD_ASAN) for its fuzz suite (run it from the
# repository root).

DELAYD_DIR   := harness/delayd
DELAYD_SRCS  := $(wildcard $(DELAYD_DIR)/*.c)
DELAYD_OBJS  := $(patsubst $(DELAYD_DIR)/%.c,$(BUILD)/delayd/%.o,$(DELAYD_SRCS))
DELAYD_TSRCS := $(wildcard $(DELAYD_DIR)/tests/*.c)
DELAYD_TOBJS := $(patsubst $(DELAYD_DIR)/tests/%.c,$(BUILD)/delayd/tests.d/%.o,$(DELAYD_TSRCS))
DELAYD_TEST  := $(BUILD)/delayd/tests
DELAYD_ASAN  := $(BUILD)/delayd/delayd-asan
DELAYD_AOBJS := $(patsubst $(DELAYD_DIR)/%.c,$(BUILD)/delayd/asan.d/%.o,$(DELAYD_SRCS))

# Recursive (=) so pkg-config runs only when a recipe needs it, after the deps are installed.
# The user's flags come last: in OPT_FLAGS and SAN_FLAGS (compile), LDFLAGS and LDLIBS (link).
DELAYD_CFLAGS  = $(CFLAGS_BASE) -pthread $(shell $(PKG_CONFIG) --cflags libmicrohttpd jansson) $(OPT_FLAGS)
DELAYD_LIBS    = $(LDFLAGS) $(shell $(PKG_CONFIG) --libs libmicrohttpd jansson) -pthread $(LDLIBS)
DELAYD_ACFLAGS = $(CFLAGS_BASE) -pthread $(shell $(PKG_CONFIG) --cflags libmicrohttpd jansson) $(SAN_FLAGS)
DELAYD_TCFLAGS = $(CFLAGS_BASE) $(KIT_INC) -I$(DELAYD_DIR) -pthread \
                 -DDELAYD_ASAN_BIN='"$(DELAYD_ASAN)"' \
                 $(shell $(PKG_CONFIG) --cflags criterion libcurl jansson) $(SAN_FLAGS)
DELAYD_TLIBS   = $(LDFLAGS) $(shell $(PKG_CONFIG) --libs criterion libcurl jansson) -pthread $(LDLIBS)

$(BUILD)/delayd/%.o: $(DELAYD_DIR)/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(DELAYD_CFLAGS) -c $< -o $@
$(call compdb,$(DELAYD_SRCS),$$(CC) $$(DELAYD_CFLAGS))

$(DELAYD): $(DELAYD_OBJS)
	@mkdir -p $(@D)
	$(CC) $(OPT_FLAGS) $(DELAYD_OBJS) -o $@ $(DELAYD_LIBS)

$(BUILD)/delayd/asan.d/%.o: $(DELAYD_DIR)/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(DELAYD_ACFLAGS) -c $< -o $@

$(DELAYD_ASAN): $(DELAYD_AOBJS)
	@mkdir -p $(@D)
	$(CC) $(SAN_LINK) $(DELAYD_AOBJS) -o $@ $(DELAYD_LIBS)

# The tests also compile content.c: they recompute the /flaky draws and /page links.
$(BUILD)/delayd/tests.d/%.o: $(DELAYD_DIR)/tests/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(DELAYD_TCFLAGS) -c $< -o $@
$(call compdb,$(DELAYD_TSRCS),$$(CC) $$(DELAYD_TCFLAGS))

$(BUILD)/delayd/tests.d/content.o: $(DELAYD_DIR)/content.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(DELAYD_TCFLAGS) -c $< -o $@

# Both servers are order-only: the tests run them but do not link them.
$(DELAYD_TEST): $(DELAYD_TOBJS) $(BUILD)/delayd/tests.d/content.o $(KIT_SAN_LIB) | $(DELAYD) $(DELAYD_ASAN)
	$(CC) $(SAN_LINK) $(DELAYD_TOBJS) $(BUILD)/delayd/tests.d/content.o $(KIT_SAN_LIB) \
	    -o $@ $(DELAYD_TLIBS)

HARNESS_TESTS += $(DELAYD_TEST)
ALL_TARGETS += $(DELAYD)

-include $(DELAYD_OBJS:.o=.d) $(DELAYD_AOBJS:.o=.d) $(DELAYD_TOBJS:.o=.d) \
         $(BUILD)/delayd/tests.d/content.d
