# lg — one Makefile for every tool. `make` builds bin/, `make check` runs the
# whole test suite under ASan+UBSan, `make bench` prints the benchmark figures.

.DEFAULT_GOAL := all
VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/lg
CC         ?= cc
PKGS       := libcurl libcjson lmdb libpcre2-8 libhs zlib
# Linked into lg-sync alone (its HTTP server).
SYNC_PKGS  := libmicrohttpd
TOOLS      := fetch map detect policy store sync ship

LG_WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
              -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wwrite-strings \
              -Wvla -Wnull-dereference -Wno-unused-parameter
LG_CFLAGS  := -std=c11 -D_GNU_SOURCE -DLG_VERSION='"$(VERSION)"' -DLG_DATADIR='"$(DATADIR)"' -Icommon $(LG_WARN)
ifeq ($(CI),true)
LG_CFLAGS  += -Werror
endif
PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS) $(SYNC_PKGS) 2>/dev/null)
PKG_LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
sync_LIBS   = $(shell pkg-config --libs $(SYNC_PKGS) 2>/dev/null) -pthread


.SECONDEXPANSION:

# Two flavours share the sources: release (bin/) and sanitized (build/asan/bin).
MODE       ?= release
ifeq ($(MODE),asan)
OPT        := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow
LDSAN      := -Wl,--as-needed -fsanitize=address,undefined
OUT        := build/asan
BINOUT     := build/asan/bin
else
OPT        := -O2 -g
LDSAN      := -Wl,--as-needed
OUT        := build/release
BINOUT     := bin
endif

CFLAGS     ?=
ALL_CFLAGS  = $(LG_CFLAGS) $(PKG_CFLAGS) $(OPT) $(CFLAGS)

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(OUT)/%.o)
COMMON_LIB := $(OUT)/libcommon.a

# lg-ship reads the store through lg-store's own code.
ship_USES   = $(store_LIBOBJ)

# Each tool: T/main.c holds main(); every other T/*.c is library code that
# unit tests may link against.
define tool_rules
$(1)_SRC := $$(wildcard $(1)/*.c)
$(1)_OBJ := $$($(1)_SRC:%.c=$(OUT)/%.o)
$(1)_LIBOBJ := $$(filter-out $(OUT)/$(1)/main.o,$$($(1)_OBJ))
$(BINOUT)/lg-$(1): $$($(1)_OBJ) $$($(1)_USES) $(COMMON_LIB) | $(BINOUT)
	$$(CC) $$(LDSAN) $$(LDFLAGS) -o $$@ $$($(1)_OBJ) $$($(1)_USES) $(COMMON_LIB) $$(PKG_LIBS) $$($(1)_LIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rules,$(t))))
# lg-ship's sources include store/'s headers: a changed record there must
# rebuild them, not link a stale one against the new store code.
$(ship_OBJ): $(wildcard store/*.h)
# lg-sync's unit tests take its pure pieces only (the rest needs main.c).
sync_LIBOBJ := $(OUT)/sync/http.o

BINS       := $(TOOLS:%=$(BINOUT)/lg-%)

# Unit tests: tests/unit/<tool>_*.c links that tool's library objects,
# tests/unit/common_*.c links common only; every other tests/unit/*.c is a
# helper linked into each of them.
UNIT_SRC   := $(wildcard tests/unit/*_test.c)
UNIT_BINS  := $(UNIT_SRC:tests/unit/%.c=$(OUT)/unit/%)
UNIT_HELP  := $(patsubst %.c,$(OUT)/%.o,$(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c)))
unit_tool   = $(firstword $(subst _, ,$(notdir $(1))))
$(OUT)/unit/%: tests/unit/%.c $$(if $$(filter $$(call unit_tool,$$*),$(TOOLS)),$$($$(call unit_tool,$$*)_LIBOBJ)) $(UNIT_HELP) $(COMMON_LIB) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDSAN) -o $@ $< $(if $(filter $(call unit_tool,$*),$(TOOLS)),$($(call unit_tool,$*)_LIBOBJ)) $(UNIT_HELP) $(COMMON_LIB) $(PKG_LIBS)

# Only `make deps`, `make check` and `make demo` install packages (apt-get):
# a plain `make` builds with what the machine has.
.PHONY: all deps build pkgcheck check units bench eval fuzz demo chaos install uninstall clean valgrind
all: build

build: pkgcheck $(BINS)

# A fresh machine: say which step installs the libraries, not a missing header.
pkgcheck:
	@pkg-config --exists $(PKGS) $(SYNC_PKGS) || { echo "lg: missing libraries (pkg-config $(PKGS) $(SYNC_PKGS)): run 'make deps' (scripts/install-deps)" >&2; exit 1; }

$(BINOUT):
	@mkdir -p $@

$(OUT)/%.o: %.c $(wildcard common/*.h) $$(wildcard $$(dir $$*)*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(COMMON_LIB): $(COMMON_OBJ)
	$(AR) rcs $@ $^

units: $(UNIT_BINS)

deps:
	@scripts/install-deps

# The test command of the README: sanitized build, unit tests, end-to-end tests.
check: deps
	@$(MAKE) --no-print-directory MODE=asan build units
	@tests/run.sh build/asan

bench:
	@$(MAKE) --no-print-directory build
	@tests/bench/run.sh

eval:
	@$(MAKE) --no-print-directory build
	@tests/eval/run.sh

fuzz:
	@tests/fuzz/run.sh

# make demo SERVE=1: the console stays up at http://127.0.0.1:8077/ until Ctrl-C.
demo: deps
	@$(MAKE) --no-print-directory build
	@DEMO_SERVE=$(SERVE) scripts/demo

chaos:
	@$(MAKE) --no-print-directory build
	@tests/chaos/run.sh

valgrind:
	@$(MAKE) --no-print-directory build units
	@VALGRIND=1 tests/run.sh build/release

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)/
	for m in man/*.1; do [ -f "$$m" ] && install -m 644 "$$m" $(DESTDIR)$(MANDIR)/man1/ || true; done
	if [ -d console ]; then install -d $(DESTDIR)$(DATADIR)/console && cp -R console/. $(DESTDIR)$(DATADIR)/console/; fi

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/lg-%)
	for m in man/*.1; do rm -f $(DESTDIR)$(MANDIR)/man1/$$(basename $$m); done
	rm -rf $(DESTDIR)$(DATADIR)/console

clean:
	rm -rf build bin
