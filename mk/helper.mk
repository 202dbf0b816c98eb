# mk/helper.mk — aapanel-helper, the privileged helper (docs/helper.md).
# Included by the Makefile. A separate binary from src/helper/*.c, linked
# with only the modules below it; none of src/helper/ goes into $(LIB), and
# none of web, pages, auth or the database drivers goes into the helper.

SBINDIR ?= $(PREFIX)/sbin

HELPER_SRC  := $(wildcard src/helper/*.c)
HELPER_OBJ  := $(HELPER_SRC:%.c=$(BUILD)/obj/%.o)
HELPER_MAIN := $(BUILD)/obj/src/helper/main.o
HELPER_MODS := $(filter-out $(HELPER_MAIN),$(HELPER_OBJ))
# What the helper stands on: base utilities, field validation (route.c, and
# req.c for the method names route.c prints), the configuration and the one
# DSN parser the configuration checks db.dsn with (a parser, no driver),
# the one problem type (core/problem.c) its protocol sends, and the origin
# parser (core/weburl.c) that checks panel.origins, and for the websites
# the template engine (tpl.c, uagent.c for its filters), the line diff
# (textdiff.c) and the strict checks (sitecheck.c), and the services' unit
# names (unitname.c).
HELPER_BASE := $(addprefix $(BUILD)/obj/src/,core/common.o core/arena.o core/log.o \
	core/netaddr.o core/problem.o core/req.o core/route.o core/helper_client.o core/weburl.o \
	core/tpl.o core/uagent.o core/textdiff.o core/sitecheck.o core/certcheck.o core/cron.o core/taskcheck.o core/unitname.o core/fwrules.o core/tcplisten.o core/backupcheck.o config/config.o \
	config/listenconf.o db/dsn.o)
# The database servers (ops_dbs.c) are reached through the project's own DB
# layer and its drivers, with the names' checks (core/dbnames.c).
HELPER_BASE += $(addprefix $(BUILD)/obj/src/,core/dbnames.o db/db.o db/db_text.o db/db_mysql.o \
	db/db_pgsql.o db/db_sqlite.o)
HELPER_LIBS := $(shell pkg-config --libs json-c libconfig libsystemd libcrypto libmariadb libpq sqlite3 libarchive libnftables zlib 2>/dev/null) -lm
HELPER      := $(BUILD)/aapanel-helper
HELPER_RTT  := $(BUILD)/bench-helper-rtt
# Unit suites of the helper's own modules, linked with them.
HELPER_UNIT := $(addprefix $(BUILD)/tests/,check_spawn check_sandbox check_helper_proto check_sitefs check_cert_renewals check_dbdump check_bkprogress)

.PHONY: install-helper uninstall-helper

all: $(HELPER) $(HELPER_RTT)

$(HELPER): $(HELPER_OBJ) $(HELPER_BASE)
	$(call quiet,LD,$@)
	$(Q)$(CC) -o $@ $(HELPER_OBJ) $(HELPER_BASE) $(LDFLAGS_ALL) $(HELPER_LIBS)

$(HELPER_UNIT): $(BUILD)/tests/%: tests/unit/%.c $(HELPER_MODS) $(LIB) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -Isrc/helper $(CHECK_CFLAGS) -o $@ $< $(HELPER_MODS) $(LIB) \
		$(LDFLAGS_ALL) $(PKG_LIBS) $(CHECK_LIBS) -larchive -lz -lm

# The client library's suite talks to the real helper binary.
$(BUILD)/tests/check_helper_client: $(HELPER)

# The client is in the core layer, so in $(LIB).
$(HELPER_RTT): $(BUILD)/obj/bench/helper_rtt.o $(LIB)
	$(call quiet,LD,$@)
	$(Q)$(CC) -o $@ $< $(LIB) $(LDFLAGS_ALL) $(PKG_LIBS) -lm

install: install-helper
install-helper: $(HELPER)
	install -d $(DESTDIR)$(SBINDIR)
	install -m 0755 $(HELPER) $(DESTDIR)$(SBINDIR)/aapanel-helper

uninstall: uninstall-helper
uninstall-helper:
	rm -f $(DESTDIR)$(SBINDIR)/aapanel-helper

# The integration test's client (t_helper.sh): raw lines, or one call through the library.
HELPER_SEND := $(BUILD)/tests/helper_send
$(HELPER_SEND): tests/integration/helper_send.c $(LIB) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LDFLAGS_ALL) $(PKG_LIBS) -lm

integration: $(HELPER_SEND)
