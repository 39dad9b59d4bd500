# evqmail — one non-recursive Makefile.
#
#   make              build every program into $(BUILD)/bin
#   make check        install dependencies, build, run every test suite
#   make asan         the same tests under AddressSanitizer + UBSan (build-asan/)
#   make run          install dependencies, build, start a private mail system
#   make setup QMAILHOME=DIR   install a complete qmail home tree into DIR
#                              (programs are rebuilt for DIR when it changes;
#                              DEFAULTDELIVERY=... FQDN=... for a new tree)
#   make bench        measure local delivery, SMTP ingest, remote delivery, POP3
#   make bench-compare  evqmail (root install) and a private Postfix side by
#                     side: SMTP ingest, local drain, sendmail end to end,
#                     remote to a sink, idle session PSS, a 10k queue; ratios
#                     (root; installs postfix; COMPARE="--messages 1000 --repeat 1")
#   make fuzz         build the fuzz harnesses with clang's libFuzzer (build-fuzz/)
#                     and run each for FUZZ_SECONDS (default 60)
#
# Sources are found by wildcard.  In each folder, a .cc file that defines
# `int main` is a program named like the file; `*_test.cc` files are doctest
# units linked into one test binary; everything else forms the folder's
# static library.  Link order (top layer first) keeps dependencies pointing down.

QMAILHOME ?= /var/qmail
SANITIZE  ?=
ifeq ($(SANITIZE),)
BUILD     ?= build
else
BUILD     ?= build-asan
endif

CXX       ?= g++
CXXSTD    := -std=c++20
WARN      := -Wall -Wextra -Werror
OPT       ?= -O2 -g
DEFS      := -D_GNU_SOURCE
CPPFLAGS  += -I. $(DEFS)
CXXFLAGS  += $(CXXSTD) $(WARN) $(OPT) -MMD -MP
LDLIBS    := -lcdb -lev -lcares -lssl -lcrypto -lcrypt
ifneq ($(SANITIZE),)
CXXFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=$(SANITIZE)
# GCC's maybe-uninitialized analysis gives false positives under the sanitizers.
ifeq ($(findstring clang,$(CXX)),)
CXXFLAGS  += -Wno-maybe-uninitialized
endif
endif
# The libFuzzer build (make fuzz): every object carries coverage counters.
ifeq ($(FUZZ),1)
CXXFLAGS  += -fsanitize=fuzzer-no-link
endif

