# bai-agent — build, test, lint. `make` builds build/bai-agent and the krunner bundle.
BUILD    ?= build
CC       ?= gcc
CXX      ?= g++
PKGS     := luajit libzmq libcurl libarchive hiredis msgpack
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
OPT      ?= -O2 -g
SAN      ?=
WARN     := -Wall -Wextra -Werror
CFLAGS_ALL   := -std=c11 $(WARN) -D_GNU_SOURCE $(OPT) $(SAN) $(PKG_CFLAGS) -Icore
CXXFLAGS_ALL := -std=c++17 $(WARN) $(OPT) $(SAN) $(PKG_CFLAGS) -Icore
LDFLAGS_ALL  := $(SAN)
CJSON_A  := -l:liblua5.1-cjson.a

C_SRCS   := $(wildcard core/*.c)
CXX_SRCS := $(wildcard core/*.cc)
OBJS     := $(C_SRCS:core/%.c=$(BUILD)/obj/%.o) $(CXX_SRCS:core/%.cc=$(BUILD)/obj/%.o)

# the in-container runner: the subset of the core it needs (no curl/archive/C++)
RUNNER_C := err err_lua loop loop_lua proc proc_lua zsock zmq_lua msgpack_lua fs fs_lua \
            sys_lua main preload
RUNNER_OBJS := $(RUNNER_C:%=$(BUILD)/robj/%.o)

# pure-C objects (no lua.h) that C tests link against
PURE_C   := $(filter-out %_lua.c core/main.c core/preload.c,$(C_SRCS))
PURE_OBJS := $(PURE_C:core/%.c=$(BUILD)/obj/%.o)
C_TESTS  := $(patsubst tests/c/%.c,$(BUILD)/tests/%,$(wildcard tests/c/test_*.c))

.PHONY: all bai-agent krunner test bench test-c test-unit test-core test-integration lint fmt \
        fmt-check asan clean install
all: bai-agent krunner

bai-agent: $(BUILD)/bai-agent
$(BUILD)/bai-agent: $(OBJS)
	$(CXX) $(LDFLAGS_ALL) -o $@ $(OBJS) $(CJSON_A) $(PKG_LIBS) -lm

$(BUILD)/obj/%.o: core/%.c core/*.h | $(BUILD)/obj
	$(CC) $(CFLAGS_ALL) -c $< -o $@
$(BUILD)/obj/%.o: core/%.cc core/*.h | $(BUILD)/obj
	$(CXX) $(CXXFLAGS_ALL) -c $< -o $@
$(BUILD)/robj/%.o: core/%.c core/*.h | $(BUILD)/robj
	$(CC) $(CFLAGS_ALL) -DBAI_RUNNER -c $< -o $@

$(BUILD)/obj $(BUILD)/robj $(BUILD)/tests:
	mkdir -p $@

krunner: $(BUILD)/krunner/.stamp
$(BUILD)/krunner/.stamp: $(RUNNER_OBJS) runner/bundle.sh runner/entrypoint.sh $(wildcard runner/lua/bai/runner/*.lua) $(wildcard lua/bai/*.lua)
	runner/bundle.sh $(BUILD) "$(CC) $(LDFLAGS_ALL) -o $(BUILD)/krunner/bin/bai-krunner $(RUNNER_OBJS) $(CJSON_A) $(shell pkg-config --libs luajit libzmq msgpack) -lm"
	touch $@

$(BUILD)/tests/%: tests/c/%.c tests/c/tap.h $(PURE_OBJS) | $(BUILD)/tests
	$(CC) $(CFLAGS_ALL) -Itests/c -o $@ $< $(PURE_OBJS) $(PKG_LIBS) -lm

test-c: $(C_TESTS)
	tests/run-c.sh $(C_TESTS)

test-unit:
	luajit /usr/bin/busted --run=unit -o tests/helpers/summary.lua

test-core: all
	$(BUILD)/bai-agent --test --run=core

test-integration: all
	$(BUILD)/bai-agent --test --run=integration

test: all
	scripts/test.sh

bench: all
	$(BUILD)/bai-agent script bench/bench.lua

lint:
	luacheck -q lua runner/lua tests scripts bench
	@! grep -rnE '#(only|focus)' tests --include='*_spec.lua' || (echo "focus tags committed" && false)

fmt:
	clang-format -i core/*.c core/*.h core/*.cc tests/c/*.c tests/c/*.h
fmt-check:
	clang-format --dry-run -Werror core/*.c core/*.h core/*.cc tests/c/*.c tests/c/*.h

# ASan/UBSan build in its own tree: make asan && build-asan/bai-agent ...
asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" all $(C_TESTS:$(BUILD)/%=build-asan/%)

install: all
	install -D -m 0755 $(BUILD)/bai-agent $(DESTDIR)/usr/local/bin/bai-agent
	mkdir -p $(DESTDIR)/usr/local/share/bai-agent
	cp -r lua runner $(DESTDIR)/usr/local/share/bai-agent/
	if [ -d plugins ]; then cp -r plugins $(DESTDIR)/usr/local/share/bai-agent/; fi
	cp -r $(BUILD)/krunner $(DESTDIR)/usr/local/share/bai-agent/krunner

clean:
	rm -rf build build-asan
