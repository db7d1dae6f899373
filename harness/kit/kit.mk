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

# KIT_PROOF_WRAP: the links of a test binary that carries the end-of-test proof `make grade`
# checks (harness/kit/proof.c); it only passes the calls on outside grading.
KIT_PROOF_WRAP := $(foreach s,criterion_internal_test_setup criterion_internal_test_teardown \
                  criterion_send_assert,-Wl$(comma)--wrap=$(s))

# proof.o: the end-of-test proof the grader checks (harness/kit/proof.c); test binaries only.
$(KIT_SAN_LIB): $(BUILD)/kit/san/kit.o $(BUILD)/kit/san/proof.o
	$(Q)$(AR) rcs $@ $^

$(KIT_OPT_LIB): $(BUILD)/kit/opt/kit.o
	$(Q)$(AR) rcs $@ $^

ALL_TARGETS += $(KIT_SAN_LIB) $(KIT_OPT_LIB)
-include $(BUILD)/kit/san/kit.d $(BUILD)/kit/san/proof.d $(BUILD)/kit/opt/kit.d

# kit's own tests (harness/kit/tests), run by make check; the proof's runner, linked like a
# lesson's tests, is a program they start (kit_proof).
KIT_TEST_BIN := $(BUILD)/kit/tests
KIT_PROOF_RUNNER := $(BUILD)/kit/proof-runner
$(KIT_PROOF_RUNNER): harness/kit/tests/proof_runner.c $(KIT_SAN_LIB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC    $<  (san)")
	$(Q)$(CC) $(KIT_CFLAGS) -Iharness/kit $(SAN_LINK) $< $(KIT_SAN_LIB) -o $@ $(KIT_PROOF_WRAP) -lcriterion $(KIT_LIBS) -pthread
$(call compdb,harness/kit/tests/proof_runner.c,$$(CC) $$(KIT_CFLAGS) -Iharness/kit $$(SAN_FLAGS))
$(KIT_TEST_BIN): harness/kit/tests/test_kit.c $(KIT_SAN_LIB) $(KIT_PROOF_RUNNER) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC    $<  (san)")
	$(Q)$(CC) $(KIT_CFLAGS) -Iharness/kit $(SAN_LINK) $< $(KIT_SAN_LIB) -o $@ -lcriterion $(KIT_LIBS) -pthread
$(call compdb,harness/kit/tests/test_kit.c,$$(CC) $$(KIT_CFLAGS) -Iharness/kit $$(SAN_FLAGS))
HARNESS_TESTS += $(KIT_TEST_BIN)
