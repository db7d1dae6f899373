# kit: the helpers every lesson's tests and programs link (harness/kit/kit.h).
# Recursive (=) so pkg-config runs when a recipe needs it, after the dependencies are installed.
# KIT_LIBS is in every link of the kit, so it carries the user's LDFLAGS and LDLIBS.
KIT_CFLAGS = $(CFLAGS_BASE) $(shell $(PKG_CONFIG) --cflags libcurl jansson 2>/dev/null)
KIT_LIBS   = $(LDFLAGS) $(shell $(PKG_CONFIG) --libs libcurl jansson 2>/dev/null) $(LDLIBS)

$(BUILD)/kit/san/%.o: harness/kit/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC    $<  (san)")
	$(Q)$(CC) $(KIT_CFLAGS) $(SAN_FLAGS) -c $< -o $@
$(call compdb,harness/kit/kit.c,$$(CC) $$(KIT_CFLAGS) $$(SAN_FLAGS))

$(BUILD)/kit/opt/%.o: harness/kit/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC    $<  (opt)")
	$(Q)$(CC) $(KIT_CFLAGS) $(OPT_FLAGS) -c $< -o $@

$(KIT_SAN_LIB): $(BUILD)/kit/san/kit.o
	$(Q)$(AR) rcs $@ $^

$(KIT_OPT_LIB): $(BUILD)/kit/opt/kit.o
	$(Q)$(AR) rcs $@ $^

ALL_TARGETS += $(KIT_SAN_LIB) $(KIT_OPT_LIB)
-include $(BUILD)/kit/san/kit.d $(BUILD)/kit/opt/kit.d
