# lastseen: `make run` sets up and runs the monitor; `make test` sets up and runs the tests;
# `make demo` shows the monitor on a local web of fictional pages (offline, under a minute).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYWB_VENV := .venv-pywb

.PHONY: run demo screenshots test bench signal-report setup pywb browser fonts check clean

run: setup
	$(BIN)/lastseen run

# Three runs on local pages that change, vanish and come back (demo/README.md); writes demo/out/.
demo: setup
	$(BIN)/python demo/demo.py $(DEMO_ARGS)

# The README's pictures of a report (docs/screenshots/), taken in Chromium from the demo's reports.
screenshots: setup browser fonts
	$(BIN)/python demo/screenshots.py $(SCREENSHOTS_ARGS)

test: setup pywb browser fonts
	LASTSEEN_PYWB_BIN=$(abspath $(PYWB_VENV))/bin $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/bench.py $(BENCH_ARGS)

# Precision and recall of alerts on the labelled corpus (tests/corpus/, docs/signal.md).
signal-report: setup
	$(BIN)/python bench/signal_report.py $(SIGNAL_ARGS)

check: setup
	$(BIN)/lastseen check watchlist.yaml

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# pywb replays WARCs in tests, and py-wacz's `wacz validate` checks `lastseen export`'s WACZ files. pywb's
# pins (brotlipy) break Scrapy's brotli decoding, so they live in a virtualenv of their own.
pywb: $(PYWB_VENV)/.installed

$(PYWB_VENV)/.installed: Makefile
	$(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/pip install --quiet --disable-pip-version-check 'pywb>=2.8' 'wacz==0.6.0'
	touch $@

# A Chromium for browser tests: found if present, else Playwright's, else Debian's.
browser: setup
	VENV_BIN=$(BIN) sh scripts/ensure-chromium.sh

# Fonts with Arabic, Hebrew and CJK glyphs: the report tests check right-to-left and CJK text renders.
fonts:
	sh scripts/ensure-fonts.sh

clean:
	rm -rf $(VENV) $(PYWB_VENV) build *.egg-info
