# kit: the helpers every lesson's tests and programs link (harness/kit/kit.h).
# Recursive (=) so pkg-config runs when a recipe needs it, after the dependencies are installed.
# KIT_LIBS is in every link of the kit, so it carries the user's LDFLAGS and LDLIBS.
KIT_CFLAGS = $(CFLAGS_BASE) $(shell $(PKG_CONFIG) --cflags libcurl jansson 2>/dev/null)
KIT_LIBS   = $(LDFLAGS) $(shell $(PKG_CONFIG) --libs libcurl jansson 2>/dev/null) $(LDLIBS)

$(BUILD)/kit/san/%.o: harness/kit/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC    $<  (san)")
	$(Q)$(CC) $(KIT_CFLAGS) $(SAN_FLAGS) -c $< -o $@
$(call compdb,harness/kit/kit.c harness/kit/proof.c,$$(CC) $$(KIT_CFLAGS) $$(SAN_FLAGS))

$(BUILD)/kit/opt/%.o: harness/kit/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC    $<  (opt)")
	$(Q)$(CC) $(KIT_CFLAGS) $(OPT_FLAGS) -c $< -o $@

# proof.o: the end-of-test proof the grader checks (harness/kit/proof.c); test binaries only.
$(KIT_SAN_LIB): $(BUILD)/kit/san/kit.o $(BUILD)/kit/san/proof.o
	$(Q)$(AR) rcs $@ $^

$(KIT_OPT_LIB): $(BUILD)/kit/opt/kit.o
	$(Q)$(AR) rcs $@ $^

ALL_TARGETS += $(KIT_SAN_LIB) $(KIT_OPT_LIB)
-include $(BUILD)/kit/san/kit.d $(BUILD)/kit/san/proof.d $(BUILD)/kit/opt/kit.d

# kit's own tests (harness/kit/tests), run by make check.
KIT_TEST_BIN := $(BUILD)/kit/tests
$(KIT_TEST_BIN): harness/kit/tests/test_kit.c $(KIT_SAN_LIB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC    $<  (san)")
	$(Q)$(CC) $(KIT_CFLAGS) -Iharness/kit $(SAN_LINK) $< $(KIT_SAN_LIB) -o $@ -lcriterion $(KIT_LIBS) -pthread
$(call compdb,harness/kit/tests/test_kit.c,$$(CC) $$(KIT_CFLAGS) -Iharness/kit $$(SAN_FLAGS))
HARNESS_TESTS += $(KIT_TEST_BIN)
