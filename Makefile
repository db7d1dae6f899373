# The kit's one entry point. `make` with no goal prints the course map.
# (work in progress: the shared variables below are the contract for harness/*/*.mk)

BUILD      := build
CC         ?= cc
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -MMD -MP
SAN_FLAGS  := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT_FLAGS  := -O2
KIT_INC    := -Iharness/kit
KIT_SAN_LIB := $(BUILD)/kit/libkit-san.a
KIT_OPT_LIB := $(BUILD)/kit/libkit-opt.a
DELAYD     := $(BUILD)/bin/delayd
DEPS_STAMP := $(BUILD)/.deps-ok

HARNESS_TESTS :=
HARNESS_CHECK_TARGETS :=
ALL_TARGETS :=

.DEFAULT_GOAL := help
help:
	@echo "work in progress"

$(DEPS_STAMP):
	@mkdir -p $(@D) && touch $@

-include harness/kit/kit.mk
-include harness/delayd/delayd.mk
-include harness/aio/aio.mk

all: $(ALL_TARGETS)
.PHONY: help all
