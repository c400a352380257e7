# certbatch — build, test, demo, bench, install.
#
# Every target that needs the toolchain or a library first runs `deps`, which
# installs what is missing with apt-get (Debian 12), so a fresh machine needs
# nothing but make.

PREFIX    ?= /usr/local
CC        ?= gcc
CFLAGS    ?= -O2 -g
CB_CFLAGS  = -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
             -Ilib -DCB_DATADIR='"$(PREFIX)/share/certbatch"' \
             $(shell pkg-config --cflags gmime-3.0 libcurl libzip libxml-2.0 xlsxwriter 2>/dev/null)
LDLIBS     = -Wl,--as-needed -lcrypto -lcsv -lyaml -lutf8proc -lldap -llber \
             $(shell pkg-config --libs gmime-3.0 libcurl libzip libxml-2.0 xlsxwriter 2>/dev/null) -lm

# SAN=1 builds everything under build/san with AddressSanitizer and UBSan.
ifeq ($(SAN),1)
B        = build/san
CB_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
BINDIR   = $(B)/bin
else
B        = build/opt
BINDIR   = bin
endif

LIB_SRC  = $(wildcard lib/*.c)
LIB_OBJ  = $(patsubst lib/%.c,$(B)/lib/%.o,$(LIB_SRC))
LIB_A    = $(B)/libcertbatch.a
PROG_SRC = $(wildcard bin/*.c)
PROGS    = $(patsubst bin/%.c,$(BINDIR)/%,$(PROG_SRC))
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNITS    = $(patsubst tests/unit/%.c,$(B)/unit/%.t,$(UNIT_SRC))
MANS     = $(wildcard man/*.1)

DEPS_STAMP = build/.deps-ok
DEB_PKGS = gcc make pkg-config openssl libssl-dev libcsv-dev libyaml-dev libutf8proc-dev \
           libcurl4-openssl-dev libgmime-3.0-dev softhsm2 libengine-pkcs11-openssl opensc \
           miller parallel python3-aiosmtpd python3-cryptography perl man-db time hyperfine \
           faketime openssh-server openssh-client rsync libzip-dev libxml2-dev libxlsxwriter-dev \
           python3-openpyxl libldap-dev slapd ldap-utils chromium

.PHONY: all deps check check-opt check-san check-later unit samples demo bench bench-nation install clean
.DEFAULT_GOAL := all

all: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory programs

programs: $(PROGS) $(UNITS)

# Installs only what dpkg says is missing; needs root or sudo for that.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): Makefile
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	@mkdir -p build && touch $@

$(B)/lib/%.o: lib/%.c lib/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CB_CFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BINDIR)/%: bin/%.c $(LIB_A) lib/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CB_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)

$(B)/unit/%.t: tests/unit/%.c tests/unit/tap.h $(LIB_A) lib/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CB_CFLAGS) -Itests/unit $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)

# The samples are dated relative to the day they are made: made on another
# day (a checkout left overnight), they are made again.
SAMPLES_TODAY := $(shell TZ=UTC-7 date +%Y-%m-%d)
ifneq ($(SAMPLES_TODAY),$(shell cat samples/out/as-of.txt 2>/dev/null))
samples/out/.done: FORCE
endif
samples/out/.done: samples/make-samples.sh | $(DEPS_STAMP)
	sh samples/make-samples.sh samples/out
	@touch $@

samples: samples/out/.done
FORCE:

# The test suite: unit tests and program tests through prove, once optimised
# and once more under AddressSanitizer + UndefinedBehaviorSanitizer.
check: all samples
	@$(MAKE) --no-print-directory check-opt
	@$(MAKE) --no-print-directory check-san
	@$(MAKE) --no-print-directory check-later

check-opt: programs
	CB_TEMPLATES=$(CURDIR)/templates CB_BIN=$(CURDIR)/bin prove --exec '' $(UNITS) tests/cli/*.t

check-san:
	@$(MAKE) --no-print-directory SAN=1 programs
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	CB_TEMPLATES=$(CURDIR)/templates CB_BIN=$(CURDIR)/build/san/bin prove --exec '' $(patsubst build/opt/%,build/san/%,$(UNITS)) tests/cli/*.t

# The optimised suite once more with the clock 400 days ahead (libfaketime),
# on samples made on that day: a test that passes only near the day it was
# written fails here (issue 11).
LATER ?= +400 days
check-later: programs
	@rm -rf build/later && mkdir -p build/later
	faketime '$(LATER)' sh samples/make-samples.sh build/later/samples
	@touch build/later/samples/.done
	faketime '$(LATER)' env CB_SAMPLES=$(CURDIR)/build/later/samples CB_TEMPLATES=$(CURDIR)/templates \
	    CB_BIN=$(CURDIR)/bin prove --exec '' $(UNITS) tests/cli/*.t

demo: all samples
	@sh samples/demo.sh

bench: all samples
	@for b in tests/bench/*.sh; do echo "== $$b"; sh $$b || exit 1; done

# The nightly job at national scale (1,500,000 certificates; the state is
# generated once, in about ten minutes on two cores, into build/bench/).
bench-nation: all samples
	sh tests/bench/nightly.sh nation

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/certbatch/templates $(DESTDIR)$(PREFIX)/share/certbatch/pipelines
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(MANS) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 templates/*.txt $(DESTDIR)$(PREFIX)/share/certbatch/templates/
	if ls pipelines/*.yaml >/dev/null 2>&1; then install -m 0644 pipelines/*.yaml $(DESTDIR)$(PREFIX)/share/certbatch/pipelines/; fi

clean:
	rm -rf build $(PROGS) samples/out tests/tmp
