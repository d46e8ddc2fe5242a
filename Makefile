# enoki - HTTP and websocket gateway for nameko clusters.
#
#   make            build/enoki
#   make test       every test: unit (Check), the werkzeug oracle, the Python helper's tests,
#                   integration (real broker, real binary) and the browser test; it first installs
#                   what is missing and starts (or reuses) a local RabbitMQ
#   make check      the C suites (unit, oracle, integration) under ASan + UBSan (build/asan), the
#                   integration tests in two processes (time bounds x3)
#   make valgrind   the C suites under valgrind (build/valgrind), the integration tests in three
#                   processes (valgrind's enokis wait on the broker and on timers as much as they
#                   compute: on 2 cores the integration suite took 335 s in two, 275 s in three)
#   make format-check  fails when a C file is not as clang-format (.clang-format) writes it
#   make hostile    malformed, oversized and slow traffic against build/enoki for HOSTILE_SECONDS
#   make demo       install what is missing, start a broker, a demo service and enoki
#   make viewer     the docs page's OpenAPI viewer (swagger-ui-dist, pinned in docs/viewer) from npm
#                   into build/viewer
#   make format     clang-format the sources
#   make fuzz       libFuzzer over the parsers and decoders, FUZZ_SECONDS each (-j2: two at a time)
#   make fuzz-long  the long pass before a release: FUZZ_RUNS executions each, corpus merged back

BUILD ?= build
OPT ?= -O2 -g
PYTHON ?= /usr/bin/python3

PKGS := libmicrohttpd librabbitmq jansson libuv yaml-0.1 libwebsockets libssl libcrypto zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null | sed 's/-I/-isystem /g')
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null | sed 's/-I/-isystem /g')
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

WARNINGS := -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wcast-qual -Wwrite-strings -Wformat=2 -Wconversion -Wno-sign-conversion -fno-common
CFLAGS ?=
CFLAGS += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) $(WARNINGS) -I. $(PKG_CFLAGS) -MMD -MP
LDFLAGS ?=
LDLIBS += $(PKG_LIBS) -lm

