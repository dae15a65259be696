# Named tasks for writing the book (README, "Writing the book"). Each runs from the
# repository root with the virtual environment that the README's test command creates.
VENV ?= .venv/bin
PYTHON := $(VENV)/python

.PHONY: help tangle stitch check-sync test-fast test book site serve format lint figures

help:  ## list the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

tangle:  ## write mnist_math/ from the chapters, from a clean state; fail on any problem
	rm -rf .entangled
	grep -rl '~/~ begin' mnist_math booktools | xargs -r rm -f
	$(VENV)/entangled tangle 2>&1 | tee .entangled-tangle.log
	@! grep -E 'Missing|ERROR|WARNING' .entangled-tangle.log
	@rm -f .entangled-tangle.log

stitch:  ## after editing a tangled module by hand: copy the edit back into its chapter
	$(VENV)/entangled stitch

check-sync:  ## the package is exactly what a clean tangle of the chapters gives
	$(PYTHON) -m pytest -q tests/test_sync.py

test-fast:  ## the quick tests: no training on MNIST, no site build, no browser, no network
	$(PYTHON) -m pytest -q -m "not slow and not browser and not site and not network"

test:  ## the whole suite, as CI runs it
	$(PYTHON) -m pytest -q

book:  ## paste every python block of the book, in order, and compare the outputs
	$(PYTHON) -m booktools.run_book

site:  ## build the site strictly into site/ (needs `npm ci` for KaTeX)
	NO_MKDOCS_2_WARNING=1 $(VENV)/mkdocs build --strict

serve:  ## preview the site, rebuilt on every save
	NO_MKDOCS_2_WARNING=1 $(VENV)/mkdocs serve

format:  ## ruff format the chapters' code blocks (then `make tangle`) and the plain files
	$(PYTHON) -m booktools.format_chapters
	$(VENV)/ruff format tests scripts benchmarks docs/hooks docs/examples booktools

lint:  ## ruff check the tangled package and the plain files; check the formatting
	$(VENV)/ruff check mnist_math tests scripts benchmarks docs/hooks docs/examples booktools
	$(VENV)/ruff format --check tests scripts benchmarks docs/hooks docs/examples booktools
	$(PYTHON) -m booktools.format_chapters --check
	$(PYTHON) -m booktools.proportions --check > /dev/null

figures:  ## remake every generated figure, table and model (`python -m booktools.publish --list`)
	$(PYTHON) -m booktools.publish
