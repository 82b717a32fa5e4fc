"""rnnlab: the shared code of the course *Recurrent Networks, Hands-On*.

Small modules, one idea each; every module's docstring names the chapter that introduces it.
Import what a chapter needs, e.g. ``from rnnlab import runtime, tasks, train``.
"""
__version__ = "0.1.0"
