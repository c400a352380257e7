# certbatch — build, test, demo, bench, install.
#
# Every target that needs the toolchain or a library first runs `deps`, which
# installs what is missing with apt-get (Debian 12), so a fresh machine needs
# nothing but make.

PREFIX    ?= /usr/local
CC        ?= gcc
CFLAGS    ?= -O2 -g
CB_CFLAGS  = -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
             $(LIB_INC) -DCB_DATADIR='"$(PREFIX)/share/certbatch"' \
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

# lib/ is grouped by layer, each folder using only itself and the folders
# before it in LIB_LAYERS (tests/cli/006-lib-layers.t checks the includes).
LIB_LAYERS = core text records vn pki mail pipeline
LIB_INC  = $(patsubst %,-Ilib/%,$(LIB_LAYERS))
LIB_SRC  = $(wildcard $(patsubst %,lib/%/*.c,$(LIB_LAYERS)))
LIB_HDR  = $(wildcard $(patsubst %,lib/%/*.h,$(LIB_LAYERS)))
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
           python3-openpyxl libldap-dev slapd ldap-utils chromium poppler-utils

.PHONY: all deps check check-opt check-san check-later unit samples demo bench bench-nation install clean fuzz fuzz-deps
.DEFAULT_GOAL := all

all: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory programs

programs: $(PROGS) $(UNITS)

# Installs only what dpkg says is missing; needs root or sudo for that.
define install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	@mkdir -p build && touch $@
endef

deps: $(DEPS_STAMP)
$(DEPS_STAMP): Makefile
	$(call install_missing,$(DEB_PKGS))

$(B)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CB_CFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BINDIR)/%: bin/%.c $(LIB_A) $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CB_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)

# The data directory compiled in (CB_DATADIR) follows PREFIX: the programs
# that use it are built again when PREFIX changes.
PREFIX_STAMP = $(B)/.prefix
$(PREFIX_STAMP): FORCE
	@mkdir -p $(B)
	@echo '$(PREFIX)' | cmp -s - $@ 2>/dev/null || echo '$(PREFIX)' > $@
$(BINDIR)/notify: $(PREFIX_STAMP)

$(B)/unit/%.t: tests/unit/%.c tests/unit/*.h $(LIB_A) $(LIB_HDR)
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
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

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

# libFuzzer harnesses (tests/fuzz), built with clang under ASan + UBSan
# against their own copy of the library: `make fuzz FUZZ_SECONDS=N` runs
# each N seconds on seeds made from the samples, then replays the inputs of
# every crash found (tests/fuzz/regress/TARGET/). clang is needed only here.
FUZZ_PKGS    = clang libclang-rt-14-dev
FUZZ_DEPS    = build/.fuzz-deps-ok
FUZZ_CC     ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = certder pemscan p7 csv pipeline template vntext forms mailhdr
FUZZ_B       = build/fuzz
FUZZ_SAN     = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_OBJ = $(patsubst lib/%.c,$(FUZZ_B)/lib/%.o,$(LIB_SRC))

fuzz-deps: $(FUZZ_DEPS)
$(FUZZ_DEPS): Makefile
	$(call install_missing,$(FUZZ_PKGS))

$(FUZZ_B)/lib/%.o: lib/%.c $(LIB_HDR) | $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CB_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_B)/libcertbatch.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_B)/libcertbatch.a
	$(FUZZ_CC) $(CB_CFLAGS) -D_GNU_SOURCE -Itests/fuzz $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_B)/libcertbatch.a $(LDLIBS)

$(FUZZ_B)/seeds/.done: tests/fuzz/make-corpus.sh samples/out/.done
	sh tests/fuzz/make-corpus.sh samples/out $(FUZZ_B)/seeds
	@touch $@

fuzz: samples $(patsubst %,$(FUZZ_B)/fuzz_%,$(FUZZ_TARGETS)) $(FUZZ_B)/seeds/.done
	sh tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

demo: all samples
	@sh samples/demo.sh

bench: all samples
	@for b in tests/bench/*.sh; do echo "== $$b"; sh $$b || exit 1; done

# The nightly job at national scale (1,500,000 certificates; the state is
# generated once, in about ten minutes on two cores, into build/bench/).
bench-nation: all samples
	sh tests/bench/nightly.sh nation

# make install [PREFIX=/usr/local] [DESTDIR=...]: the programs, man pages,
# templates, data, pipelines (with their profiles) and, under
# share/certbatch/contrib/, a systemd service + timer and a cron example
# naming the installed paths.
SHARE = $(PREFIX)/share/certbatch
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(SHARE)/templates $(DESTDIR)$(SHARE)/data $(DESTDIR)$(SHARE)/pipelines/profiles \
	    $(DESTDIR)$(SHARE)/contrib
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(MANS) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 templates/*.txt $(DESTDIR)$(SHARE)/templates/
	install -m 0644 lib/data/*.csv $(DESTDIR)$(SHARE)/data/
	install -m 0644 pipelines/*.yaml $(DESTDIR)$(SHARE)/pipelines/
	install -m 0644 pipelines/profiles/*.yaml $(DESTDIR)$(SHARE)/pipelines/profiles/
	for f in contrib/*; do \
	  sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@DATADIR@|$(SHARE)|g' $$f > $(DESTDIR)$(SHARE)/$$f.tmp && \
	  chmod 0644 $(DESTDIR)$(SHARE)/$$f.tmp && mv $(DESTDIR)$(SHARE)/$$f.tmp $(DESTDIR)$(SHARE)/$$f || exit 1; \
	done

clean:
	rm -rf build $(PROGS) samples/out tests/tmp
