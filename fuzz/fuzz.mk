# fuzz/fuzz.mk - the libFuzzer targets, included from the Makefile
# (`include fuzz/fuzz.mk`). Owns build/fuzz/: one binary per harness
# fuzz/<name>_fuzz.c at build/fuzz/<name>, its growing corpus at
# build/fuzz/corpus-<name>/, crash artifacts at build/fuzz/artifacts-<name>/
# and the last run's output at build/fuzz/<name>.log.
#
#   make fuzz [FUZZ_SECONDS=60]   build every harness, seed its corpus, run each
#                                 for FUZZ_SECONDS one after another (-max_total_time)
#                                 and fail if any harness crashes
#   make fuzz-regressions         run each harness once over fuzz/regressions/<name>/
#                                 only (the crash inputs kept forever; fast, for CI)
#   make fuzz-build               just build the harnesses
#   make fuzz-run-<name>          one harness (e.g. make fuzz-run-http_response)
#
# Seeds (read-only extra corpus directories; libFuzzer writes new inputs only
# to the first directory, build/fuzz/corpus-<name>/): fuzz/seeds/<name>/,
# fuzz/regressions/<name>/ and, for the json_* harnesses, the JSONTestSuite
# parsing cases in $(FUZZ_TESTDATA)/JSONTestSuite/test_parsing when that
# checkout exists (CI clones the testdata repository as ../shared beside this
# one); any directory that is absent is skipped.
#
# When a harness finds a crash: copy build/fuzz/artifacts-<name>/crash-* into
# fuzz/regressions/<name>/ (minimise it first with
# `build/fuzz/<name> -minimize_crash=1 -runs=10000 <file>`), fix the bug,
# and keep the file forever.
#
# Everything runs one harness at a time in a single process (no -jobs/-workers).

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_ARGS ?=
FUZZ_TESTDATA ?= $(CURDIR)/../shared/testdata
FUZZ_OUT := build/fuzz
FUZZ_LUA_INC ?= /usr/include/lua5.4
FUZZ_LUA_LIB ?= -llua5.4
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -Wall -Wextra -Isrc
# -timeout: one input taking this long counts as a hang (a crash).
FUZZ_RUN_FLAGS := -print_final_stats=1 -timeout=20

