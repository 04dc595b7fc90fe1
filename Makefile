# tcplab: `make` builds, `make demo` runs the demo, `make test` runs every test.
.PHONY: all build install native typecheck test demo bench clean

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

demo: build
	node dist/cli.js demo

bench: build
	node --import ./tools/ts-loader.mjs tools/bench/run.ts

clean:
	rm -rf dist node_modules devices/native/build
