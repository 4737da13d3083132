# make run   builds gorai.so and gorai_go.so and starts redis-server with them on 127.0.0.1:$(PORT)
# make test  runs every tier below, cheapest first, stopping at the first failure:
#            build, unit, race, backends, fuzz, integration, python (tests/README.md)
#   make unit        go vet ./... and the pure-Go tests that need no server and no ML library: every
#                    package but ./tests/... and the backend packages (a new package is in it unless listed)
#   make race        the same packages under the race detector (go test -race)
#   make backends    the backend packages (backends/onnx, tf, tflite, torch), which load the real ML
#                    libraries from build/backends but need no server
#   make integration ./tests/...: one redis-server with the module per test, run in parallel
#                    (-parallel $(PARALLEL)); needs make build
#   make fuzz        each fuzz target for $(FUZZTIME)
#   make python      tests/python against servers started by its conftest
# make bench prints throughput ratios against plain Redis commands, memory per tensor against SET of the
#            same bytes, model runs against the backend in process (latency, runs/s, CPU per run), batching
#            against none, and the time to the first PONG and the RSS then against plain redis-server;
#            medians of repeats (go run ./tests/bench -h for the suites and options)
# make examples runs SmartSim's "Machine Learning" workflows (examples/) through a SmartSim Orchestrator on
#               gorai and checks their numbers against the same models in process; not part of make test.
#               The first run sets up its venv, build/venv-examples/ (build/install-deps.sh examples)
# make corrupt restores 100,000 damaged tensor payloads and 10,000 model and script payloads on a live server
#              (TestCorruptPayloads; GORAI_CORRUPT_SEED=n replays a run), and stores and runs 3,000 damaged
#              copies of a model of each backend (TestDamagedModels; GORAI_DAMAGED_SEED=n replays a run)

