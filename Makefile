# Two commands do everything on a fresh Debian 12 machine: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
export KIVY_NO_ARGS := 1

.PHONY: setup run test lint pytest bench clean deb deb-setup deb-test

setup:
	@VENV=$(VENV) bash scripts/setup.sh

## Start the kiosk on the embedded defaults (sim profile, sandbox registry).
run: setup
	$(BIN)/kiosk run $(RUN_ARGS)

## Lint, type-check and run the whole test suite (pytest exit 5, no tests, fails too).
test: setup lint pytest

lint:
	$(BIN)/ruff check kiosk drivers screens tests
	$(BIN)/ruff format --check kiosk drivers screens tests
	$(BIN)/mypy

## Four workers on the machines' two cores: the tests wait on subprocesses, sockets, daemons
## and Kivy frames, so two workers kept the cores 80% busy (7 min 10 s) and three 92% (5 min
## 37 s to 6 min 37 s on this noisy machine), same suite; at 751 tests three took 5 min 40 s
## and four 4 min 38 s, same machine, same hour (1.5 of the two cores were busy with three).
## A test file stays whole on one worker (a UI file shares its worker's app; the tests that
## start the machine's one pcscd are one file). A worker that dies ends the run: pytest-xdist's loadfile rescheduling
## can hang after a restart (pytest-xdist#784); tests/crash_reports.py prints what it was doing.
pytest:
	$(BIN)/python -m pytest -n 4 --dist loadfile --max-worker-restart=0

## The Debian package (dist/dengji-kiosk_<version>_<arch>.deb), built with debhelper and
## dh-virtualenv from a copy of the tree's files (build/deb), then checked by lintian.
deb: deb-setup
	@bash scripts/build_deb.sh

deb-setup:
	@APT_LISTS="scripts/apt-dev.txt scripts/apt-build.txt" bash scripts/apt_install.sh

## Install the package into a clean Debian 12 root and run the kiosk's self-test from it;
## then the update procedure there: window, open visit, upgrade, rollback.
deb-test: deb
	@bash scripts/deb_install_test.sh
	@bash scripts/deb_update_test.sh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist
