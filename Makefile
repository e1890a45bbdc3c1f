# dintero for Lua - build, test and tooling entry points.
#
#   make deps          apt-get the Debian packages the project needs (idempotent)
#   make build         the C module for LUA=5.4 (also LUA=5.1, 5.2, 5.3, luajit)
#   make test          the spec suite on LUA (default 5.4)
#   make test-all      the spec suite on every Lua, with per-version counts
#   make check         warnings-as-errors build + luacheck
#   make demo          the whole checkout flow against the local mock server
#   make bench         the benchmarks in bench/
#   make test-asan     the suite with the C core built with ASan+UBSan
#   make test-valgrind the suite under valgrind memcheck
#   make fuzz          the fuzz harnesses, FUZZ_SECONDS each

LUA ?= 5.4
ifeq ($(LUA),luajit)
  LUA_BIN := luajit
  LUA_INC := /usr/include/luajit-2.1
else
  LUA_BIN := lua$(LUA)
  LUA_INC := /usr/include/lua$(LUA)
endif

MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null)
CURL_INCDIR ?= /usr/include/$(MULTIARCH)
CC ?= cc
OPT ?= -O2
CFLAGS_BASE := -std=gnu99 -fPIC -Wall -Wextra -Wshadow -Wno-unused-parameter $(OPT) -g
SANFLAGS ?=
CFLAGS_ALL = $(CFLAGS_BASE) $(SANFLAGS) $(EXTRA_CFLAGS) -I$(LUA_INC) -I$(CURL_INCDIR)
LIBS := -lcurl -lcrypto

SRC := $(wildcard src/*.c)
HDR := $(wildcard src/*.h)
BUILD_DIR ?= build/$(LUA)
CORE := $(BUILD_DIR)/dintero/core.so

DEBS := build-essential pkg-config lua5.4 liblua5.4-dev lua5.3 liblua5.3-dev lua5.2 liblua5.2-dev \
        lua5.1 liblua5.1-0-dev luajit2 libluajit2-5.1-dev libcurl4-openssl-dev libssl-dev \
        lua-cjson lua-busted lua-socket lua-sec lua-dkjson lua-check luarocks openssl \
        nginx-light libnginx-mod-http-lua lua-resty-core curl valgrind

BUSTED = DINTERO_LUA=$(LUA) $(LUA_BIN) /usr/bin/busted

.PHONY: all deps build build-all test test-all check demo bench fuzz test-asan test-valgrind clean rock rock-check rockspec

all: build

deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "deps: all Debian packages present"; fi

build: $(CORE)

$(CORE): $(SRC) $(HDR) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -shared -o $@ $(SRC) $(LIBS)

build-all:
	@for v in 5.4 5.3 5.2 5.1 luajit; do $(MAKE) --no-print-directory build LUA=$$v || exit 1; done

test: deps build
	$(BUSTED) $(BUSTED_ARGS)

test-all:
	@rm -f build/counts.txt; status=0; \
	for v in 5.4 5.3 5.2 5.1 luajit; do \
	  $(MAKE) --no-print-directory test LUA=$$v DINTERO_COUNTS_FILE=$(CURDIR)/build/counts.txt DINTERO_RUN_LABEL=lua-$$v || status=1; \
	done; \
	awk '{print $$1": "$$2" passed, "$$3" failed"; p+=$$2; f+=$$3} END {print p" passed, "f" failed"}' build/counts.txt; \
	exit $$status

check:
	$(MAKE) --no-print-directory -B build EXTRA_CFLAGS=-Werror BUILD_DIR=build/check
	luacheck -q lua spec bench examples bin

demo: deps build
	$(LUA_BIN) examples/demo.lua

# CI runs these with a tiny BENCH_N so they keep working; real runs are by hand.
BENCH_N ?=
BENCHES := bench/requests.lua bench/parallel.lua bench/memory.lua bench/json.lua bench/instructions.lua
bench: build
	@# the LuaJIT rows of bench/requests.lua need the core built for LuaJIT too
	@if command -v luajit >/dev/null 2>&1; then $(MAKE) --no-print-directory build LUA=luajit; fi
	@for b in $(BENCHES); do echo "== $$b"; BENCH_N=$(BENCH_N) $(LUA_BIN) $$b || exit 1; done

test-asan:
	$(MAKE) --no-print-directory -B build CC=clang OPT=-O1 BUILD_DIR=build/asan \
	  SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
	DINTERO_BUILD_DIR=build/asan LD_PRELOAD="$$(clang -print-file-name=libclang_rt.asan-x86_64.so)" \
	  ASAN_OPTIONS=detect_leaks=0 $(BUSTED) $(BUSTED_ARGS)

# valgrind runs the specs that exercise the C core hardest; the whole suite
# (mock round trips with timing assertions) is too slow under memcheck for CI.
VALGRIND_SPECS ?= spec/json_spec.lua spec/json_testsuite_spec.lua spec/json_differential_spec.lua \
  spec/callback_spec.lua spec/client_spec.lua spec/client_token_spec.lua spec/concurrency_spec.lua \
  spec/fuzz_regressions_spec.lua spec/limits_spec.lua spec/transport_reentry_spec.lua
test-valgrind: build
	DINTERO_UNDER_VALGRIND=1 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	  --keep-debuginfo=yes --suppressions=spec/support/valgrind.supp $(LUA_BIN) /usr/bin/busted $(if $(BUSTED_ARGS),$(BUSTED_ARGS),$(VALGRIND_SPECS))

rock:
	luarocks make --local CURL_INCDIR=$(CURL_INCDIR) dintero-scm-1.rockspec

# Installs into a throwaway tree and loads the installed module from there.
rock-check: deps
	rm -rf build/rocktree && luarocks --lua-version=5.4 --tree=build/rocktree make CURL_INCDIR=$(CURL_INCDIR) dintero-scm-1.rockspec >/dev/null
	cd /tmp && LUA_PATH="$(CURDIR)/build/rocktree/share/lua/5.4/?.lua;$(CURDIR)/build/rocktree/share/lua/5.4/?/init.lua;;" \
	  LUA_CPATH="$(CURDIR)/build/rocktree/lib/lua/5.4/?.so;;" \
	  lua5.4 -e 'local d = require "dintero"; assert(d.json.encode(d.json.decode("[72200]")) == "[72200]"); print("installed dintero " .. d._VERSION .. " loads")'

clean:
	rm -rf build

rockspec:
	lua5.4 tools/gen_rockspec.lua

# libFuzzer harnesses: make fuzz [FUZZ_SECONDS=60], make fuzz-regressions
include fuzz/fuzz.mk