ifeq ($(SANITIZER),1)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRCS := $(wildcard core/*.c routes/*.c)
GATEWAY_SRCS := $(wildcard gateway/*.c)
# gateway/ without main.c: linked into the unit tests and the fuzz harnesses too.
GATEWAY_LIB_SRCS := $(filter-out gateway/main.c,$(GATEWAY_SRCS))
UNIT_SRCS := $(wildcard tests/unit/*.c tests/unit/*/*.c)
UNIT_TEST_SRCS := $(wildcard tests/unit/*/test_*.c)

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
GATEWAY_OBJS := $(GATEWAY_SRCS:%.c=$(BUILD)/obj/%.o)
GATEWAY_LIB_OBJS := $(GATEWAY_LIB_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SUITES := $(BUILD)/obj/tests/unit/unit-suites.inc

ENOKI := $(BUILD)/enoki
UNIT := $(BUILD)/unit-tests

.PHONY: all deps test unit oracle python integration e2e check valgrind demo format clean bench-routes fuzz \
	hostile viewer
all: $(ENOKI)

$(ENOKI): $(LIB_OBJS) $(GATEWAY_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT): $(UNIT_OBJS) $(LIB_OBJS) $(GATEWAY_LIB_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

# The list of Suites, found in the test files: UNIT_SUITE(name) for each `Suite *name_suite(void)`.
$(UNIT_SUITES): $(UNIT_TEST_SRCS) Makefile
	@mkdir -p $(dir $@)
	@sed -n 's/^Suite \*\([a-z0-9_]*\)_suite(void)$$/UNIT_SUITE(\1)/p' $(UNIT_TEST_SRCS) > $@.tmp
	@mv $@.tmp $@

$(BUILD)/obj/tests/unit/%.o: tests/unit/%.c $(UNIT_SUITES)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -I$(BUILD)/obj/tests/unit -Wno-missing-prototypes -c -o $@ $<

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The test command the README and CI give: on a fresh Debian 12 machine it first installs what is
# missing and starts (or reuses) a local RabbitMQ, then builds and runs every test in a sub-make, so
# that pkg-config sees the freshly installed libraries. ENOKI_WRAPPER runs the binary under a tool.
test: deps
	$(MAKE) unit oracle python integration e2e

deps:
	scripts/install-deps.sh
	scripts/broker.sh

unit: $(UNIT)
	$(UNIT_WRAPPER) $(UNIT)

# enoki's route table against werkzeug 2.2 itself, over generated rules and paths.
ROUTE_PROBE := $(BUILD)/route-probe
$(ROUTE_PROBE): $(BUILD)/obj/tests/oracle/route_probe.o $(LIB_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

oracle: $(ROUTE_PROBE)
	$(PYTHON) tests/oracle/werkzeug_oracle.py --probe $(ROUTE_PROBE) --rounds $(ORACLE_ROUNDS)

ORACLE_ROUNDS ?= 300

# The Python helper for services (python/enoki_http.py), against Debian's werkzeug.
python:
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/python

# The browser client in Debian's Chromium (playwright-core from npm, pinned; no browser download).
# playwright-core (pinned) needs Node 20 or newer: with an older one the browser test is skipped,
# and says so.
e2e: $(ENOKI)
	@if [ "$$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then \
		echo "e2e: SKIPPED: the browser test needs Node >= 20, found $$(node --version)"; \
	else \
		cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error && \
		ENOKI_BIN=$(abspath $(ENOKI)) node --test --test-concurrency=1 *.test.mjs; \
	fi

# INTEGRATION_JOBS=N runs the integration tests in N processes (pytest-xdist), a file per
# process at a time: 3 by default, one more than the CI machine's cores (the tests wait on the
# broker and on timers as much as they compute), as make valgrind does; make check runs 2 beside
# it. INTEGRATION_JOBS= runs them one after the other.
# tests/integration/test_openapi.py validates the OpenAPI document with the pinned npm package of
# tests/openapi (Node >= 18), running `npm ci` there itself when its node_modules is missing.
INTEGRATION_JOBS ?= 3
integration: $(ENOKI) viewer
	ENOKI_BIN=$(abspath $(ENOKI)) GW_SYSTEM_TESTS=1 $(PYTHON) -m pytest -q -p no:cacheprovider \
		$(if $(INTEGRATION_JOBS),-n $(INTEGRATION_JOBS) --dist loadfile) tests/integration

# The suites that run enoki's C code; check and valgrind run these only (the Python helper's tests
# and the browser test do not change under a sanitizer: `make test` runs them once).
C_SUITES := unit oracle integration

# The unit tests run in one process (CK_FORK=no), as under valgrind: forked, every one of the 1,500
# checks ended in a LeakSanitizer scan of its own, 270 s of the suite's 280 (a leak is still found:
# the scan at the end sees whatever any test lost).
check:
	$(MAKE) BUILD=build/asan SANITIZER=1 OPT="-O1 -g" INTEGRATION_JOBS=2 ENOKI_TEST_SCALE=3 \
		UNIT_WRAPPER="env CK_FORK=no" \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1 $(C_SUITES)

VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --suppressions=$(abspath tests/valgrind.supp)
# -O1: valgrind's time follows the instructions run, and -O0 code runs about twice as many; -O1
# keeps the stacks readable and is what memcheck reports reliably on (no -O2 tricks).
valgrind:
	$(MAKE) BUILD=build/valgrind OPT="-O1 -g" \
		INTEGRATION_JOBS=3 UNIT_WRAPPER="env CK_FORK=no $(VALGRIND)" ENOKI_WRAPPER="$(VALGRIND)" \
		$(C_SUITES)

demo:
	./examples/demo.sh

# The docs page's viewer (GATEWAY.docs_dir): installed from npm with the versions docs/viewer's lock
# file pins (no install scripts run), and only the files the page loads, with the licence, copied to
# build/viewer. The repository holds none of them.
VIEWER_DIR := build/viewer
VIEWER_NPM := build/viewer-npm
viewer: $(VIEWER_DIR)/swagger-ui-bundle.js
$(VIEWER_DIR)/swagger-ui-bundle.js: docs/viewer/package.json docs/viewer/package-lock.json
	rm -rf $(VIEWER_NPM) $(VIEWER_DIR)
	mkdir -p $(VIEWER_NPM) $(VIEWER_DIR)
	cp docs/viewer/package.json docs/viewer/package-lock.json $(VIEWER_NPM)/
	cd $(VIEWER_NPM) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	cp $(addprefix $(VIEWER_NPM)/node_modules/swagger-ui-dist/,swagger-ui.css LICENSE NOTICE \
		swagger-ui-bundle.js) $(VIEWER_DIR)/

# The hostile-traffic harness (tests/hostile/hostile.py): batches of generated malformed, oversized
# and slow requests and websocket frames against build/enoki (started with the test peer on the
# local broker) for HOSTILE_SECONDS, each batch checked (/healthz within 100 ms, CPU back to idle,
# RSS back near its baseline, at most one answer per request). It goes on after a failing batch
# and exits non-zero if any failed; HOSTILE_SEED replays a run. `make test` runs a 20 s pass.
HOSTILE_SECONDS ?= 300
HOSTILE_SEED ?=
hostile: $(ENOKI)
	scripts/broker.sh
	$(PYTHON) tests/hostile/hostile.py --enoki $(abspath $(ENOKI)) --seconds $(HOSTILE_SECONDS) \
		--keep-going $(if $(HOSTILE_SEED),--seed $(HOSTILE_SEED))

FORMATTED := $(LIB_SRCS) $(GATEWAY_SRCS) $(UNIT_SRCS) $(wildcard core/*.h routes/*.h gateway/*.h \
	tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h)
format:
	clang-format -i $(FORMATTED)

.PHONY: format-check
format-check:
	clang-format --dry-run --Werror $(FORMATTED)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Micro-benchmark of route matching (not a test: run on demand).
bench-routes: $(LIB_OBJS)
	@mkdir -p $(BUILD)/bench
	$(CC) $(CFLAGS) -O2 $(LDFLAGS) -o $(BUILD)/bench/route_match bench/route_match.c $(LIB_OBJS) $(LDLIBS)
	$(BUILD)/bench/route_match

# The benchmark harness's tools (bench/README.md), built with -O2 and the project's warnings into
# $(BUILD)/bench; bench/run.sh builds them with this target and runs the measurements.
.PHONY: bench
bench: $(ENOKI) $(LIB_OBJS)
	@mkdir -p $(BUILD)/bench
	@for t in echo_backend rpc_ceiling mhd_ceiling ws_bench fanout_bench send_floor startup_time; do \
		echo "$(CC) ... -o $(BUILD)/bench/$$t bench/$$t.c"; \
		$(CC) $(CFLAGS) -O2 $(LDFLAGS) -o $(BUILD)/bench/$$t bench/$$t.c $(LDLIBS) || exit 1; \
	done
	$(CC) $(CFLAGS) -O2 $(LDFLAGS) -o $(BUILD)/bench/route_match bench/route_match.c $(LIB_OBJS) $(LDLIBS)
	$(CC) $(CFLAGS) -O2 $(LDFLAGS) -o $(BUILD)/bench/jwt_cost bench/jwt_cost.c \
		tests/unit/routes/jwt_signer.c $(LIB_OBJS) $(LDLIBS)

# Fuzzing with libFuzzer (Debian's clang): one harness per target in tests/fuzz/fuzz_<name>.c, built
# with the library into $(BUILD)/fuzz (objects apart from $(BUILD)/obj). Each runs FUZZ_SECONDS on a
# copy of its seeds (tests/fuzz/corpus/<name>; the copy grows, the committed seeds stay as they are)
# with its dictionary (tests/fuzz/<name>.dict) if there is one. Any crash, leak, sanitizer report or
# timeout fails the target; its input is kept in $(BUILD)/fuzz/artifacts/<name>/, the log in
# $(BUILD)/fuzz/logs/<name>.log. Replay one with: $(BUILD)/fuzz/fuzz_<name> <input file>.
# GW_RULE_SELFCHECK makes routes/rule_match.c check its guided part matching against the blind one.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_RSS_MB ?= 2048
FUZZ_TIMEOUT ?= 10
FUZZ_TARGETS := rules config http_call ws_frame reply amphora_reply h1 sniff jwt channels json \
	traceparent idempotency_key
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 $(WARNINGS) -I. \
	$(PKG_CFLAGS) -MMD -MP -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -DGW_RULE_SELFCHECK
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o) $(GATEWAY_LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BINS): $(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS) -lm

# One rule per harness, so that `make -j2 fuzz` runs two at a time (each libFuzzer run is one
# process on one core).
FUZZ_RUN_RULES := $(FUZZ_TARGETS:%=fuzz-run-%)
.PHONY: $(FUZZ_RUN_RULES)
fuzz: $(FUZZ_RUN_RULES)

$(FUZZ_RUN_RULES): fuzz-run-%: $(FUZZ_DIR)/fuzz_%
	@t=$*; mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t $(FUZZ_DIR)/logs; \
	cp tests/fuzz/corpus/$$t/* $(FUZZ_DIR)/corpus/$$t/; \
	dict=; if [ -f tests/fuzz/$$t.dict ]; then dict=-dict=tests/fuzz/$$t.dict; fi; \
	if UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=strict_string_checks=1 $(FUZZ_DIR)/fuzz_$$t $$dict \
		-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=$(FUZZ_RSS_MB) \
		-timeout=$(FUZZ_TIMEOUT) -print_final_stats=1 \
		-artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ $(FUZZ_DIR)/corpus/$$t \
		> $(FUZZ_DIR)/logs/$$t.log 2>&1; then \
		echo "fuzz: $$t: $$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' \
			$(FUZZ_DIR)/logs/$$t.log), corpus $$(ls $(FUZZ_DIR)/corpus/$$t | wc -l) inputs"; \
	else \
		tail -n 60 $(FUZZ_DIR)/logs/$$t.log; \
		echo "fuzz: $$t FAILED after $$(sed -n 's/^stat::number_of_executed_units: //p' \
			$(FUZZ_DIR)/logs/$$t.log) runs; see $(FUZZ_DIR)/logs/$$t.log"; \
		exit 1; \
	fi

# The long pass before a release: each harness runs a number of executions (FUZZ_RUNS sets them
# all, FUZZ_RUNS_<name> one; the defaults below: 10 million for the head parser and the websocket
# frame decoder, fewer for the slower or smaller rest), with the same build, sanitizer options,
# limits and dictionaries as `make fuzz`, on a working corpus that starts as a copy of the committed
# one ($(FUZZ_DIR)/long/<name>/corpus). h1's inputs are kept to 1 KiB (FUZZ_MAX_LEN_<name>; 0 is
# libFuzzer's default, 4 KiB): its harness parses each input some 200 times (prefixes x limits), so
# its speed falls with the length, and 1 KiB holds a browser's head with a body and every limit
# path (the harness derives small limits from the input). Then the working corpus is merged
# (-merge=1, or FUZZ_MERGE=set_cover_merge for a smaller set) into an empty directory, which
# replaces tests/fuzz/corpus/<name>/: the committed corpus keeps only inputs that add coverage, a
# committed seed that is kept keeps its name, the others are named by their SHA-1 as libFuzzer
# names them. A crash, leak, sanitizer report or timeout fails the target as in `make fuzz` and
# leaves that harness's committed corpus as it was. Each target's executions, seconds, exec/s and
# corpus size are printed, and its row (with date and commit) is kept in $(FUZZ_DIR)/long/<name>.row
# until that target runs again; $(FUZZ_DIR)/long-summary.txt is the markdown table of the rows of
# every harness. FUZZ_LONG_TARGETS picks some of the harnesses. On a shared machine run it niced:
#   nice -n 15 make fuzz-long [FUZZ_LONG_TARGETS=h1] [FUZZ_RUNS_h1=...]
FUZZ_LONG_TARGETS ?= $(FUZZ_TARGETS)
FUZZ_MERGE ?= merge
FUZZ_LONG_RUNS_h1 := 10000000
FUZZ_LONG_RUNS_sniff := 2000000
FUZZ_LONG_RUNS_ws_frame := 10000000
FUZZ_LONG_RUNS_config := 2000000
FUZZ_LONG_RUNS_reply := 2000000
FUZZ_LONG_RUNS_rules := 1000000
FUZZ_LONG_RUNS_http_call := 1000000
FUZZ_LONG_RUNS_jwt := 1000000
FUZZ_LONG_MAX_LEN_h1 := 1024
FUZZ_LONG_MAX_LEN_sniff := 1024
fuzz_long_runs = $(or $(FUZZ_RUNS_$(1)),$(FUZZ_RUNS),$(FUZZ_LONG_RUNS_$(1)),1000000)
fuzz_long_max_len = $(or $(FUZZ_MAX_LEN_$(1)),$(FUZZ_LONG_MAX_LEN_$(1)),0)
FUZZ_SUMMARY := $(FUZZ_DIR)/long-summary.txt

.PHONY: fuzz-long
fuzz-long: $(FUZZ_BINS)
	@mkdir -p $(FUZZ_DIR)/logs $(FUZZ_DIR)/long; \
	commit=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown); \
	git diff --quiet HEAD -- core routes tests/fuzz/*.c tests/fuzz/*.h 2>/dev/null || commit="$$commit+"; \
	failed=""; for spec in $(foreach t,$(FUZZ_LONG_TARGETS),$(t):$(call fuzz_long_runs,$(t)):$(call fuzz_long_max_len,$(t))); do \
		t=$${spec%%:*}; runs=$${spec#*:}; max_len=$${runs#*:}; runs=$${runs%%:*}; \
		work=$(FUZZ_DIR)/long/$$t; log=$(FUZZ_DIR)/logs/$$t.long.log; seeds=tests/fuzz/corpus/$$t; \
		rm -rf $$work $$work.row; mkdir -p $$work/corpus $$work/merged $(FUZZ_DIR)/artifacts/$$t; \
		cp $$seeds/* $$work/corpus/; before=$$(ls $$seeds | wc -l); \
		dict=; if [ -f tests/fuzz/$$t.dict ]; then dict=-dict=tests/fuzz/$$t.dict; fi; \
		echo "fuzz-long: $$t for $$runs runs (max_len $$max_len) from $$before committed inputs"; \
		start=$$(date +%s); day=$$(date -u +%Y-%m-%d); \
		if UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=strict_string_checks=1 $(FUZZ_DIR)/fuzz_$$t $$dict \
			-runs=$$runs -max_len=$$max_len -rss_limit_mb=$(FUZZ_RSS_MB) -timeout=$(FUZZ_TIMEOUT) \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ $$work/corpus \
			> $$log 2>&1; then ok=1; else ok=; fi; \
		secs=$$(( $$(date +%s) - start )); \
		done_runs=$$(sed -n 's/^stat::number_of_executed_units: //p' $$log); done_runs=$${done_runs:-0}; \
		rate=$$(( done_runs / (secs > 0 ? secs : 1) )); \
		step=fuzzing; if [ -n "$$ok" ]; then step=merging; fi; \
		if [ -n "$$ok" ] && UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=strict_string_checks=1 \
			$(FUZZ_DIR)/fuzz_$$t -$(FUZZ_MERGE)=1 -max_len=$$max_len -rss_limit_mb=$(FUZZ_RSS_MB) \
			-timeout=$(FUZZ_TIMEOUT) -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ \
			$$work/merged $$work/corpus >> $$log 2>&1; then \
			for f in $$seeds/*; do \
				h=$$(sha1sum < "$$f" | cut -d' ' -f1); \
				if [ -f $$work/merged/$$h ]; then mv $$work/merged/$$h "$$work/merged/$${f##*/}"; fi; \
			done; \
			rm -rf $$seeds && mkdir -p $$seeds && cp $$work/merged/* $$seeds/; \
			after=$$(ls $$seeds | wc -l); kb=$$(( ($$(cat $$seeds/* | wc -c) + 1023) / 1024 )); \
			echo "fuzz-long: $$t: $$done_runs runs in $$secs s ($$rate exec/s), working corpus" \
				"$$(ls $$work/corpus | wc -l) inputs, committed corpus $$before -> $$after inputs ($$kb KB)"; \
			result=ok; \
		else \
			tail -n 60 $$log; \
			echo "fuzz-long: $$t FAILED $$step after $$done_runs runs in $$secs s; see $$log and" \
				"$(FUZZ_DIR)/artifacts/$$t/; tests/fuzz/corpus/$$t is unchanged"; \
			after=$$before; kb=; result="FAILED $$step"; failed="$$failed $$t"; \
		fi; \
		echo "| $$t | $$done_runs | $$secs | $$rate | $$before | $$after | $$kb | $$max_len | $$day | $$commit | $$result |" \
			> $$work.row; \
	done; \
	{ echo "fuzz-long: the last run of each harness ($$(nproc) cores; max_len 0 is libFuzzer's default;" \
		"a commit ending in + had uncommitted changes to the fuzzed sources)"; echo; \
	  echo "| harness | executions | seconds | exec/s | corpus files before | after | after (KB) | max_len | date | commit | result |"; \
	  echo "|---|--:|--:|--:|--:|--:|--:|--:|---|---|---|"; \
	  for t in $(FUZZ_TARGETS); do cat $(FUZZ_DIR)/long/$$t.row 2>/dev/null; done; } > $(FUZZ_SUMMARY); \
	echo; cat $(FUZZ_SUMMARY); \
	if [ -n "$$failed" ]; then echo "fuzz-long: FAILED:$$failed"; exit 1; fi

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
