# Switchboard — `make run` runs the whole system locally, `make test` runs every test tier.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test bench kafka-start kafka-stop clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The browser tests drive Debian's chromium (never `playwright install`); they fail without it.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

install: $(STAMP)
	command -v chromium >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium fonts-noto-color-emoji)

run: install
	$(BIN)/switchboard run

test: install
	$(BIN)/python -m pytest

# Benchmarks print JSON figures; they are run by hand, never by CI. The edge and conversation
# benchmarks need the local broker (make kafka-start).
bench: install
	$(BIN)/python -m benchmarks.routing_bench
	$(BIN)/switchboard kafka start
	$(BIN)/python -m benchmarks.edge_bench
	$(BIN)/python -m benchmarks.conversations_bench --bootstrap 127.0.0.1:9092

kafka-start: install
	$(BIN)/switchboard kafka start

kafka-stop: install
	$(BIN)/switchboard kafka stop

clean:
	-$(BIN)/switchboard kafka stop
	rm -rf .data
