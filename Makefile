# aaPanel — build, run, check, bench, install.
# GNU make + pkg-config. `make help` lists the targets.

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
SHAREDIR   ?= $(PREFIX)/share/aapanel
SYSCONFDIR ?= /etc/aapanel
UNITDIR    ?= /lib/systemd/system

BUILD   := build
PORT    ?= 8080
CC      ?= cc

PKGS    := libconfig json-c sqlite3 libsystemd libmariadb libpq libargon2 liboath libqrencode libcrypto libcurl libnftables zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lfcgi
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wformat=2 -Wno-format-nonliteral -Werror
HARDEN  := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c17 -D_GNU_SOURCE -DAP_SHAREDIR=\"$(SHAREDIR)\" -DAP_SYSCONFDIR=\"$(SYSCONFDIR)\" $(WARN) $(CFLAGS) -Iinclude $(PKG_CFLAGS) -MMD -MP
LDFLAGS_ALL := -pie -Wl,-z,relro,-z,now $(LDFLAGS)

ifeq ($(SANITIZE),1)
ALL_CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -O1
LDFLAGS_ALL += -fsanitize=address,undefined
else
ALL_CFLAGS  += $(HARDEN)
endif

# src/<layer>/: core, db, config, auth, web, pages, cli (docs/development.md).
LIB_SRC  := $(filter-out src/cli/main.c src/helper/%,$(wildcard src/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/src/cli/main.o
LIB      := $(BUILD)/libaapanel.a
BIN      := $(BUILD)/aapanel
BARE     := $(BUILD)/bench-bare
DBBENCH  := $(BUILD)/bench-db

UNIT_SRC := $(wildcard tests/unit/check_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
INTEG    := $(sort $(wildcard tests/integration/t_*.sh))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay_%)

# Quiet unless V=1: one line per file instead of the whole command.
ifeq ($(V),1)
Q :=
quiet = @true
else
Q := @
quiet = @printf '  %-6s %s\n' $(1) $(2)
endif

# Rebuild everything when the flags change (e.g. SANITIZE=1 ↔ 0).
FLAGS_STAMP := $(BUILD)/.flags
$(shell mkdir -p $(BUILD) && echo '$(ALL_CFLAGS) $(LDFLAGS_ALL)' | cmp -s - $(FLAGS_STAMP) || echo '$(ALL_CFLAGS) $(LDFLAGS_ALL)' > $(FLAGS_STAMP))

.PHONY: all deps deps-run run check lint unit integration bench install uninstall clean help fmt fuzz valgrind

all: $(BIN) $(BARE) $(DBBENCH)

help:
	@echo "make            build $(BIN)"
	@echo "make run        the whole panel on http://127.0.0.1:$(PORT) (PORT= overrides)"
	@echo "make check      every unit and integration test (SANITIZE=1 for ASan+UBSan)"
	@echo "make unit       unit tests only;  make integration  integration tests only"
	@echo "make lint       layering of src/, forbidden calls, complete translations (part of make check)"
	@echo "make bench      wrk benchmark: static file vs bare libfcgi vs templated page"
	@echo "make install    install under PREFIX=$(PREFIX) (DESTDIR honoured)"

deps:
	@scripts/install-deps.sh --check >/dev/null 2>&1 || scripts/install-deps.sh

# make run needs only what running needs (the test toolchain is for make check).
deps-run:
	@scripts/install-deps.sh --run --check >/dev/null 2>&1 || scripts/install-deps.sh --run

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(call quiet,AR,$@)
	$(Q)ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(LIB)
	$(call quiet,LD,$@)
	$(Q)$(CC) -o $@ $(MAIN_OBJ) $(LIB) $(LDFLAGS_ALL) $(PKG_LIBS) -lm

$(BARE): $(BUILD)/obj/bench/bare.o
	$(call quiet,LD,$@)
	$(Q)$(CC) -o $@ $^ $(LDFLAGS_ALL) -lfcgi

$(BUILD)/bench-metrics-growth: $(BUILD)/obj/bench/metrics_growth.o $(LIB)
	$(call quiet,LD,$@)
	$(Q)$(CC) -o $@ $< $(LIB) $(LDFLAGS_ALL) $(PKG_LIBS) -lm

$(DBBENCH): $(BUILD)/obj/bench/dbbench.o $(LIB)
	$(call quiet,LD,$@)
	$(Q)$(CC) -o $@ $< $(LIB) $(LDFLAGS_ALL) $(PKG_LIBS) -lm

$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(LIB) $(LDFLAGS_ALL) $(PKG_LIBS) $(CHECK_LIBS) -lm

# Two at a time (tests/unit/run.sh), each one's output whole when it ends.
unit: $(UNIT_BIN) $(REPLAY_BIN)
	@CK_FORK=yes AAPANEL_SRCDIR=$(CURDIR) tests/unit/run.sh $(UNIT_BIN) \
		$(foreach n,$(FUZZ_NAMES),$(BUILD)/fuzz/replay_$(n)=tests/fuzz/corpus/$(n))

# Fuzz corpora replayed without libFuzzer (gcc, sanitizers when SANITIZE=1).
$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIB) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< tests/fuzz/replay.c $(LIB) $(LDFLAGS_ALL) $(PKG_LIBS) -lm

# make fuzz [FUZZ_SECONDS=60]: libFuzzer with clang on every target; new
# crashes land in tests/fuzz/corpus/<name>/ so they are replayed from then on.
FUZZ_SECONDS ?= 60
fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang: apt-get install clang libclang-rt-14-dev"; exit 1; }
	@mkdir -p $(BUILD)/libfuzzer
	@for n in $(FUZZ_NAMES); do \
		clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude $(PKG_CFLAGS) \
			-o $(BUILD)/libfuzzer/fuzz_$$n tests/fuzz/fuzz_$$n.c $(LIB_SRC) $(PKG_LIBS) -lm || exit 1; \
		$(BUILD)/libfuzzer/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=tests/fuzz/corpus/$$n/crash- \
			tests/fuzz/corpus/$$n || exit 1; \
	done

$(BUILD)/tests/notify_listen: tests/integration/notify_listen.c
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS_ALL)

