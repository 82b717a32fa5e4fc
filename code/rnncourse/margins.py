"""How close each claim of the book comes to failing, over many executions (issue: claims that
hold on any machine and any seed).

Every claim of a chapter (:mod:`rnnlab.claims`) is a logging record; in a kernel where
:func:`rnnlab.claims.log_to` was called, each is appended to a file as one JSON line with its
value, threshold and *headroom*, the notebook it ran in and the kernel's process id.
:func:`claims_log_code` is that call, as the tools run it in a kernel before the notebook's
first cell (:func:`rnncourse.timing.run_notebook` with ``claims_log=``, nbval with pytest's
``--claims-log``). This module runs the chapters in the ways they are really run and reports,
for every claim, its smallest headroom:

``python -m rnncourse.margins run OUT_DIR [--ways plain,threads2,busy] [--repeat 1] [NB ...]``
    executes each chapter in a fresh kernel, once per way and repeat: ``plain`` (as a learner
    runs it, one torch thread), ``threads2`` (the notebook's ``torch.set_num_threads(1)`` turned
    into 2, with ``OMP_NUM_THREADS=2``), ``busy`` (a CPU-bound process on the other core);
    one log per way in ``OUT_DIR``.
``python -m rnncourse.margins report LOG ...``
    reads logs of any execution (these; nbval: ``pytest --claims-log LOG``, or
    ``make test CLAIMS_LOG=LOG``; the book build: ``python -m rnncourse.book --claims-log LOG``)
    and prints, per chapter, the claims sorted by their smallest headroom, and the chapter's
    smallest headroom over all measured claims (exact facts and facts about the machine
    excluded).

A log line whose notebook is unknown (a ``source`` of None: a kernel where ``log_to`` was called
without one) is assigned to the notebook whose claims it shares, by claim text.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from .notebooks import CHAPTER_GLOB

__all__ = ["WAYS", "claims_log_code", "kernel_arguments", "read_logs", "assign_sources",
           "smallest_headroom", "report", "run", "main"]

WAYS = ("plain", "threads2", "busy")


def claims_log_code(log, source: str | None) -> str:
    """The line of code that makes a kernel append every claim to the file ``log`` (made
    absolute), naming the notebook ``source``; it leaves no name behind in the kernel. One line,
    so that it also serves as IPython's ``--IPKernelApp.exec_lines`` (:func:`kernel_arguments`)."""
    return (f"from rnnlab import claims as _claims; _claims.log_to("
            f"{str(Path(log).resolve())!r}, source={source!r}); del _claims")


def kernel_arguments(log, source: str | None) -> list[str]:
    """Arguments of ``ipykernel_launcher`` that run :func:`claims_log_code` as the kernel
    starts, before any cell and outside its history (nbclient's ``extra_arguments``)."""
    return [f"--IPKernelApp.exec_lines={claims_log_code(log, source)}"]


def read_logs(paths) -> list[dict]:
    """Every claim line of the given JSON-lines logs, each with the log's name as ``"log"``."""
    lines = []
    for path in paths:
        path = Path(path)
        for raw in path.read_text(encoding="utf-8").splitlines():
            if raw.strip():
                lines.append({**json.loads(raw), "log": path.name})
    return lines


def assign_sources(lines: list[dict]) -> list[dict]:
    """Give every line a ``"source"``: its own, or else that of the notebook sharing most claim
    texts with the line's execution (same log and process)."""
    known = defaultdict(set)
    for line in lines:
        if line.get("source"):
            known[line["source"]].add(line["claim"])
    groups = defaultdict(list)
    for line in lines:
        if not line.get("source"):
            groups[line["log"], line["pid"]].append(line)
    for group in groups.values():
        texts = {line["claim"] for line in group}
        best = max(known, key=lambda nb: len(known[nb] & texts), default=None)
        for line in group:
            line["source"] = best if best and known[best] & texts else "unknown"
    return lines