FUZZ_NAMES := $(patsubst fuzz/%_fuzz.c,%,$(wildcard fuzz/*_fuzz.c))
FUZZ_BINS := $(addprefix $(FUZZ_OUT)/,$(FUZZ_NAMES))
FUZZ_HDR := $(wildcard src/*.h)
FUZZ_JSON_SRC := src/ljson.c src/ljson_decode.c src/ljson_encode.c src/strcache.c src/buf.c

# (fuzz-run-% is a pattern rule, so it must not be .PHONY: make skips the
# implicit rule search for phony targets.)
.PHONY: fuzz fuzz-build fuzz-regressions

fuzz-build: $(FUZZ_BINS)

# One rule per harness: each links what its top comment says.

# JSON decoder on arbitrary bytes; embeds a Lua 5.4 state.
$(FUZZ_OUT)/json_decode: fuzz/json_decode_fuzz.c $(FUZZ_JSON_SRC) $(FUZZ_HDR) fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I$(FUZZ_LUA_INC) -o $@ $< $(FUZZ_JSON_SRC) $(FUZZ_LUA_LIB) -lm

# decode -> encode -> decode; embeds a Lua 5.4 state.
$(FUZZ_OUT)/json_roundtrip: fuzz/json_roundtrip_fuzz.c $(FUZZ_JSON_SRC) $(FUZZ_HDR) fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I$(FUZZ_LUA_INC) -o $@ $< $(FUZZ_JSON_SRC) $(FUZZ_LUA_LIB) -lm

# Dintero-Signature header, URL split, query canonicalisation (no Lua, no libs).
$(FUZZ_OUT)/signature: fuzz/signature_fuzz.c src/signature.c src/buf.c $(FUZZ_HDR) fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< src/signature.c src/buf.c

# Header splitting and the libcurl callbacks; the harness #includes src/http.c
# itself, so http.c must not be linked again.
$(FUZZ_OUT)/http_response: fuzz/http_response_fuzz.c src/http.c src/headers.c src/buf.c $(FUZZ_HDR) fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< src/headers.c src/buf.c -lcurl

# Fallback for a new harness without its own rule yet: the whole C core.
$(FUZZ_OUT)/%: fuzz/%_fuzz.c $(wildcard src/*.c) $(FUZZ_HDR) fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I$(FUZZ_LUA_INC) -o $@ $< $(wildcard src/*.c) $(FUZZ_LUA_LIB) -lcurl -lcrypto -lm

# Runs one harness for FUZZ_SECONDS; prints a one-line summary from the
# final stats; fails when libFuzzer exits non-zero (crash, leak, hang, OOM).
fuzz-run-%: $(FUZZ_OUT)/%
	@name=$*; bin=$(CURDIR)/$(FUZZ_OUT)/$$name; corpus=$(CURDIR)/$(FUZZ_OUT)/corpus-$$name; \
	art=$(CURDIR)/$(FUZZ_OUT)/artifacts-$$name; log=$(CURDIR)/$(FUZZ_OUT)/$$name.log; \
	mkdir -p "$$corpus" "$$art"; dirs="$$corpus"; \
	for d in $(CURDIR)/fuzz/seeds/$$name $(CURDIR)/fuzz/regressions/$$name; do \
	  [ -d "$$d" ] && dirs="$$dirs $$d"; done; \
	case $$name in json_*) \
	  if [ -d "$(FUZZ_TESTDATA)/JSONTestSuite/test_parsing" ]; then dirs="$$dirs $(FUZZ_TESTDATA)/JSONTestSuite/test_parsing"; \
	  else echo "fuzz: $(FUZZ_TESTDATA)/JSONTestSuite absent, not seeding $$name from it"; fi;; esac; \
	echo "== fuzz $$name for $(FUZZ_SECONDS)s: $$dirs"; \
	cd "$$art" && "$$bin" -max_total_time=$(FUZZ_SECONDS) $(FUZZ_RUN_FLAGS) -artifact_prefix="$$art/" \
	  $(FUZZ_ARGS) $$dirs >"$$log" 2>&1; rc=$$?; \
	execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' "$$log"); \
	rate=$$(sed -n 's/^stat::average_exec_per_sec: *//p' "$$log"); \
	last=$$(grep -aE '^#[0-9]+' "$$log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*'); \
	echo "   $$name: $${execs:-?} execs, $${rate:-?} exec/s, $${last:-no stats}"; \
	if [ $$rc -ne 0 ]; then \
	  echo "fuzz: $$name FAILED (exit $$rc); log: $$log; artifacts: $$art"; tail -n 40 "$$log" | cut -c1-300; exit 1; fi

fuzz: $(FUZZ_BINS)
	@status=0; for n in $(FUZZ_NAMES); do \
	  $(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) fuzz-run-$$n FUZZ_SECONDS=$(FUZZ_SECONDS) || status=1; done; \
	exit $$status

# Each harness once over its kept crash inputs (files only: a directory
# argument would make libFuzzer start fuzzing).
fuzz-regressions: $(FUZZ_BINS)
	@status=0; for n in $(FUZZ_NAMES); do \
	  files=$$(find fuzz/regressions/$$n -type f 2>/dev/null | sort); \
	  if [ -z "$$files" ]; then echo "fuzz-regressions: $$n: no inputs"; continue; fi; \
	  set -- $$files; \
	  if $(FUZZ_OUT)/$$n -runs=1 $$files >$(FUZZ_OUT)/$$n-regressions.log 2>&1; then \
	    echo "fuzz-regressions: $$n: $$# inputs ok"; \
	  else echo "fuzz-regressions: $$n FAILED"; tail -n 40 $(FUZZ_OUT)/$$n-regressions.log; status=1; fi; \
	done; exit $$status
