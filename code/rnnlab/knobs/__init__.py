"""The sweeps behind the book's interactive figures: one knob, a grid of values, curves (issue 26).

Each module computes, with the package's own functions, the curves of one chapter's figure at
every value of a grid of the knob its argument turns on, and returns them in the form
:func:`rnnlab.explore.slider_figure` takes: ``{knob value: {series name: (x, y)}}``. The
chapter shows the figure; the tests check a sweep's curves, at two knob values, against the
function that computes each one directly.

* :mod:`rnnlab.knobs.radius` (chapter 3): the spectral radius of ``W_hh`` and the gradient
  ratio by lag.
"""
