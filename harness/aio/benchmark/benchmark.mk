# benchmark.mk: `make benchmark` measures the aio runtime against asyncio/aiohttp (and a plain
# curl_multi loop) and draws plots/benchmark.png; `make check-benchmark` is its quick self-test.

BENCHMARK_DIR   := harness/aio/benchmark
BENCHMARK_BUILD := $(BUILD)/benchmark
BENCHMARK_BINS  := $(BENCHMARK_BUILD)/bench_aio $(BENCHMARK_BUILD)/bench_curl \
                   $(BENCHMARK_BUILD)/bench_epoll
BENCHMARK_CURL  = $(shell $(PKG_CONFIG) --cflags --libs libcurl 2>/dev/null || echo -lcurl)

# Every program reads its clocks through kit (harness/kit/kit.h), like the lessons' programs.
# The aio side links the optimised runtime; AIO_LIBS (from harness/aio/aio.mk) names what the
# runtime itself needs (libcurl, pthread).
$(BENCHMARK_BUILD)/bench_aio: $(BENCHMARK_DIR)/bench_aio.c $(BUILD)/aio/opt/libaio.a $(KIT_OPT_LIB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(OPT_FLAGS) $(KIT_INC) $(AIO_INC) $< -o $@ $(BUILD)/aio/opt/libaio.a $(KIT_OPT_LIB) $(AIO_LIBS) $(KIT_LIBS)

$(BENCHMARK_BUILD)/bench_curl: $(BENCHMARK_DIR)/bench_curl.c $(KIT_OPT_LIB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(OPT_FLAGS) $(KIT_INC) $< -o $@ $(KIT_OPT_LIB) $(BENCHMARK_CURL) $(KIT_LIBS)

$(BENCHMARK_BUILD)/bench_epoll: $(BENCHMARK_DIR)/bench_epoll.c $(KIT_OPT_LIB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(OPT_FLAGS) $(KIT_INC) $< -o $@ $(KIT_OPT_LIB) $(KIT_LIBS)

-include $(BENCHMARK_BINS:=.d)
$(call compdb,$(BENCHMARK_DIR)/bench_aio.c,$$(CC) $$(CFLAGS_BASE) $$(OPT_FLAGS) $$(KIT_INC) $$(AIO_INC))
$(call compdb,$(BENCHMARK_DIR)/bench_curl.c $(BENCHMARK_DIR)/bench_epoll.c,$$(CC) $$(CFLAGS_BASE) $$(OPT_FLAGS) $$(KIT_INC))

# ONLY=name[,name] runs some of the benchmarks; the CSV keeps the other rows.
benchmark: $(BENCHMARK_BINS) $(DELAYD)
	@$(BENCHMARK_DIR)/run.sh --bin $(BENCHMARK_BUILD) --delayd $(DELAYD) --python $(PYTHON) --out plots \
	    $(if $(ONLY),--only $(ONLY))

# Tiny sizes, one run each, into build/: checks the CSV's shape and the chart, never a speed.
check-benchmark: $(BENCHMARK_BINS) $(DELAYD)
	@$(BENCHMARK_DIR)/run.sh --quick --bin $(BENCHMARK_BUILD) --delayd $(DELAYD) --python $(PYTHON) \
	    --out $(BENCHMARK_BUILD)/check
	@$(BENCHMARK_DIR)/check-output.sh $(BENCHMARK_BUILD)/check

ALL_TARGETS += $(BENCHMARK_BINS)
HARNESS_CHECK_TARGETS += check-benchmark
.PHONY: benchmark check-benchmark
