# Tern - build, test and run.
#
#   make            build build/ternd and build/tern
#   make test       unit tests, integration tests, then integration tests
#                   again against an ASan+UBSan build; ends "N passed, N failed"
#   make run        build and start ternd on ./var in development mode
#   make fuzz       build the libFuzzer targets and run each briefly
#   make bench      run the controller benchmark (see bench/README.md)
#   make deps       install the Debian packages needed to build and test

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CPPFLAGS += -D_GNU_SOURCE -D_FORTIFY_SOURCE=2
BASE_CFLAGS := -std=c11 $(WARN) -pthread -fstack-protector-strong
LIBS    := -lcares -levent_openssl -levent_pthreads -levent -lsqlite3 -lssl -lcrypto -lcrypt -pthread

LIB_SRC := $(filter-out src/ternd.c,$(wildcard src/*/*.c))
TOOL_SRC := $(wildcard tools/tern/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

B  := build
BA := build-asan

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
LIB_OBJA := $(LIB_SRC:%.c=$(BA)/%.o)

.PHONY: all asan test unit integration integration-asan run fuzz bench deps clean

all: $(B)/ternd $(B)/tern

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(BASE_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BA)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(BASE_CFLAGS) -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -MMD -MP -c $< -o $@

$(B)/libtern.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BA)/libtern.a: $(LIB_OBJA)
	ar rcs $@ $^

$(B)/ternd: $(B)/src/ternd.o $(B)/libtern.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(B)/tern: $(TOOL_SRC:%.c=$(B)/%.o) $(B)/libtern.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BA)/ternd: $(BA)/src/ternd.o $(BA)/libtern.a
	$(CC) -fsanitize=address,undefined -o $@ $^ $(LIBS)

asan: $(BA)/ternd

$(B)/tests/unit/%: tests/unit/%.c $(B)/libtern.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(BASE_CFLAGS) -O1 -g -Wno-unused-parameter -o $@ $< $(B)/libtern.a $(LIBS) -lcmocka

UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)

unit: $(UNIT_BIN)
	@bash tests/run_unit.sh $(UNIT_BIN)

integration: all
	@bash tests/run_integration.sh plain

integration-asan: all asan
	@bash tests/run_integration.sh asan

test:
	@bash tests/run_all.sh

run: all
	./$(B)/ternd --root ./var --dev

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)

FUZZ_FLAGS := -std=c11 -g -O1 -fsanitize=address,undefined
FUZZ_OBJ := $(LIB_SRC:%.c=build-fuzz/obj/%.o)

build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build-fuzz/libtern-fuzz.a: $(FUZZ_OBJ)
	ar rcs $@ $^

build-fuzz/%: tests/fuzz/%.c build-fuzz/libtern-fuzz.a
	@mkdir -p build-fuzz
	clang $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< build-fuzz/libtern-fuzz.a $(LIBS)

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); echo "== $$n"; mkdir -p build-fuzz/corpus-$$n; ./$$f -max_total_time=$${FUZZ_SECONDS:-20} -rss_limit_mb=2048 build-fuzz/corpus-$$n tests/fuzz/corpus/$$n >/dev/null 2>build-fuzz/$$n.log || { tail -40 build-fuzz/$$n.log; exit 1; }; grep -E '^#[0-9]+.*DONE' build-fuzz/$$n.log | tail -1; done

bench: all
	bash bench/run_ctrl_bench.sh

deps:
	bash scripts/install-deps.sh

clean:
	rm -rf $(B) $(BA) build-fuzz

-include $(shell find $(B) $(BA) -name '*.d' 2>/dev/null)
