# Switchboard — `make run` runs the whole system locally, `make test` runs every test tier.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test test-containers soak soak-fuzz soak-faults bench bench-full kafka-start kafka-stop clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The browser tests drive Debian's chromium (never `playwright install`) and the scrape test its prometheus; they fail without them.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

install: $(STAMP)
	command -v chromium >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium fonts-noto-color-emoji)
	command -v prometheus >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y prometheus)   # the Prometheus scrape test

run: install
	$(BIN)/switchboard run

test: install
	$(BIN)/python -m pytest

# The container tier (tests_containers/, never collected by `make test`): Kafka 4.3.1, a ClickHouse
# server and the registry as Docker containers through testcontainers. Without an engine it stops at once.
test-containers: install
	$(BIN)/python -m pip install --quiet testcontainers==4.15.0
	$(BIN)/python -m pytest -q -p no:cacheprovider tests_containers

# Soak-sized runs, by hand or nightly: `soak` gathers them (other soak runs add themselves as prerequisites).
soak: soak-fuzz soak-faults

# The edge fuzzed with 10,000 cases per channel and property (tests/connectors/test_fuzz.py; `make test` runs a few hundred).
soak-fuzz: install
	HYPOTHESIS_PROFILE=soak $(BIN)/python -m pytest -q -p no:cacheprovider tests/connectors/test_fuzz.py

# The fault tier for at least 10 minutes at 200 msg/s, faults in rounds, a 60 s store refusal
# (tests/browser/test_faults_under_load.py; `make test` runs one round at 30 msg/s). Prints a JSON line per fault.
# SWITCHBOARD_SOAK_RATE=N asks less of a machine that cannot carry 200 msg/s with every role on it.
soak-faults: install
	SWITCHBOARD_SOAK=1 $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/browser/test_faults_under_load.py

# Benchmarks print JSON figures; they are run by hand, never by CI. The edge and conversation
# benchmarks need the local broker (make kafka-start).
bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'   # matplotlib: the pipeline benchmark's plots
	$(BIN)/python -m benchmarks.routing_bench
	$(BIN)/python -m pip install --quiet py3langid==0.4.0   # the language benchmark's other candidate
	$(BIN)/python -m benchmarks.language_bench
	$(BIN)/python -m benchmarks.routing_restore_bench   # 1 M routing entities: one domain restored by key range
	$(BIN)/python -m benchmarks.expiry_bench            # 1 M threads: the expiry scan reads only what is due
	$(BIN)/switchboard kafka start
	$(BIN)/python -m benchmarks.edge_bench
	$(BIN)/python -m benchmarks.conversations_bench --bootstrap 127.0.0.1:9092
	$(BIN)/python -m benchmarks.ledger_bench --bootstrap 127.0.0.1:9092   # 1 M ledger entries: deliver's restart
	$(BIN)/python -m benchmarks.pipeline_bench   # ~5 min, its own scratch broker: webhooks -> facts and offers (docs/benchmarks.md)

# The long runs: the pipeline at each rate for 2 minutes and 200,000 requests at saturation.
bench-full: bench
	$(BIN)/python -m benchmarks.pipeline_bench --seconds 120 --saturation 200000 --out .data/bench/pipeline-full.json

kafka-start: install
	$(BIN)/switchboard kafka start

kafka-stop: install
	$(BIN)/switchboard kafka stop

clean:
	-$(BIN)/switchboard kafka stop
	rm -rf .data