LAYERS    := pop3 smtp spawn queue reactor
ALL_CC    := $(foreach d,$(LAYERS),$(wildcard $(d)/*.cc))
TEST_CC   := $(filter %_test.cc,$(ALL_CC))
MAIN_CC   := $(shell grep -l '^int main' $(filter-out %_test.cc,$(ALL_CC)) /dev/null 2>/dev/null)
LIB_CC     = $(filter-out $(TEST_CC) $(MAIN_CC),$(wildcard $(1)/*.cc))
LIBS      := $(foreach d,$(LAYERS),$(BUILD)/lib$(d).a)
PROGS     := $(patsubst %.cc,$(BUILD)/bin/%,$(notdir $(MAIN_CC)))
UNIT      := $(BUILD)/bin/unit-tests

FUZZ_CC   := $(filter-out tests/fuzz/replay.cc,$(wildcard tests/fuzz/*.cc))
FUZZERS   := $(patsubst tests/fuzz/%.cc,$(BUILD)/fuzz/%,$(FUZZ_CC))

.PHONY: all progs check asan run setup bench bench-compare deps clean unit fuzz fuzzers
all: $(PROGS) $(UNIT) $(FUZZERS)
progs: $(PROGS)

# The home compiled into the programs (the one a setuid qmail-queue uses) is
# in queue/home.cc alone.  $(BUILD)/conf-home records it; when QMAILHOME
# changes, the file changes, home.o is rebuilt and every program relinked, so
# `make setup QMAILHOME=/var/qmail2` never installs programs built for another
# home.
ifneq ($(words $(QMAILHOME)),1)
$(error QMAILHOME must be one absolute path without spaces)
endif
ifneq ($(filter-out /%,$(QMAILHOME)),)
$(error QMAILHOME must be an absolute path, not $(QMAILHOME))
endif
HOME_STAMP := $(BUILD)/conf-home
$(shell mkdir -p $(BUILD) && { [ "$$(cat $(HOME_STAMP) 2>/dev/null)" = '$(QMAILHOME)' ] || echo '$(QMAILHOME)' > $(HOME_STAMP); })
$(BUILD)/obj/queue/home.o: CPPFLAGS += -DQMAILHOME_DEFAULT='"$(QMAILHOME)"'
$(BUILD)/obj/queue/home.o: $(HOME_STAMP)

$(BUILD)/obj/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

define layer_rules
$(BUILD)/lib$(1).a: $$(patsubst %.cc,$(BUILD)/obj/%.o,$$(call LIB_CC,$(1)))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach d,$(LAYERS),$(eval $(call layer_rules,$(d))))

# An empty member keeps `ar` happy for a folder that has no library code yet.
$(LIBS): $(BUILD)/obj/empty.o
$(BUILD)/obj/empty.o:
	@mkdir -p $(dir $@)
	echo 'namespace evq_empty {}' | $(CXX) $(CXXSTD) -x c++ -c - -o $@

define prog_rule
$(BUILD)/bin/$(notdir $(basename $(1))): $(BUILD)/obj/$(basename $(1)).o $(LIBS)
	@mkdir -p $$(dir $$@)
	$$(CXX) $$(LDFLAGS) -o $$@ $$< $(LIBS) $$(LDLIBS)
endef
$(foreach m,$(MAIN_CC),$(eval $(call prog_rule,$(m))))

# Programs started once per message, delivery or connection link the C++
# runtime statically: the dynamic loader's relocations of libstdc++ were most
# of a short-lived qmail-remote's CPU time (about 1 ms of 3 per delivery).
PER_MESSAGE := qmail-queue qmail-local qmail-getpw qmail-remote qmail-smtpd qmail-qmtpd qmail-popup qmail-pop3d \
               qmail-inject sendmail forward preline condredirect bouncesaying except
ifeq ($(SANITIZE),)
$(addprefix $(BUILD)/bin/,$(PER_MESSAGE)): LDFLAGS += -static-libstdc++ -static-libgcc
endif

$(UNIT): $(BUILD)/obj/tests/main.o $(patsubst %.cc,$(BUILD)/obj/%.o,$(TEST_CC)) $(LIBS)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS) $(LDLIBS)

unit: $(UNIT)

# Fuzz harnesses (tests/fuzz/NAME.cc): linked with the replay driver, which
# runs each input of a corpus once (tests/run replays the committed seeds),
# or in the libFuzzer build with libFuzzer's own main.
ifeq ($(FUZZ),1)
FUZZ_MAIN :=
FUZZ_LINK := -fsanitize=fuzzer
else
FUZZ_MAIN := $(BUILD)/obj/tests/fuzz/replay.o
FUZZ_LINK :=
endif
$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(FUZZ_MAIN) $(LIBS)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) $(FUZZ_LINK) -o $@ $(filter %.o,$^) $(LIBS) $(LDLIBS)

fuzzers: $(FUZZERS)
.SECONDARY: $(patsubst %.cc,$(BUILD)/obj/%.o,$(FUZZ_CC) tests/fuzz/replay.cc)

FUZZ_SECONDS ?= 60
fuzz:
	@sh scripts/deps fuzz
	$(MAKE) BUILD=build-fuzz CXX=clang++ FUZZ=1 SANITIZE=address,undefined fuzzers
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz build-fuzz

deps:
	@sh scripts/deps

check: deps
	$(MAKE) all
	BUILD=$(BUILD) bash tests/run

asan: deps
	$(MAKE) SANITIZE=address,undefined all
	BUILD=build-asan EVQ_SANITIZED=1 bash tests/run

run: deps
	$(MAKE) all
	BUILD=$(BUILD) bash scripts/run

# DEFAULTDELIVERY and FQDN: config-fast's choices for a new tree (defaults
# ./Maildir/ and this host's name); an existing tree keeps its control files.
setup: progs
	BUILD=$(BUILD) sh scripts/setup "$(QMAILHOME)" "$(or $(DEFAULTDELIVERY),./Maildir/)" $(FQDN)

bench: bench-compare
	BUILD=$(BUILD) python3 tests/bench/local_rate.py
	BUILD=$(BUILD) python3 tests/bench/local_rate.py --mode send
	EVQ_BUILD=$(abspath $(BUILD)) python3 tests/bench/smtp_ingest.py
	EVQ_BUILD=$(abspath $(BUILD)) python3 tests/bench/remote_rate.py
	EVQ_BUILD=$(abspath $(BUILD)) python3 tests/bench/pop3_rate.py

# evqmail (a root system tree) against a private Postfix, side by side.
bench-compare: all
	sh scripts/deps bench || true
	EVQ_BUILD=$(abspath $(BUILD)) python3 tests/bench/compare.py $(COMPARE)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
