# The README's commands. `make book` and `make test` each set everything up on a fresh machine
# (a virtual environment in .venv with the exact pins of requirements.txt) before they run.
#   make book     build the HTML book into _build/html, executing every notebook (-W: warnings fail)
#   make test     ruff, unit tests, notebook hygiene, nbval over every chapter, student edition,
#                 browser test
#   make test-fast  ruff, then the tests not marked slow (unit and hygiene tests: seconds)
#   make student  the student edition (solutions removed) into student/
#   make learner  rewrite the learner edition, learner/ (committed: the launch buttons open it):
#                 CommonMark text with the book's numbers (from _build), no solutions, claim cells
#                 folded, checks that report; run it after make book whenever a chapter changed
#   make lab      JupyterLab on the learner edition, learner/ (installs JupyterLab on first use)
#   make lab-authors  JupyterLab on chapters/, solutions and MyST source (authors, instructors)
#   make pdf      the book as one PDF, _build/latex/book.pdf, through LaTeX (needs TeX Live: README)
#   make strip    remove outputs and execution counts from the chapter notebooks
#   make timings  measure each chapter's run time into chapters/timings.json
#   make versions every chapter at the lowest versions pyproject.toml declares and at the newest
#                 pip installs, claims compared, into chapters/versions.json (network; GB of wheels)
#   make assignments  the nbgrader course into nbgrader/, one assignment per chapter, released
#                 (installs nbgrader into .venv on first use; see the instructors' guide)
#   make catalogues  extract the book's prose into the Italian catalogues, locales/it (new and
#                 changed messages to translate; rnncourse.i18n)
#   make book-it  the Italian book into _build/html/it, from the same execution cache (after
#                 make book); every page links to the same page in the other language
#   make clean    remove builds, caches and the student edition (keeps .venv and learner/)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HASH_STAMP := _build/.rnnlab-hash
# loadfile: a file's tests, a notebook's cells, stay on one worker; --no-loadscope-reorder:
# xdist hands out the files in conftest.py's order (the longest first), not by their size;
# --durations: the report ends with the 20 slowest tests (where CI's time goes)
PYTEST_FLAGS ?= -n 2 --dist loadfile --no-loadscope-reorder --durations=20
CLAIMS_LOG ?=   # e.g. make test CLAIMS_LOG=_build/claims.jsonl: every claim nbval runs, as JSON lines
LAB_FLAGS ?=   # e.g. make lab LAB_FLAGS="--no-browser --port 8899" (add --allow-root in a container)

.PHONY: book test test-fast student lab strip timings clean venv catalogues book-it

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml code/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

# rnncourse.book builds with -W -n --keep-going --all, clears the execution cache when rnnlab
# changed, runs the exercise checks strictly and, on failure, names the failing cell and claim.
book: $(STAMP)
	$(BIN)/python -m rnncourse.book

# The Italian edition (rnncourse.i18n): `make catalogues` after the English prose changed, then
# translate what `python -m rnncourse.i18n check` names; `make book-it` after `make book`.
catalogues: $(STAMP)
	$(BIN)/python -m rnncourse.i18n extract
	-$(BIN)/python -m rnncourse.i18n check | tail -1

book-it: $(STAMP)
	@test -f $(HASH_STAMP) || $(MAKE) book
	$(BIN)/python -m rnncourse.i18n build

# ruff first (seconds); then two xdist workers on a 2-core machine, one BLAS/OpenMP thread
# each, so they do not fight. The nbgrader test starts first on one worker, the browser test
# (it reuses the book that `make book` built, or builds it when a source changed since) on
# the other (conftest.py orders them).
THREADS := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
RUFF_PATHS := code tests conftest.py chapters
test: $(STAMP)
	$(BIN)/ruff check $(RUFF_PATHS)
	$(THREADS) $(BIN)/python -m pytest $(PYTEST_FLAGS) $(if $(CLAIMS_LOG),--claims-log $(CLAIMS_LOG))

