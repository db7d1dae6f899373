# benchmark.mk: `make benchmark` measures the aio runtime against its peers (asyncio/aiohttp, Go,
# Node.js; for HTTP also libcurl's two loops with no runtime and a raw epoll client) and draws
# plots/benchmark.png; `make check-benchmark` is its quick self-test.

BENCHMARK_DIR   := harness/aio/benchmark
BENCHMARK_BUILD := $(BUILD)/benchmark
BENCHMARK_BINS  := $(BENCHMARK_BUILD)/bench_aio $(BENCHMARK_BUILD)/bench_curl \
                   $(BENCHMARK_BUILD)/bench_epoll
BENCHMARK_CURL  = $(shell $(PKG_CONFIG) --cflags --libs libcurl 2>/dev/null || echo -lcurl)
# The peers' tools (Debian's golang-go and nodejs): installed with the benchmark goals' own stamp
# when root can (harness/course/deps.sh, KIT_DEPS_BENCHMARK=1), never for other goals. A peer
# whose tool is missing is left out of the run with one line (run.sh).
GO              ?= go
NODE            ?= node
BENCHMARK_DEPS_STAMP := $(BUILD)/.deps-ok-benchmark
BENCHMARK_GO    := $(BENCHMARK_BUILD)/bench_go
# Go writes its build cache and module folder under BUILD, never in $HOME; no module is
# fetched (GOPROXY=off: bench_go uses the standard library only, built in GOPATH mode).
BENCHMARK_GOENV  = GOCACHE=$(abspath $(BUILD))/go/cache GOPATH=$(abspath $(BUILD))/go/path \
                   GOFLAGS= GO111MODULE=off GOPROXY=off GOENV=off

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

$(BENCHMARK_DEPS_STAMP): harness/course/deps.sh | $(DEPS_STAMP)
	@CC='$(CC)' KIT_DEPS_BENCHMARK=1 harness/course/deps.sh
	@mkdir -p $(@D) && touch $@

# Built when the go command is here (after the stamp, which may have installed it); else not,
# so the next run tries again, and run.sh says the Go column is left out.
$(BENCHMARK_GO): $(BENCHMARK_DIR)/bench_go.go | $(BENCHMARK_DEPS_STAMP)
	@if command -v $(GO) >/dev/null 2>&1; then \
	    mkdir -p $(@D) && $(BENCHMARK_GOENV) $(GO) build -o $@ $<; \
	else rm -f $@; fi

-include $(BENCHMARK_BINS:=.d)
$(call compdb,$(BENCHMARK_DIR)/bench_aio.c,$$(CC) $$(CFLAGS_BASE) $$(OPT_FLAGS) $$(KIT_INC) $$(AIO_INC))
$(call compdb,$(BENCHMARK_DIR)/bench_curl.c $(BENCHMARK_DIR)/bench_epoll.c,$$(CC) $$(CFLAGS_BASE) $$(OPT_FLAGS) $$(KIT_INC))

# ONLY=name[,name] runs some of the benchmarks; the CSV keeps the other rows.
benchmark: $(BENCHMARK_BINS) $(BENCHMARK_GO) $(DELAYD)
	@$(BENCHMARK_DIR)/run.sh --bin $(BENCHMARK_BUILD) --delayd $(DELAYD) --python $(PYTHON) \
	    --go $(GO) --node $(NODE) --out plots $(if $(ONLY),--only $(ONLY))

# Tiny sizes, one run each, into build/: checks the CSV's shape and the chart, never a speed.
check-benchmark: $(BENCHMARK_BINS) $(BENCHMARK_GO) $(DELAYD)
	@$(BENCHMARK_DIR)/run.sh --quick --bin $(BENCHMARK_BUILD) --delayd $(DELAYD) --python $(PYTHON) \
	    --go $(GO) --node $(NODE) --out $(BENCHMARK_BUILD)/check
	@$(BENCHMARK_DIR)/check-output.sh $(BENCHMARK_BUILD)/check

ALL_TARGETS += $(BENCHMARK_BINS)
HARNESS_CHECK_TARGETS += check-benchmark
CHECK_MORE += check-benchmark
.PHONY: benchmark check-benchmark
