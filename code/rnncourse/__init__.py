"""rnncourse: the course's own tooling, kept apart from the package learners import (rnnlab).

Instructors and maintainers use it; no chapter imports it.

* :mod:`rnncourse.notebooks`: read, strip and inspect chapter notebooks (exercises, solutions,
  starters, checks); ``python -m rnncourse.notebooks strip chapters/*.ipynb``.
* :mod:`rnncourse.student`: the student edition; ``python -m rnncourse.student OUT_DIR``.
* :mod:`rnncourse.timing`: measured run time of each chapter; ``python -m rnncourse.timing``.
"""
