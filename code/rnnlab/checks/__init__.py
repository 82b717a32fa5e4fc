"""Automatic checks of the exercises, one module per chapter (``ch01``, ``ch02``, ...).

Call them as ``rnnlab.checks.<name>(answer)``; see :mod:`rnnlab.checks._core` for what a check
prints, returns and raises.
"""
from ._core import CheckFailed, CheckResult, check, report_failures  # noqa: F401
from .ch01 import *  # noqa: F401,F403
from .ch02 import *  # noqa: F401,F403
from .ch03 import *  # noqa: F401,F403
from .ch04 import *  # noqa: F401,F403
from .ch05 import *  # noqa: F401,F403
from .ch06 import *  # noqa: F401,F403
from .ch07 import *  # noqa: F401,F403
