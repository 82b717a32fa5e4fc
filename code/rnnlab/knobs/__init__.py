"""The sweeps behind the book's interactive figures: one knob, a grid of values, curves (issue 26).

Each module computes, with the package's own functions, the curves of one chapter's figure at
every value of a grid of the knob its argument turns on, and returns them in the form
:func:`rnnlab.explore.slider_figure` takes: ``{knob value: {series name: (x, y)}}``. The
chapter shows the figure; the tests check a sweep's curves, at two knob values, against the
function that computes each one directly.

* :mod:`rnnlab.knobs.noise_level` (chapter 1): the noise level of the test inputs and the error
  by time step.
* :mod:`rnnlab.knobs.truncation` (chapter 2): the truncation window k and what truncated BPTT
  keeps of each time lag.
* :mod:`rnnlab.knobs.radius` (chapter 3): the spectral radius of ``W_hh`` and the gradient
  ratio by lag.
* :mod:`rnnlab.knobs.gate_bias` (chapter 4): the bias of the gate that keeps the old state (the
  LSTM's forget gate, the GRU's update gate) and the gradient ratio by lag at initialisation.
* :mod:`rnnlab.knobs.gain` (chapter 5): the gain s of a deep stack's weights; per-layer
  activation std and gradient norm at initialisation.
* :mod:`rnnlab.knobs.temperature` (chapter 6): the sampling temperature of a character
  language model and the sorted next-character probabilities, entropy and samples it gives.
* :mod:`rnnlab.knobs.ring` (chapter 7): the decade d of the LRU's eigenvalue ring
  (``1 - 10^-d`` to ``1 - 10^-(d+1)``) and the gradient ratio by lag read from its eigenvalues,
  with the memory horizons at 1%.
"""
