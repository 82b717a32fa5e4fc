"""Measured run time of each chapter notebook (instructors' guide).

``python -m rnncourse.timing [--out chapters/timings.json] [--repeat 3]`` (or ``make timings``)
executes every chapter notebook ``NN_*.ipynb`` in a fresh kernel, as nbval does (kernel start
and shutdown included), ``--repeat`` times, and writes the median wall time per chapter with
the machine it was measured on (CPU model and cores, torch threads, Python and torch
versions, load average, date) as JSON. The instructors' guide reads that file with
:func:`load` and shows it as a table, so the numbers in the book are measured, never typed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from rnnlab._validate import check_int

from . import notebooks as nbt
from .notebooks import CHAPTER_GLOB

__all__ = ["SCHEMA", "time_notebook", "machine", "measure", "check_timings", "load", "main"]

SCHEMA = 1
_MACHINE_KEYS = {"cpu_model": str, "cpu_cores": int, "torch_threads": int, "python": str,
                 "torch": str, "platform": str, "load_average": list}
_CHAPTER_KEYS = {"notebook": str, "title": str, "seconds": float, "runs": list}


def time_notebook(path, *, kernel: str = "python3", timeout: int = 600) -> float:
    """Wall seconds to execute the notebook at ``path`` in a fresh kernel, start to shutdown.

    The kernel runs in the notebook's folder; a cell that raises (outside ``raises-exception``
    cells) raises ``nbclient``'s ``CellExecutionError``.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"expected an existing notebook file, got {path}")
    timeout = check_int(timeout, "timeout", minimum=1)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine() -> dict:
    """The machine the measurement runs on: CPU, cores, torch threads, versions, load."""
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = list(os.getloadavg()) if hasattr(os, "getloadavg") else []
    return {"cpu_model": _cpu_model(), "cpu_cores": int(cores or 1),
            "torch_threads": int(torch.get_num_threads()),
            "python": platform.python_version(), "torch": torch.__version__.split("+")[0],
            "platform": platform.platform(terse=True), "load_average": [round(x, 2) for x in load]}


def measure(paths, *, repeat: int = 3, kernel: str = "python3", timeout: int = 600,
            log=None) -> dict:
    """Time each notebook of ``paths`` ``repeat`` times; the result that :func:`load` reads."""
    repeat = check_int(repeat, "repeat", minimum=1)
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("expected at least one notebook to time, got none")
    info = machine()
    chapters = []
    for path in paths:
        runs = []
        for k in range(repeat):
            try:
                runs.append(round(time_notebook(path, kernel=kernel, timeout=timeout), 2))
            except Exception:
                if log:
                    log(f"{path.name}: run {k + 1}/{repeat} failed")
                raise
            if log:
                log(f"{path.name}: run {k + 1}/{repeat} took {runs[-1]:.1f} s")
        chapters.append({"notebook": path.name, "title": nbt.title(nbt.read(path)),
                         "seconds": round(float(statistics.median(runs)), 2), "runs": runs})
    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()] \
        if hasattr(os, "getloadavg") else []
    return {"schema": SCHEMA, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "repeat": repeat, "kernel": kernel, "statistic": "median wall seconds, kernel "
            "start included", "machine": info, "chapters": chapters}


def check_timings(data) -> dict:
    """Return ``data`` if it has the schema :func:`measure` writes; raise ValueError otherwise."""
    if not isinstance(data, dict):
        raise ValueError(f"timings must be a JSON object, got {type(data).__name__}")
    if data.get("schema") != SCHEMA:
        raise ValueError(f"timings schema must be {SCHEMA}, got {data.get('schema')!r}")
    for key, kind in (("date", str), ("repeat", int), ("kernel", str), ("machine", dict),
                      ("chapters", list)):
        if not isinstance(data.get(key), kind):
            raise ValueError(f"timings field {key!r} must be a {kind.__name__}, "
                             f"got {data.get(key)!r:.60}")
    for key, kind in _MACHINE_KEYS.items():
        if not isinstance(data["machine"].get(key), kind):
            raise ValueError(f"timings machine field {key!r} must be a {kind.__name__}, "
                             f"got {data['machine'].get(key)!r:.60}")
    for i, chapter in enumerate(data["chapters"]):
        for key, kind in _CHAPTER_KEYS.items():
            value = chapter.get(key) if isinstance(chapter, dict) else None
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind):
                raise ValueError(f"timings chapter {i} field {key!r} must be a {kind.__name__}, "
                                 f"got {value!r:.60}")
        if len(chapter["runs"]) != data["repeat"] or chapter["seconds"] < 0:
            raise ValueError(f"timings chapter {i} ({chapter['notebook']}) must have "
                             f"{data['repeat']} runs and seconds >= 0")
    return data


def load(path) -> dict:
    """Read and validate a timings file written by ``python -m rnncourse.timing``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no timings file at {path}; run `make timings` first")
    return check_timings(json.loads(path.read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnncourse.timing",
        description="Execute each chapter notebook in a fresh kernel and record its run time.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to time (default: every NN_*.ipynb of --source)")
    parser.add_argument("--source", type=Path, default=Path("chapters"),
                        help="folder of the chapter notebooks (default: chapters)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON file to write (default: SOURCE/timings.json)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per notebook; the median is recorded (default: 3)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    parser.add_argument("--kernel", default="python3", help="kernel name (default: python3)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    if args.timeout < 1:
        parser.error(f"--timeout must be at least 1 second, got {args.timeout}")
    paths = args.notebooks
    if not paths:
        if not args.source.is_dir():
            parser.error(f"source folder {args.source} does not exist (run from the repository "
                         "root or pass --source)")
        paths = sorted(args.source.glob(CHAPTER_GLOB))
        if not paths:
            parser.error(f"no chapter notebooks ({CHAPTER_GLOB}) in {args.source}")
    missing = [str(p) for p in paths if not p.is_file() or p.suffix != ".ipynb"]
    if missing:
        parser.error(f"not notebook files: {', '.join(missing)}")
    out = args.out or args.source / "timings.json"
    if not out.parent.is_dir():
        parser.error(f"the folder of --out {out} does not exist")
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    try:
        data = measure(paths, repeat=args.repeat, kernel=args.kernel, timeout=args.timeout,
                       log=lambda msg: print(msg, flush=True))
    except (CellExecutionError, CellTimeoutError) as exc:
        last = str(exc).strip().splitlines()[-1:] or [""]
        print(f"error: a notebook failed, so nothing was written to {out}: {last[0]}",
              file=sys.stderr)
        return 1
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for chapter in data["chapters"]:
        print(f"{chapter['notebook']}: {chapter['seconds']:.1f} s (median of {args.repeat})")
    print(f"wrote {out} (measured on {data['machine']['cpu_cores']} cores, "
          f"{data['machine']['cpu_model']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
