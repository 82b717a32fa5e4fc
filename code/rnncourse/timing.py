"""Measured run time of each chapter notebook (instructors' guide, landing page).

``python -m rnncourse.timing [NOTEBOOK ...] [--out chapters/timings.json] [--repeat 3]`` (or
``make timings``) executes every chapter notebook ``NN_*.ipynb`` in a fresh kernel, as nbval
does (kernel start and shutdown included), ``--repeat`` times, and, in the same run, a notebook
made of the chapter's code cells up to its setup cell alone (kernel start and the chapter's
imports). For each chapter it records the median of

* ``seconds``: wall time of the whole chapter;
* ``import_seconds``: wall time of the kernel start and the imports alone;
* ``work_seconds``: the difference, the chapter's own work;
* ``cpu_seconds``: CPU time of the kernel process over the whole chapter, which, unlike the
  wall time, hardly depends on what else the machine is doing;

with the machine it was measured on (CPU model and cores, torch threads, Python and torch
versions, load average before and after, date), as JSON. The landing page and the instructors'
guide read that file with :func:`load`, so the numbers in the book are measured, never typed,
and a reader on another machine sees which part is start-up and which part is work.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from rnnlab._validate import check_int

from . import notebooks as nbt
from .notebooks import CHAPTER_GLOB

__all__ = ["SCHEMA", "setup_cell", "run_notebook", "time_notebook", "machine", "measure",
           "check_timings", "load", "main"]

SCHEMA = 2
_MACHINE_KEYS = {"cpu_model": str, "cpu_cores": int, "torch_threads": int, "python": str,
                 "torch": str, "platform": str, "load_average": list}
_CHAPTER_KEYS = {"notebook": str, "title": str, "seconds": float, "import_seconds": float,
                 "work_seconds": float, "cpu_seconds": float, "runs": list, "import_runs": list}
_IMPORTS_RNNLAB = re.compile(r"^\s*(from\s+rnnlab\b|import\s+rnnlab\b)", re.M)


def setup_cell(nb: dict) -> int:
    """Index of the chapter's setup cell: the first code cell that imports ``rnnlab``."""
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and _IMPORTS_RNNLAB.search(nbt.source(cell)):
            return i
    raise ValueError("the notebook has no code cell that imports rnnlab (its setup cell)")


def run_notebook(path, *, kernel: str = "python3", timeout: int = 600,
                 imports_only: bool = False, claims_log=None, source: str | None = None) -> dict:
    """Execute the notebook at ``path`` in a fresh kernel (in the notebook's folder), start to
    shutdown; ``imports_only`` runs its code cells up to the setup cell alone. With
    ``claims_log``, the kernel appends every claim to that file, naming the notebook ``source``
    (default: the file's name): :func:`rnncourse.margins.kernel_arguments` runs the hook as
    the kernel starts, outside the notebook and its history. Returns
    ``{"wall": seconds, "cpu": CPU seconds of the kernel process and its children}``.

    A cell that raises (outside ``raises-exception`` cells) raises ``nbclient``'s
    ``CellExecutionError``.
    """
    import nbformat
    import psutil
    from nbclient import NotebookClient

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"expected an existing notebook file, got {path}")
    timeout = check_int(timeout, "timeout", minimum=1)
    nb = nbformat.read(path, as_version=4)
    if imports_only:
        nb.cells = [c for c in nb.cells[:setup_cell(nb) + 1] if c.cell_type == "code"]
    extra = []
    if claims_log is not None:
        from .margins import kernel_arguments

        extra = kernel_arguments(claims_log, source or path.name)
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel, extra_arguments=extra,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    start = time.perf_counter()
    with client.setup_kernel():
        kernel_process = psutil.Process(client.km.provisioner.process.pid)
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        t = kernel_process.cpu_times()
        cpu = t.user + t.system + t.children_user + t.children_system
    if claims_log is not None and not Path(claims_log).is_file():   # log_to creates it at once
        raise RuntimeError(f"the kernel {kernel!r} did not open the claims log {claims_log} "
                           "(can it import rnnlab?)")
    return {"wall": time.perf_counter() - start, "cpu": cpu}


def time_notebook(path, *, kernel: str = "python3", timeout: int = 600) -> float:
    """Wall seconds to execute the notebook at ``path`` in a fresh kernel, start to shutdown."""
    return run_notebook(path, kernel=kernel, timeout=timeout)["wall"]


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
    """Time each notebook of ``paths`` ``repeat`` times, whole and imports alone, in turns; the
    result that :func:`load` reads."""
    repeat = check_int(repeat, "repeat", minimum=1)
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("expected at least one notebook to time, got none")
    info = machine()
    chapters = []
    for path in paths:
        full, imports = [], []
        for k in range(repeat):
            try:
                imports.append(run_notebook(path, kernel=kernel, timeout=timeout,
                                            imports_only=True))
                full.append(run_notebook(path, kernel=kernel, timeout=timeout))
            except Exception:
                if log:
                    log(f"{path.name}: run {k + 1}/{repeat} failed")
                raise
            if log:
                log(f"{path.name}: run {k + 1}/{repeat}: {full[-1]['wall']:.1f} s "
                    f"(imports alone {imports[-1]['wall']:.1f} s, CPU {full[-1]['cpu']:.1f} s)")

        def median(runs, key):
            return round(float(statistics.median(r[key] for r in runs)), 2)

        seconds, import_seconds = median(full, "wall"), median(imports, "wall")
        chapters.append({
            "notebook": path.name, "title": nbt.title(nbt.read(path)), "seconds": seconds,
            "import_seconds": import_seconds,
            "work_seconds": round(max(seconds - import_seconds, 0.0), 2),
            "cpu_seconds": median(full, "cpu"),
            "runs": [round(r["wall"], 2) for r in full],
            "import_runs": [round(r["wall"], 2) for r in imports]})
    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()] \
        if hasattr(os, "getloadavg") else []
    return {"schema": SCHEMA, "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "repeat": repeat, "kernel": kernel,
            "statistic": "median wall seconds in a fresh kernel, kernel start included; "
                         "import_seconds: kernel start and the chapter's imports alone; "
                         "cpu_seconds: CPU time of the kernel process",
            "machine": info, "chapters": chapters}


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
        if len(chapter["runs"]) != data["repeat"] or chapter["seconds"] < 0 \
                or len(chapter["import_runs"]) != data["repeat"]:
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
        print(f"{chapter['notebook']}: {chapter['seconds']:.1f} s = "
              f"{chapter['import_seconds']:.1f} s start and imports + "
              f"{chapter['work_seconds']:.1f} s work; CPU "
              f"{chapter['cpu_seconds']:.1f} s (median of {args.repeat})")
    print(f"wrote {out} (measured on {data['machine']['cpu_cores']} cores, "
          f"{data['machine']['cpu_model']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
