# Portico: `make run` serves the embedded default, `make test` is the one test command.

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
TEST_REDIS_URL    ?= redis://127.0.0.1:6379
CARGO             ?= cargo

export TEST_DATABASE_URL

.PHONY: run test compose-check conformance-deps test-postgres test-sqlite lint fmt schema seed-demo bench-auth bench-board bench-redis-outage bench-ws bench-ws-heap bench-files bench-notify clean

## Serve the embedded default (SQLite in ./data, everything in process) on 127.0.0.1:8080.
run:
	$(CARGO) run -- serve

## Lint, then the whole suite on PostgreSQL (with Redis) and again on SQLite.
test: lint compose-check conformance-deps test-postgres test-sqlite
	@echo "make test: lint, PostgreSQL+Redis and SQLite suites all passed"

## Unit tests and the API suite against PostgreSQL, caches in Redis.
test-postgres:
	PORTICO_TEST_DB=postgres PORTICO_TEST_REDIS_URL=$(TEST_REDIS_URL) $(CARGO) test --workspace --all-targets

## The API suite against SQLite (the embedded default), caches in process.
test-sqlite:
	PORTICO_TEST_DB=sqlite PORTICO_TEST_REDIS_URL= $(CARGO) test --test api -- --skip faults::a_database_outage_answers_unavailable_and_never_signs_anyone_out

## docker-compose.yml is valid (Debian's docker-compose; no Docker engine needed).
compose-check:
	docker-compose -f docker-compose.yml config -q

## The reference clients the conformance tests run (graphql-http's audit, graphql-ws) and the
## schema-aware fuzzer (schemathesis, in a virtualenv), pinned.
conformance-deps:
	npm ci --prefix tests/conformance --no-audit --no-fund --loglevel=error
	test -x tests/conformance/.venv/bin/python || python3 -m venv tests/conformance/.venv
	tests/conformance/.venv/bin/pip install --quiet --disable-pip-version-check -r tests/conformance/requirements.txt

## rustfmt check and clippy with warnings denied.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## Regenerate schema/schema.graphql from the code.
schema:
	$(CARGO) run --quiet -- export-schema --out schema/schema.graphql

seed-demo:
	$(CARGO) run -- seed-demo

## Foundation cost figures (argon2id, JWT, login flood); see bench/README.md.
bench-auth:
	$(CARGO) run --release --example auth_costs

## Board benchmark on PostgreSQL (seeds its own database, drops it); see bench/README.md.
bench-board:
	$(CARGO) run --release --example board_load

## Reads and writes with a private Redis up, then paused (SIGSTOP); see bench/README.md.
bench-redis-outage:
	BENCH_REDIS=outage $(CARGO) run --release --example board_load

## Heap held per live subscription, counted with dhat (BENCH_HEAP_PROFILE=1 lists the sites).
bench-ws-heap:
	$(CARGO) run --release --example ws_heap

## Websocket fan-out on PostgreSQL and Redis (1k and 10k subscribers, one and two instances).
bench-ws:
	ulimit -n 20000 2>/dev/null; $(CARGO) run --release --example ws_fanout

## Signed URL mints per second and 1,000 uploads of 1 MB (embedded and S3); see bench/README.md.
bench-files:
	$(CARGO) build --release --bin portico --example file_uploads
	PORTICO_BIN=$${CARGO_TARGET_DIR:-target}/release/portico $${CARGO_TARGET_DIR:-target}/release/examples/file_uploads

## Notifications: 10,000 events to a local SMTP sink, mutations with and without; see bench/README.md.
bench-notify:
	$(CARGO) run --release --example notify_load

clean:
	$(CARGO) clean
	rm -rf data
