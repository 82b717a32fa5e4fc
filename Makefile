# The README's commands. `make book` and `make test` each set everything up on a fresh machine
# (a virtual environment in .venv with the exact pins of requirements.txt) before they run.
#   make book     build the HTML book into _build/html, executing every notebook (-W: warnings fail)
#   make test     unit tests of rnnlab, notebook hygiene, nbval over every chapter, browser test
#   make student  the student edition (solutions removed) into student/
#   make lab      JupyterLab on chapters/ (installs JupyterLab into .venv on first use)
#   make strip    remove outputs and execution counts from the chapter notebooks
#   make timings  measure each chapter's run time into chapters/timings.json
#   make clean    remove builds, caches and the student edition (keeps .venv)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# --all: re-read every page, so no warning hides behind an incremental build; the execution
# cache still skips notebooks whose code did not change (and is cleared when rnnlab changed).
BOOK_FLAGS := -W -n --keep-going --all
PYTEST_FLAGS ?= -n 2 --dist loadfile
LAB_FLAGS ?=   # e.g. make lab LAB_FLAGS="--no-browser --port 8899" (add --allow-root in a container)

.PHONY: book test student lab strip timings clean venv

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

# The execution cache does not see changes to code/: clear it whenever the package changed.
# (tests/test_browser.py computes the same hash: C-locale order of the same files.)
book: $(STAMP)
	@hash=$$(LC_ALL=C bash -c 'cat code/rnnlab/*.py code/rnnlab/*/*.py' | sha256sum | cut -c1-16); \
	if [ "$$(cat _build/.rnnlab-hash 2>/dev/null)" != "$$hash" ]; then \
	  echo "rnnlab changed: clearing the execution cache"; rm -rf _build/.jupyter_cache; fi; \
	$(BIN)/jupyter-book build . $(BOOK_FLAGS) && mkdir -p _build && echo "$$hash" > _build/.rnnlab-hash

# Two xdist workers on a 2-core machine, one BLAS/OpenMP thread each, so they do not fight;
# then the browser test on its own (it may build the book, which executes every notebook).
THREADS := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
test: $(STAMP)
	$(THREADS) $(BIN)/python -m pytest $(PYTEST_FLAGS) --ignore=tests/test_browser.py
	$(BIN)/python -m pytest tests/test_browser.py

student: $(STAMP)
	$(BIN)/python -m rnncourse.student student

lab: $(STAMP)
	@$(BIN)/python -c "import jupyterlab" 2>/dev/null || \
	  $(BIN)/python -m pip install --quiet -r requirements-lab.txt -c <(grep '==' requirements.txt)
	$(BIN)/jupyter lab $(LAB_FLAGS) chapters/

strip: $(STAMP)
	$(BIN)/python -m rnncourse.notebooks strip chapters/*.ipynb

timings: $(STAMP)
	$(BIN)/python -m rnncourse.timing --out chapters/timings.json

clean:
	rm -rf _build student .pytest_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