PORT ?= 6379
GO ?= go
# An execution count, not a duration: a duration races Go 1.26's fuzz coordinator at the deadline
# (golang/go#75804, "context deadline exceeded" with no failing input).
FUZZTIME ?= 200000x
# gorai.so is the module Redis loads, in C (module/, with the grammars it shares with Go: tensor/ and
# commands/load_args.c); gorai_go.so, beside it, is the Go library it loads at first need (golib/).
MODULE := build/gorai.so
GO_LIBRARY := build/gorai_go.so
# (tensor/memory_guard.c guards the backends' libraries, and tensor/fault.c their runs, which only the Go library loads.)
MODULE_C := $(filter-out tensor/memory_guard.c tensor/fault.c,$(wildcard module/*.c tensor/*.c)) commands/load_args.c
MODULE_H := $(wildcard module/*.h tensor/*.h) commands/load_args.h
CFLAGS ?= -O2
MODULE_CFLAGS := $(CFLAGS) -Wall -Wextra -fPIC -Imodule -Itensor -Icommands
# Go's build cache keys a cgo package on its own folder's files only, not on the headers it includes from
# another (the torch shim's API, the module's, dlopen.h): their checksum in CGO_CFLAGS (beside Go's default
# -O2 -g) makes a change to any of them rebuild the cgo packages, for the build and the tests alike.
C_HEADERS := $(shell find module tensor commands backends golib -name '*.h' -not -path '*/testdata/*' | sort)
export CGO_CFLAGS := -O2 -g -DGORAI_C_HEADERS=$(shell cat $(C_HEADERS) | sha256sum | cut -c1-16)
# Every file of the packages gorai_go.so is built from (go list -deps), so a new package is in without editing.
GO_LIBRARY_DIRS := $(shell $(GO) list -deps -f '{{if not .Standard}}{{.Dir}}{{end}}' ./golib 2>/dev/null | grep '^$(CURDIR)/')
GO_SOURCES := go.mod go.sum $(filter-out %_test.go,$(foreach d,$(GO_LIBRARY_DIRS),$(wildcard $(d)/*.go $(d)/*.c $(d)/*.cc $(d)/*.h))) $(C_HEADERS)

# Test tiers. Packages are listed by go list when a target needs them: the backend packages are those
# under backends/ with a library to load (backendtest is their helper; backends and protowalk are pure Go); the
# integration packages are those under tests/; unit is everything else.
GO_PACKAGES = $(shell $(GO) list ./...)
BACKEND_PACKAGES = $(filter-out gorai/backends/backendtest gorai/backends/protowalk,$(filter gorai/backends/%,$(GO_PACKAGES)))
INTEGRATION_PACKAGES = $(filter gorai/tests gorai/tests/%,$(GO_PACKAGES))
UNIT_PACKAGES = $(filter-out $(BACKEND_PACKAGES) $(INTEGRATION_PACKAGES),$(GO_PACKAGES))
# Integration tests that call t.Parallel run this many at a time (servers mostly wait; measured on 2 cores
# in tests/README.md).
PARALLEL ?= 4

# Fuzz targets, as package:Target.
FUZZ_TARGETS := ./tensor:FuzzTensorRDBLoad ./tensor:FuzzParse ./tensor:FuzzParseFormat ./tensor:FuzzParseIntInStep ./commands:FuzzParseLoadArgs ./commands:FuzzModelStoreArgs ./commands:FuzzModelExecuteArgs ./commands:FuzzScriptStoreArgs ./commands:FuzzScriptExecuteArgs ./commands:FuzzDAGArgs ./commands:FuzzModelKeys ./commands:FuzzScriptKeys ./commands:FuzzDAGKeys ./commands:FuzzDAGBuilderOps ./tensor:FuzzConcatSlice

.PHONY: build run test unit race backends integration fuzz python bench examples corrupt deps clean

ONNXRUNTIME := build/backends/onnx/libonnxruntime.so.1
TORCH_SHIM := build/backends/torch/libgorai_torch.so
TENSORFLOW := build/backends/tf/libtensorflow_cc.so.2
LITERT := build/backends/tflite/libLiteRt.so
TFLITE_TRIAL := build/backends/tflite/gorai-tflite-trial
TORCH_TRIAL := build/backends/torch/gorai-torch-trial

build: deps $(MODULE) $(GO_LIBRARY) $(ONNXRUNTIME) $(TORCH_SHIM) $(TENSORFLOW) $(LITERT) $(TFLITE_TRIAL) $(TORCH_TRIAL)

deps:
	@build/install-deps.sh system

# Its soname is how gorai_go.so, which links it, finds it loaded, whatever name its file is given.
# Each build of the module gets an identity of its own (build/build-id), which the library built with
# it carries too: the library refuses to serve a module of another build.
$(MODULE): $(MODULE_C) $(MODULE_H)
	od -An -N8 -tx1 /dev/urandom | tr -d ' \n' > build/build-id
	$(CC) $(MODULE_CFLAGS) -DGORAI_BUILD_ID=\"$$(cat build/build-id)\" -shared -Wl,-soname,gorai.so -Wl,--no-undefined \
		-o $@.tmp $(MODULE_C) -ldl -lpthread
	@# Redis 7 refuses a module file without the execute bit. Renamed into place: a running server keeps the
	@# file it mapped (written over in place, it would crash).
	chmod +x $@.tmp && mv $@.tmp $@

$(GO_LIBRARY): $(MODULE) $(GO_SOURCES)
	$(GO) build -buildmode=c-shared -ldflags "-X main.gitSHA=$$(git rev-parse HEAD 2>/dev/null || echo unknown) \
		-X main.buildID=$$(cat build/build-id)" -o build/tmp/gorai_go.so ./golib
	mv build/tmp/gorai_go.h build/ && mv build/tmp/gorai_go.so $@

# ONNX Runtime's official library, where the module looks for it by default (<module dir>/backends).
$(ONNXRUNTIME):
	build/fetch-onnxruntime.sh

# gorai's C++ shim over libtorch, opened by the module on first TORCH use (neither gorai.so nor gorai_go.so links it); the
# script first puts the torch wheel's CPU libraries beside it (build/fetch-torch.sh).
$(TORCH_SHIM): backends/torch/shim/torch_shim.cpp backends/torch/torch_shim.h tensor/memory.c tensor/memory.h build/build-torch-shim.sh build/fetch-torch.sh
	build/build-torch-shim.sh

# TensorFlow's official C library (the tensorflow-cpu wheel), opened by the module on first TF use.
$(TENSORFLOW):
	build/fetch-tensorflow.sh

# LiteRT's C library (the ai-edge-litert wheel), opened by the module on first TFLITE use.
$(LITERT):
	build/fetch-litert.sh

# The programs that try a client's model in a process of its own before Redis loads it (backends/trial.go),
# each beside the library it loads. TFLITE's has the backend's loader and exception guard, in C and C++.
TFLITE_TRIAL_SOURCES := backends/tflite/trial/main.c backends/tflite/loader.c backends/tflite/guard.cc tensor/memory.c
$(TFLITE_TRIAL): $(TFLITE_TRIAL_SOURCES) backends/tflite/loader.h backends/dlopen.h backends/trial.h tensor/memory.h $(LITERT)
	$(CC) $(CFLAGS) -Wall -Wextra -fexceptions -Ibackends -Itensor -o $@ $(TFLITE_TRIAL_SOURCES) -ldl -lpthread -lstdc++
$(TORCH_TRIAL): backends/torch/trial/main.c backends/torch/torch_shim.h backends/dlopen.h backends/trial.h $(TORCH_SHIM)
	$(CC) $(CFLAGS) -Wall -Wextra -Ibackends -o $@ backends/torch/trial/main.c -ldl

run: build
	redis-server redis.conf --port $(PORT)

# Cheapest first: a failing tier stops make before the slower ones run.
test: build unit race backends fuzz integration python

unit:
	$(GO) vet ./...
	$(GO) test -count=1 $(UNIT_PACKAGES)

race:
	$(GO) test -count=1 -race $(UNIT_PACKAGES)

backends: build
	$(GO) test -count=1 $(BACKEND_PACKAGES)

integration: build
	$(GO) test -count=1 -parallel $(PARALLEL) -timeout 20m $(INTEGRATION_PACKAGES)

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

python: build
	@build/install-deps.sh python
	python3 -m pytest -q tests/python

bench: build
	$(GO) run ./tests/bench

# The Python that has SmartSim (set up for gorai), torch, TensorFlow, scikit-learn and skl2onnx: by default
# the venv build/install-deps.sh examples makes (examples/README.md); EXAMPLES_PYTHON=... uses another,
# and then make sets nothing up.
EXAMPLES_VENV := build/venv-examples
EXAMPLES_PYTHON ?= $(CURDIR)/$(EXAMPLES_VENV)/bin/python

examples: build
ifeq ($(origin EXAMPLES_PYTHON),file)
	@build/install-deps.sh examples
endif
	RAI_PATH=$(CURDIR)/$(MODULE) $(EXAMPLES_PYTHON) examples/run_all.py

# Payload counts of `make corrupt`, and its damaged copies of each model with a seed of the moment; the
# environment or the make command line may change them.
GORAI_CORRUPT_TENSORS ?= 100000
GORAI_CORRUPT_MODELS ?= 8000
GORAI_CORRUPT_SCRIPTS ?= 2000
GORAI_DAMAGED_MODELS ?= 3000
GORAI_DAMAGED_SEED ?= $(shell date +%s)

corrupt: build
	GORAI_CORRUPT_TENSORS=$(GORAI_CORRUPT_TENSORS) GORAI_CORRUPT_MODELS=$(GORAI_CORRUPT_MODELS) \
		GORAI_CORRUPT_SCRIPTS=$(GORAI_CORRUPT_SCRIPTS) GORAI_DAMAGED_MODELS=$(GORAI_DAMAGED_MODELS) \
		GORAI_DAMAGED_SEED=$(GORAI_DAMAGED_SEED) \
		$(GO) test -count=1 -v -timeout 60m -run '^(TestCorruptPayloads|TestDamagedModels)$$' ./tests/

clean:
	rm -f build/*.so build/*.h build/build-id
