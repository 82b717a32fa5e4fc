"""rnncourse: the course's own tooling, kept apart from the package learners import (rnnlab).

Instructors and maintainers use it; no chapter imports it. It is a project of its own
(``code/pyproject.toml``, installed editable into the repository's ``.venv``), not part of the
``rnnlab`` wheel, and runs from a clone: :func:`rnncourse.repo.find_root` finds the repository.

* :mod:`rnncourse.notebooks`: read, strip and inspect chapter notebooks (exercises, solutions,
  starters, checks); ``python -m rnncourse.notebooks strip chapters/*.ipynb``.
* :mod:`rnncourse.student`: the student edition; ``python -m rnncourse.student OUT_DIR``.
* :mod:`rnncourse.grading` and :mod:`rnncourse.assignments`: the nbgrader course, its points
  and hidden tests; ``python -m rnncourse.assignments [OUT_DIR] --release``.
* :mod:`rnncourse.colab`: the install cell that gives a hosted notebook (Colab) ``rnnlab``;
  ``python -m rnncourse.colab insert|check|show``.
* :mod:`rnncourse.book`: the HTML build (``make book``): cache rule, parallel execution of the
  notebooks the cache lacks, a failure summary that names the broken claim.
* :mod:`rnncourse.timing`: measured run time of each chapter; ``python -m rnncourse.timing``.
* :mod:`rnncourse.margins`: how close each claim comes to failing over many executions;
  ``python -m rnncourse.margins run|report``.
* :mod:`rnncourse.repo`: where the repository is (the folder holding ``_config.yml``).
* :mod:`rnncourse.latex_labels`: a Sphinx extension (``_config.yml``) so that the PDF's links to
  an exercise from another page land on it.
"""