# ruff, and every test that neither executes a notebook nor builds an environment, in one
# process: what to run after every change.
test-fast: $(STAMP)
	$(BIN)/ruff check $(RUFF_PATHS)
	$(BIN)/python -m pytest -m "not slow" -n 0 -q

# The whole book as one PDF through Jupyter Book's LaTeX builder (XeLaTeX; latex: in
# _config.yml). After `make book`, so the execution cache it reuses is current; the PDF is then
# copied beside the HTML pages, where _static/pdf-download.js offers it in the download button.
# Last, what a reader would meet, counted in XeLaTeX's log of the final pass: pages, boxes too
# wide or too high, links to nowhere, lines wrapped with a continuation mark (rnnbook.sty).
# Not part of CI (README, "The book as a PDF").
TEX_PACKAGES := latexmk texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
                texlive-xetex fonts-freefont-otf
.PHONY: pdf
pdf: book
	@command -v latexmk >/dev/null && command -v xelatex >/dev/null || { echo "make pdf needs \
	  TeX Live: sudo apt-get install --no-install-recommends $(TEX_PACKAGES)"; exit 1; }
	env -u MPLBACKEND $(BIN)/jupyter-book build . --builder pdflatex -W -n --keep-going
	cp _build/latex/book.pdf _build/html/book.pdf
	@log=_build/latex/book.log; n() { grep -c "$$1" $$log; }; echo "book.pdf: $$(grep -o \
	  'Output written on book.pdf ([0-9]* pages' $$log | grep -o '[0-9]* pages'), $$(n \
	  '^Overfull') overfull boxes, $$(n undefined) undefined references; continued: $$(n \
	  'rnnbook: code line') code lines, $$(n 'rnnbook: output line') output lines"

student: $(STAMP)
	$(BIN)/python -m rnncourse.student student

# The learner edition takes its numbers (figures, equations, exercises, citations) from the
# book's build; without one, `make book` makes it first. After a chapter changes, rebuild the
# book (make book) so that the numbers follow, and commit learner/: the book's Colab and Binder
# buttons open it (rnncourse.launch_learner), and a test keeps it equal to what this writes.
.PHONY: learner lab-authors
learner: $(STAMP)
	@test -f _build/.doctrees/environment.pickle || $(MAKE) book
	$(BIN)/python -m rnncourse.learner learner

LAB_INSTALL = @$(BIN)/python -c "import jupyterlab, jupyterlab_myst" 2>/dev/null || \
	  $(BIN)/python -m pip install --quiet -r requirements-lab.txt -c <(grep '==' requirements.txt)
lab: $(STAMP)
	$(LAB_INSTALL)
	$(BIN)/jupyter lab $(LAB_FLAGS) learner/

lab-authors: $(STAMP)
	$(LAB_INSTALL)
	$(BIN)/jupyter lab $(LAB_FLAGS) chapters/

strip: $(STAMP)
	$(BIN)/python -m rnncourse.notebooks strip chapters/*.ipynb

timings: $(STAMP)
	$(BIN)/python -m rnncourse.timing --out chapters/timings.json

# Not in CI: it downloads torch's wheels for two more environments (several GB from PyPI).
# Run it before a release and whenever a declared bound or a claim's margin changes.
.PHONY: versions
versions: $(STAMP)
	$(THREADS) $(BIN)/python -m rnncourse.versions run --out chapters/versions.json

# nbgrader (requirements-nbgrader.txt) fits requirements.txt's pins, so it goes into .venv with
# them as constraints, beside torch and rnnlab, which the autograded notebooks import.
ASSIGNMENTS_FLAGS ?=   # e.g. make assignments ASSIGNMENTS_FLAGS="--points ex-05-5=5"
.PHONY: assignments
assignments: $(STAMP)
	@$(BIN)/python -c "import nbgrader" 2>/dev/null || \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check \
	    -r requirements-nbgrader.txt -c <(grep '==' requirements.txt)
	$(BIN)/python -m rnncourse.assignments nbgrader --release $(ASSIGNMENTS_FLAGS)

clean:
	rm -rf _build student .pytest_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
