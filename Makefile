# Gatehouse: the two commands a new user needs are `make run` and `make test`.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all run build test deps deps-run deps-bench web configure unit integration browser bench bench-gateway clean format

all: build

deps:
	scripts/install-deps.sh

deps-run:
	scripts/install-deps.sh --run-only

deps-bench:
	scripts/install-deps.sh --bench

web:
	npm run --silent build:web

configure:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

# Installs what is missing, builds the UI and the optimised binary (with debug info).
build: deps-run web configure
	cmake --build $(BUILD) --target gatehouse -j $(JOBS)

# Installs, builds and starts Gatehouse on http://127.0.0.1:8000 with demo content.
run: build
	./$(BUILD)/gatehouse serve --demo

# Installs, builds everything (tests included, in one pass) and runs every test.
test: deps web configure
	cmake --build $(BUILD) -j $(JOBS)
	$(MAKE) --no-print-directory unit integration browser

unit:
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

integration:
	npm run --silent test:integration

browser:
	npm run --silent test:browser

bench: deps-bench build
	scripts/bench.sh

# What Gatehouse adds to a chat completion, against the upstream directly and an nginx hop (BENCHMARKS.md).
bench-gateway: deps-bench build
	cmake --build $(BUILD) --target mock_upstream gateway_load -j $(JOBS)
	BUILD=$(BUILD) bench/gateway/run.sh

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD) web/dist
