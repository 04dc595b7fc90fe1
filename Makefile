# tcplab: `make` builds, `make demo` runs the demo, `make test` runs every test.
.PHONY: all build install native typecheck test torture demo bench bench-compare clean

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

# The TUN/TAP addon; without a C compiler or Node's headers it warns and the interop tests skip.
native: install
	node tools/build-native.mjs --optional

build: install native
	node tools/build.mjs

# Two configs: the whole tree, and stack/wire/ again with noUncheckedIndexedAccess.
typecheck: install
	npx tsc --noEmit
	npx tsc --noEmit -p tsconfig.strict-wire.json

test: build typecheck
	npx ava

# The robustness torture run (test/robustness/): many more seeded transfers and millions of
# packets fuzzed into a live stack, known failures included; several minutes. Prints one
# summary line; failed runs leave a pcap and an HTML report in test-output/torture/.
TORTURE_SEEDS ?= 100000
TORTURE_PACKETS ?= 6000000
torture:
	@rm -f test-output/torture/*.summary
	@TCPLAB_TORTURE=1 TCPLAB_TORTURE_SEEDS=$(TORTURE_SEEDS) TCPLAB_FUZZ_PACKETS=$(TORTURE_PACKETS) \
	  npx ava --node-arguments=--expose-gc test/robustness/transfers.test.ts test/robustness/fuzz.test.ts; \
	status=$$?; \
	echo "torture $$(date -u +%Y-%m-%d) $$(git rev-parse --short HEAD 2>/dev/null): $$(cat test-output/torture/transfers.summary 2>/dev/null || echo 'transfers: no summary'); $$(cat test-output/torture/fuzz.summary 2>/dev/null || echo 'fuzz: no summary')"; \
	exit $$status

demo: build
	node dist/cli.js demo

bench: build
	node --import ./tools/ts-loader.mjs tools/bench/run.ts

# This checkout (uncommitted changes included) against REF, as ratios HEAD/REF with the
# spread (tools/bench/compare.ts). REF defaults to the merge-base with main, or HEAD~1 on
# main; REF=HEAD shows the noise. ROUNDS runs per tree and metric, interleaved.
REF ?=
ROUNDS ?= 10
# No install prerequisite: in a worktree whose node_modules links to a shared one, npm ci
# would empty the shared one.
bench-compare:
	node --import ./tools/ts-loader.mjs tools/bench/compare.ts $(if $(REF),--ref '$(REF)') --rounds $(ROUNDS)

clean:
	rm -rf dist node_modules devices/native/build