def smallest_headroom(lines: list[dict]) -> dict:
    """``{source: {claim: {"min": headroom, "runs": n, "failed": k, "value": v, "threshold":
    t}}}`` over the measured claims (``holds`` and machine facts have no headroom)."""
    out = defaultdict(dict)
    for line in lines:
        if line["kind"] in ("holds", "machine") or line.get("headroom") is None:
            continue
        room = line["headroom"]
        room = -math.inf if room is None or (isinstance(room, float) and math.isnan(room)) else room
        entry = out[line["source"]].setdefault(line["claim"], {"min": math.inf, "runs": 0,
                                                               "failed": 0})
        entry["runs"] += 1
        entry["failed"] += 0 if line["ok"] else 1
        if room < entry["min"]:
            entry.update(min=room, value=line["value"], threshold=line["threshold"])
    return out


def report(lines: list[dict], *, worst: int = 5) -> str:
    """Per chapter: its smallest headroom and its ``worst`` thinnest claims."""
    table = smallest_headroom(assign_sources(lines))
    out = []
    for source in sorted(table):
        claims = sorted(table[source].items(), key=lambda kv: kv[1]["min"])
        runs = max(c["runs"] for _, c in claims)
        failed = sum(c["failed"] for _, c in claims)
        out.append(f"{source}: {len(claims)} measured claims, up to {runs} runs each, "
                   f"{failed} failures; smallest headroom {claims[0][1]['min']:.1%}")
        for text, c in claims[:worst]:
            out.append(f"    {c['min']:8.1%}  {text} (value {c['value']:.4g}, threshold "
                       f"{c['threshold']}, {c['runs']} runs)")
    return "\n".join(out)


def _busy(stop):
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def _variant(path: Path, way: str, folder: Path) -> Path:
    """The notebook to run for ``way``: the chapter itself, or a copy with two torch threads."""
    if way != "threads2":
        return path
    text = path.read_text(encoding="utf-8").replace("torch.set_num_threads(1)",
                                                    "torch.set_num_threads(2)")
    copy = folder / path.name
    copy.write_text(text, encoding="utf-8")
    return copy


def run(paths, out_dir, *, ways=WAYS, repeat: int = 1, log=print) -> list[Path]:
    """Execute every notebook of ``paths`` in each of ``ways``, ``repeat`` times; the logs."""
    from .timing import run_notebook

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    logs = []
    for way in ways:
        if way not in WAYS:
            raise ValueError(f"way must be one of {list(WAYS)}, got {way!r}")
        log_path = out_dir / f"{way}.jsonl"
        logs.append(log_path)
        stop = multiprocessing.Event()
        busy = multiprocessing.Process(target=_busy, args=(stop,)) if way == "busy" else None
        if busy:
            busy.start()
        saved = os.environ.get("OMP_NUM_THREADS")
        try:
            with tempfile.TemporaryDirectory() as tmp:
                for path in map(Path, paths):
                    os.environ["OMP_NUM_THREADS"] = "2" if way == "threads2" else "1"
                    for k in range(repeat):
                        nb = _variant(path, way, Path(tmp))
                        seconds = run_notebook(nb, claims_log=log_path, source=path.name)["wall"]
                        log(f"{way}: {path.name} run {k + 1}/{repeat} in {seconds:.1f} s")
        finally:
            if saved is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = saved
            if busy:
                stop.set()
                busy.join()
    return logs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnncourse.margins", description=__doc__
                                     .split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="execute the chapters in several ways, logging claims")
    p_run.add_argument("out", type=Path)
    p_run.add_argument("notebooks", nargs="*", type=Path)
    p_run.add_argument("--ways", default=",".join(WAYS))
    p_run.add_argument("--repeat", type=int, default=1)
    p_rep = sub.add_parser("report", help="smallest headroom per claim and chapter")
    p_rep.add_argument("logs", nargs="+", type=Path)
    p_rep.add_argument("--worst", type=int, default=5)
    args = parser.parse_args(argv)
    if args.command == "run":
        paths = args.notebooks or sorted(Path("chapters").glob(CHAPTER_GLOB))
        logs = run(paths, args.out, ways=args.ways.split(","), repeat=args.repeat)
        print(report(read_logs(logs)))
    else:
        missing = [str(p) for p in args.logs if not p.is_file()]
        if missing:
            parser.error(f"no such log: {', '.join(missing)}")
        print(report(read_logs(args.logs), worst=args.worst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
