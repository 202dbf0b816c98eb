# mk/quality.mk — the quality gates beside `make check`, included by the
# Makefile (it uses its BUILD, UNIT_BIN, REPLAY_BIN, INTEG, LIB_SRC, ...).
# docs/development.md, "Quality gates", says what each finds and how long it
# takes.
#
#   make valgrind          every unit suite and fuzz-corpus replay under
#                          valgrind memcheck (SQLite; no DB server needed)
#   make coverage          gcov build in build-cov/, unit + integration tests,
#                          line and branch coverage per file and per layer
#   make analyze           gcc -fanalyzer, clang's analyzer (scan-build) and
#                          flawfinder; fails on a finding not in the baseline
#   make analyze-baseline  accept today's findings: rewrite the baseline

.PHONY: valgrind coverage cov-build analyze analyze-baseline

# ---------------------------------------------------------------- valgrind
# CK_FORK=no: each suite's checks run in the process valgrind watches (with
# fork mode every check is a child whose leaks hide behind the runner's).
# AAPANEL_TEST_DSN is unset: check_db runs against SQLite, like `make unit`
# without a DB server. AAPANEL_TEST_SLOWDOWN scales the few timing bounds
# (memcheck runs code some 50 times slower). One log per process in
# $(BUILD)/valgrind/ (children forked by a suite log on their own).
VALGRIND          ?= valgrind
VALGRIND_SLOWDOWN ?= 50
VALGRIND_EXTRA    ?=
VALGRIND_FLAGS    := --tool=memcheck --error-exitcode=1 --leak-check=full \
                     --show-leak-kinds=definite,indirect,possible \
                     --errors-for-leak-kinds=definite,indirect,possible \
                     --suppressions=$(CURDIR)/tests/valgrind.supp --num-callers=30
VG_DIR            := $(BUILD)/valgrind

valgrind: $(UNIT_BIN) $(REPLAY_BIN)
	@if [ "$(SANITIZE)" = 1 ]; then echo "make valgrind: not with SANITIZE=1 (ASan and memcheck exclude each other)"; exit 2; fi
	@command -v $(VALGRIND) >/dev/null || { echo "make valgrind needs valgrind: scripts/install-deps.sh"; exit 2; }
	@rm -rf $(VG_DIR) && mkdir -p $(VG_DIR)
	@pass=0; fail=0; failed=""; t0=$$(date +%s); \
	run() { \
		n=$$1; shift; s=$$(date +%s); \
		if env -u AAPANEL_TEST_DSN -u AAPANEL_TEST_DB_PASSWORD_FILE CK_FORK=no \
			AAPANEL_TEST_SLOWDOWN=$(VALGRIND_SLOWDOWN) AAPANEL_SRCDIR=$(CURDIR) \
			$(VALGRIND) $(VALGRIND_FLAGS) $(VALGRIND_EXTRA) --log-file=$(VG_DIR)/$$n.%p.log \
			"$$@" > $(VG_DIR)/$$n.out 2>&1; then \
			pass=$$((pass + 1)); printf '  %-22s ok    %4d s\n' $$n $$(($$(date +%s) - s)); \
		else \
			fail=$$((fail + 1)); failed="$$failed $$n"; \
			printf '  %-22s FAIL  %4d s\n' $$n $$(($$(date +%s) - s)); \
			grep -v '^[0-9]\{4\}-' $(VG_DIR)/$$n.out | tail -n 20; \
			for l in $(VG_DIR)/$$n.*.log; do \
				grep -q 'ERROR SUMMARY: [1-9]' "$$l" && { echo "--- $$l"; head -n 80 "$$l"; }; \
			done; \
		fi; \
	}; \
	for t in $(UNIT_BIN); do run $$(basename $$t) $$t; done; \
	for n in $(FUZZ_NAMES); do run replay_$$n $(BUILD)/fuzz/replay_$$n tests/fuzz/corpus/$$n; done; \
	echo "valgrind: $$pass passed, $$fail failed ($$(($$(date +%s) - t0)) s; logs in $(VG_DIR)/)"; \
	[ $$fail -eq 0 ] || { echo "failed:$$failed"; exit 1; }

