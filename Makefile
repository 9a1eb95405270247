# Switchboard — `make run` runs the whole system locally, `make test` runs every test tier.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test kafka-start kafka-stop clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/switchboard run

test: install
	$(BIN)/python -m pytest

kafka-start: install
	$(BIN)/switchboard kafka start

kafka-stop: install
	$(BIN)/switchboard kafka stop

clean:
	-$(BIN)/switchboard kafka stop
	rm -rf .data
