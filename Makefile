# tcplab: `make` builds, `make demo` runs the demo, `make test` runs every test.
.PHONY: all build install typecheck test demo bench clean

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

build: install
	node tools/build.mjs

typecheck: install
	npx tsc --noEmit

test: build typecheck
	npx ava

demo: build
	node dist/cli.js demo

bench: build
	node --import ./tools/ts-loader.mjs tools/bench/run.ts

clean:
	rm -rf dist node_modules
