# kit: the helpers every lesson's tests and programs link (harness/kit/kit.h).
# Recursive (=) so pkg-config runs when a recipe needs it, after harness/deps.sh has run.
KIT_CFLAGS = $(CFLAGS_BASE) $(shell pkg-config --cflags libcurl jansson 2>/dev/null)
KIT_LIBS   = $(shell pkg-config --libs libcurl jansson 2>/dev/null)

$(BUILD)/kit/san/%.o: harness/kit/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(KIT_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/kit/opt/%.o: harness/kit/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(KIT_CFLAGS) $(OPT_FLAGS) -c $< -o $@

$(KIT_SAN_LIB): $(BUILD)/kit/san/kit.o
	$(AR) rcs $@ $^

$(KIT_OPT_LIB): $(BUILD)/kit/opt/kit.o
	$(AR) rcs $@ $^

ALL_TARGETS += $(KIT_SAN_LIB) $(KIT_OPT_LIB)
-include $(BUILD)/kit/san/kit.d $(BUILD)/kit/opt/kit.d

# kit's own tests (harness/kit/tests), run by make check.
KIT_TEST_BIN := $(BUILD)/kit/tests
$(KIT_TEST_BIN): harness/kit/tests/test_kit.c $(KIT_SAN_LIB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(KIT_CFLAGS) -Iharness/kit $(SAN_FLAGS) $< $(KIT_SAN_LIB) -o $@ -lcriterion $(KIT_LIBS) -pthread
HARNESS_TESTS += $(KIT_TEST_BIN)