integration: all $(BUILD)/tests/notify_listen
	@AAPANEL_SRCDIR=$(CURDIR) tests/integration/run.sh $(INTEG)

# The architecture, checked: layering of src/ and no program started by a shell.
lint: all
	@scripts/check-layers.sh $(BUILD)/obj
	@scripts/check-forbidden.sh
	@scripts/check-msgids.sh

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(REPLAY_BIN) $(BUILD)/tests/notify_listen
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

run: deps-run
	@$(MAKE) --no-print-directory all
	@PORT=$(PORT) scripts/dev-run.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench-metrics-growth
	@bench/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(SYSCONFDIR)/profiles \
		$(DESTDIR)$(SHAREDIR)/nginx $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/aapanel
	cp -R templates static po sql $(DESTDIR)$(SHAREDIR)/
	install -m 0644 conf/nginx/*.conf conf/nginx/*.conf.in conf/nginx/fastcgi_params $(DESTDIR)$(SHAREDIR)/nginx/
	install -d $(DESTDIR)$(SHAREDIR)/scripts
	install -m 0755 scripts/setup-https.sh scripts/renew-hook.sh $(DESTDIR)$(SHAREDIR)/scripts/
	@# An operator's configuration is never overwritten by an upgrade.
	[ -e $(DESTDIR)$(SYSCONFDIR)/aapanel.cfg ] || install -m 0640 conf/aapanel.cfg $(DESTDIR)$(SYSCONFDIR)/aapanel.cfg
	for f in conf/profiles/*.cfg; do \
		[ -e $(DESTDIR)$(SYSCONFDIR)/profiles/$$(basename $$f) ] || install -m 0640 $$f $(DESTDIR)$(SYSCONFDIR)/profiles/; \
	done
	for u in conf/systemd/*; do [ -f "$$u" ] && install -m 0644 "$$u" $(DESTDIR)$(UNITDIR)/ || true; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/aapanel
	rm -rf $(DESTDIR)$(SHAREDIR)

fmt:
	clang-format -i $(wildcard src/*/*.c src/*/*.h include/aapanel/*.h tests/unit/*.c bench/*.c)

clean:
	rm -rf $(BUILD)

include mk/helper.mk
include mk/quality.mk

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
