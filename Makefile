# Makefile — the two commands of the README. Both install what is missing first.
#   make run         install dependencies, build, serve the case study (examples/verification)
#   make test        install dependencies, build, run every test (ctest)
#   make demo-local  the case study's workflow in-process, with mocked tasks (no server)
PRESET ?= dev
BUILD  ?= build
# make run DEMO=workshop.yaml: the case study's second variant (rejection link, Notify mails)
DEMO ?= baton.yaml

.PHONY: all deps build run demo-local test asan bench format format-check clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build $(BUILD)

run: build
	@./scripts/run-demo.sh $(BUILD) $(DEMO)

demo-local: build
	./$(BUILD)/baton run examples/verification/statemachine.json \
	    --input-file examples/verification/input.json \
	    --mock examples/verification/mocks.json --mock-case Approved \
	    --name VerificationStateMachine --clock virtual --history

test: build
	cd $(BUILD) && ctest --output-on-failure -j2

asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build build-asan
	cd build-asan && ctest --output-on-failure -j2

bench: deps
	@cmake --preset release >/dev/null
	@cmake --build build-release
	./build-release/bench/baton-bench bench/workloads

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-release build-fuzz build-ci
