# Velos: `make run` shows it working, `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
ZIG_VERSION := 0.15.2
TOOLS := $(CURDIR)/.tools
ZIG_DIR := $(TOOLS)/ziglang-$(ZIG_VERSION)
ZIG_BIN := $(ZIG_DIR)/ziglang/zig
# velos-ffi's build.rs looks at ZIG first; point it at the pinned one unless the caller chose another.
export ZIG ?= $(ZIG_BIN)
VELOS := $(CURDIR)/target/release/velos
EXAMPLE := examples/quickstart/velos.toml

.PHONY: all tools py-tools test-deps build dev test test-zig test-rust test-e2e check-macos run bench clean fmt lint fuzz

all: build

# The pinned Zig from PyPI's `ziglang` package, into a git-ignored folder; nothing is installed system-wide.
tools: $(ZIG_BIN)
$(ZIG_BIN):
	python3 -m pip install --disable-pip-version-check --quiet --target $(ZIG_DIR) ziglang==$(ZIG_VERSION)
	@$(ZIG_BIN) version | grep -qx $(ZIG_VERSION) || { echo "error: $(ZIG_BIN) is not Zig $(ZIG_VERSION)"; exit 1; }

# Python tools the end-to-end tests drive (HTTP and MCP clients, validators), pinned, into .tools/python;
# re-installed only when tests/python/requirements.txt changes. Tests put it on PYTHONPATH.
PY_TOOLS := $(TOOLS)/python
py-tools: $(PY_TOOLS)/.stamp
$(PY_TOOLS)/.stamp: tests/python/requirements.txt
	python3 -m pip install --disable-pip-version-check --quiet --target $(PY_TOOLS) -r tests/python/requirements.txt
	@touch $@

build: tools
	cargo build --release --bin velos

dev: tools
	cargo build --bin velos

test: tools test-zig check-macos test-rust test-e2e

test-zig: tools
	$(ZIG) build test --summary all

# Compile the core and link its tests for macOS (kqueue path) without running them.
check-macos: tools
	$(ZIG) build check -Dtarget=aarch64-macos

test-rust: tools
	cargo test --no-fail-fast --workspace --exclude velos-e2e --exclude velos-bench

# What the end-to-end tests drive besides velos: tmux (velos monit in a real terminal), systemd-analyze
# (velos startup's unit), zsh and fish (velos completions), sshd (tests/git_remotes.rs serves a repository
# over ssh on loopback; `git http-backend` comes with git). Installed from the distribution when missing.
TEST_PACKAGES := tmux:tmux systemd-analyze:systemd zsh:zsh fish:fish /usr/sbin/sshd:openssh-server
test-deps:
	@missing=$$(for pair in $(TEST_PACKAGES); do command -v $${pair%%:*} >/dev/null || echo $${pair##*:}; done); \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi
	@# sshd refuses to start without its privilege separation folder, which a service manager would create.
	@test -d /run/sshd || install -d -m 0755 /run/sshd

test-e2e: build test-deps py-tools
	VELOS_BIN=$(VELOS) cargo test --release --no-fail-fast -p velos-e2e -- --test-threads 2

# Build, start the daemon, start a few example apps, show the list.
run: build
	@VELOS_HOME=$${VELOS_HOME:-$$HOME/.velos} bash examples/quickstart/run.sh $(VELOS)

bench: build
	cargo run --release -p velos-bench -- --velos $(VELOS)

# Long fuzzing (minutes; `make test` runs both briefly): the Zig frame, MessagePack and request decoders on
# mutated golden frames (schemas/ipc/*.hex), and the velos.toml loader on generated files (proptest).
# A failure prints its seed: VELOS_FUZZ_SEED=... make fuzz replays it.
FUZZ_ITERATIONS ?= 3000000
FUZZ_CASES ?= 50000
fuzz: tools
	VELOS_FUZZ_ITERATIONS=$(FUZZ_ITERATIONS) VELOS_FUZZ_SEED=$${VELOS_FUZZ_SEED:-$$(date +%s)} $(ZIG) build fuzz --summary all
	PROPTEST_CASES=$(FUZZ_CASES) cargo test -p velos-config --test fuzz

fmt:
	cargo fmt --all
	$(ZIG) fmt build.zig zig/src

lint: tools
	cargo clippy --workspace --all-targets -- -D warnings
	$(ZIG) fmt --check build.zig zig/src

clean:
	cargo clean
	rm -rf zig-out .zig-cache