# ---------------------------------------------------------------- coverage
# A second build tree, build-cov/, built from scratch with gcov
# instrumentation each time: build/ is not touched. _exit() is wrapped
# (tests/coverage/exit_dump.c) so that the pool's workers, which end with
# _exit(), write their counters too. The unit suites
# run as in `make unit`; the integration tests run against a copy of the
# checkout whose build/ is a copy of build-cov/ (tests/coverage/integration.sh
# says why and how). scripts/coverage-report.sh prints the table and writes
# build-cov/coverage/ (HTML, Cobertura XML, JSON and Markdown summaries).
# make coverage COV_INTEG="tests/integration/t_pool.sh ..." runs fewer tests.
COV_BUILD   := build-cov
COV_WRAP    := $(CURDIR)/$(COV_BUILD)/exit_dump.o
COV_CFLAGS  := -O0 -g --coverage
COV_LDFLAGS := --coverage -Wl,--wrap=_exit $(COV_WRAP)
COV_VARS    := BUILD=$(COV_BUILD) SANITIZE=0 CFLAGS='$(COV_CFLAGS)' LDFLAGS='$(COV_LDFLAGS)'
COV_INTEG   ?= $(INTEG)

coverage: deps
	@if [ "$(BUILD)" = "$(COV_BUILD)" ]; then echo "make coverage: run it from the top, without BUILD="; exit 2; fi
	@# From scratch: counters and notes must come from one compile.
	@t0=$$(date +%s); rm -rf $(COV_BUILD) && mkdir -p $(COV_BUILD) && \
	$(CC) -std=c17 -O0 -g -Wall -Wextra -Werror -c -o $(COV_WRAP) tests/coverage/exit_dump.c && \
	$(MAKE) --no-print-directory $(COV_VARS) cov-build && \
	find $(COV_BUILD) -name '*.gcda' -delete && \
	echo "coverage: unit suites" && \
	$(MAKE) --no-print-directory $(COV_VARS) unit && \
	echo "coverage: integration tests" && \
	CFLAGS='$(COV_CFLAGS)' LDFLAGS='$(COV_LDFLAGS)' tests/coverage/integration.sh $(COV_BUILD) $(COV_INTEG) && \
	scripts/coverage-report.sh $(COV_BUILD) && \
	echo "coverage: $$(($$(date +%s) - t0)) s"

# In the sub-make (BUILD=build-cov): everything the tests run.
cov-build: all $(UNIT_BIN) $(REPLAY_BIN) $(BUILD)/tests/notify_listen

# ---------------------------------------------------------------- analyze
# scripts/analyze.py runs the three analysers on src/ with the build's own
# flags and compares the normalised findings (tool, file, function, check)
# with the baseline. Reports in build-analyze/ (findings.txt: all, new.txt:
# those not in the baseline); build/ is not touched.
ANALYZE_DIR       := build-analyze
ANALYSIS_BASELINE := tests/analysis-baseline.txt
ANALYZE_ENV = ANALYZE_CFLAGS='$(filter-out -MMD -MP -Werror,$(ALL_CFLAGS))' \
              ANALYZE_SRC='$(LIB_SRC) src/cli/main.c' ANALYZE_DIR=$(ANALYZE_DIR) \
              ANALYZE_BASELINE=$(ANALYSIS_BASELINE) CC='$(CC)' \
              ANALYZE_SCAN='$(patsubst $(BUILD)/%,@BUILD@/%,$(LIB) $(MAIN_OBJ))'

analyze:
	@$(ANALYZE_ENV) scripts/analyze.py check

analyze-baseline:
	@$(ANALYZE_ENV) scripts/analyze.py baseline
