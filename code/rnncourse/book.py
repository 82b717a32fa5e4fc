"""Building the HTML book: the one place that knows the command, the cache rule and how to
report a failure (``make book`` and the browser test both call it).

``python -m rnncourse.book`` builds the book into ``_build/html`` with every warning an error,
then the Italian book into ``_build/html/it`` from the same execution cache
(:mod:`rnncourse.i18n`; ``--english-only`` skips it):

* ``jupyter-book build . --all -W -n --keep-going``: ``--all`` re-reads every page, so no
  warning hides behind an incremental build; ``-W`` makes a failing notebook fail the build.
* The execution cache does not see changes to ``code/``: when the hash of the package's
  sources (:func:`rnnlab_hash`) differs from the one of the last successful build, the cache
  is cleared and every notebook runs again. The hash is written to ``_build/.rnnlab-hash``
  only after a successful build, so its time stamp is that of the last good build.
* The exercise checks run strictly (``RNNLAB_CHECKS_STRICT=1``): with the solutions in place
  every check must print PASSED. ``MPLBACKEND`` is removed from the kernels' environment:
  with ``Agg`` every figure would silently vanish from the book.
* Jupyter Book executes the notebooks one after the other. When ``_config.yml`` asks for the
  execution cache, :func:`prefill_cache` first executes the notebooks of the table of contents
  that the cache lacks, ``workers`` at a time (default: one per core, each kernel with one
  BLAS/OpenMP thread), exactly as MyST-NB would (same cell timeout, the notebook's folder as
  working directory) and stores them in the cache, which the build then reads. A notebook that
  fails there is not stored: the build executes it again and reports it in its log.
* ``--claims-log LOG`` (``build(claims_log=)``): the kernels of that first execution append
  every claim to ``LOG`` (:func:`rnncourse.margins.kernel_arguments`), for
  ``python -m rnncourse.margins report``; notebooks read from the cache run no claim.

When the build fails, :func:`failure_summary` pulls out of its long log which notebooks
failed, the failing cell's last lines and the exception; a claim of the book names itself in
its message (``claim does not hold: ...``), so the summary says which statement broke.
"""
from __future__ import annotations

import fnmatch
import hashlib
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .repo import find_root

__all__ = ["HASH_FILE", "CACHE", "COMMAND", "rnnlab_hash", "toc_entries", "toc_notebooks",
           "uncached_notebooks", "prefill_cache", "build", "failure_summary", "main"]

#: Where a successful build leaves the hash of rnnlab it built with, under the repository.
HASH_FILE = Path("_build") / ".rnnlab-hash"
#: The execution cache (jupyter-cache) that the book's builds share, under the repository.
CACHE = Path("_build") / ".jupyter_cache"
COMMAND = ["build", ".", "--all", "-W", "-n", "--keep-going"]


def rnnlab_hash(root: Path | None = None) -> str:
    """A short hash of the package's Python sources, in C-locale path order."""
    pkg = Path(root or find_root()) / "code" / "rnnlab"
    files = sorted(pkg.rglob("*.py"), key=lambda p: p.relative_to(pkg).as_posix().encode())
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(pkg).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _jupyter_book() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    return str(exe) if exe.exists() else (shutil.which("jupyter-book") or "jupyter-book")


def _execute_config(root: Path) -> dict:
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text()) or {}
    return config.get("execute") or {}


def toc_entries(root: Path | None = None) -> list[str]:
    """Every page of ``_toc.yml``, root first, in its order, as written there (no suffix)."""
    import yaml

    toc = yaml.safe_load((Path(root or find_root()) / "_toc.yml").read_text())
    entries = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                entries.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in toc.items() if k != "root"})
    return list(dict.fromkeys(str(Path(e).with_suffix("")) for e in entries))


def toc_notebooks(root: Path | None = None) -> list[Path]:
    """The ``.ipynb`` files that ``_toc.yml`` lists, in its order, less ``exclude_patterns``."""
    root = Path(root or find_root())
    excluded = _execute_config(root).get("exclude_patterns") or []
    paths = [root / f"{e}.ipynb" for e in toc_entries(root)]
    return [p for p in paths if p.is_file() and not any(
        fnmatch.fnmatch(p.relative_to(root).as_posix(), pat) for pat in excluded)]


_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _execute_one(path: str, timeout: int, env: dict,
                 claims_log: str | None = None) -> tuple[str, str | None, float]:
    """Execute one notebook as MyST-NB does (in a worker process); its executed JSON, or None
    when it failed, and the seconds it took. With ``claims_log``, its claims go there."""
    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    from .margins import kernel_arguments

    os.environ.clear()
    os.environ.update(env)
    devnull = os.open(os.devnull, os.O_WRONLY)   # the kernels' start-up chatter; a failure is
    os.dup2(devnull, 2)                          # reported by the build, which runs it again
    nb = nbformat.read(path, as_version=4)
    extra = {"extra_arguments": kernel_arguments(claims_log, Path(path).name)} if claims_log \
        else {}
    result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout,
                                 allow_errors=False, meta_override=True, **extra)
    return path, None if result.err else nbformat.writes(nb), result.time


def uncached_notebooks(root: Path | None = None) -> list[Path]:
    """The notebooks of the table of contents whose current code the execution cache lacks."""
    import nbformat
    from jupyter_cache import get_cache

    root = Path(root or find_root())
    cache = get_cache(str(root / CACHE))
    todo = []
    for path in toc_notebooks(root):
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            todo.append(path)
    return todo


def prefill_cache(root: Path | None = None, *, workers: int | None = None,
                  env: dict | None = None, claims_log=None) -> dict[str, float | None]:
    """Execute the book's notebooks that the execution cache lacks, ``workers`` at a time, and
    store them there; ``{notebook: seconds, or None when it failed}``. Does nothing unless
    ``_config.yml`` sets ``execute_notebooks: cache``. With ``claims_log``, the claims of
    those executions are appended to that file."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    root = Path(root or find_root())
    config = _execute_config(root)
    if config.get("execute_notebooks") != "cache":
        return {}
    cache = get_cache(str(root / CACHE))
    todo = uncached_notebooks(root)
    if not todo:
        return {}
    workers = workers or os.cpu_count() or 1
    kernel_env = {**(env or os.environ), **dict.fromkeys(_THREADS, "1")} if workers > 1 \
        else dict(env or os.environ)
    timeout = int(config.get("timeout", 30))
    times: dict[str, float | None] = {}
    with ProcessPoolExecutor(max_workers=min(workers, len(todo)),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        log = str(Path(claims_log).resolve()) if claims_log else None
        for path, executed, seconds in pool.map(_execute_one, map(str, todo),
                                                [timeout] * len(todo), [kernel_env] * len(todo),
                                                [log] * len(todo)):
            times[path] = None if executed is None else seconds
            if executed is not None:
                cache.cache_notebook_bundle(
                    CacheBundleIn(nbformat.reads(executed, as_version=4), path,
                                  data={"execution_seconds": seconds}),
                    check_validity=False, overwrite=True)
    return times


def build(root: Path | None = None, *, timeout: int = 3600, workers: int | None = None,
          claims_log=None) -> subprocess.CompletedProcess:
    """Build the book in ``root`` (default: the repository, :func:`rnncourse.repo.find_root`)
    as described above; return the finished process (its ``stdout`` holds the whole log,
    stderr merged)."""
    root = Path(root or find_root())
    hash_file = root / HASH_FILE
    digest = rnnlab_hash(root)
    if not hash_file.exists() or hash_file.read_text().strip() != digest:
        shutil.rmtree(root / CACHE, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["RNNLAB_CHECKS_STRICT"] = "1"
    times = prefill_cache(root, workers=workers, env=env, claims_log=claims_log)
    if times:
        print("executed before the build, into the cache: " + ", ".join(
            f"{Path(p).stem} {'failed' if t is None else f'{t:.0f} s'}" for p, t in times.items()),
            flush=True)
    done = subprocess.run([_jupyter_book(), *COMMAND], cwd=root, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if done.returncode == 0:
        hash_file.parent.mkdir(exist_ok=True)
        hash_file.write_text(digest + "\n")
    return done


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CELL = re.compile(r"following cell:\s*-{10,}\n(.*?)\n-{10,}", re.S)
_RAISED = re.compile(r"^(\w+(?:Error|Failed|Exception)): (.+)$", re.M)


def failure_summary(log: str, *, lines: int = 40) -> str:
    """The part of a failed build's log a reader needs: the notebooks that failed, each
    failing cell's last lines and its exception, and the build's warnings and errors."""
    log = _ANSI.sub("", log)
    out = []
    failed = sorted(set(re.findall(r"([\w/.-]+\.ipynb): WARNING: Executing notebook failed", log)))
    if failed:
        out.append("notebooks that failed: " + ", ".join(failed))
    for block in log.split("An error occurred while executing the following cell:")[1:]:
        cell = _CELL.search("following cell:" + block)
        code = [ln for ln in cell.group(1).splitlines() if ln.strip()][-6:] if cell else []
        raised = _RAISED.search(block)
        out.append("failing cell (last lines):\n    " + "\n    ".join(code))
        if raised:
            out.append(f"raised {raised.group(1)}: {raised.group(2).strip()}")
    warnings = [ln for ln in log.splitlines() if re.search(r"WARNING|ERROR", ln)
                and "IPKernelApp" not in ln]
    out += warnings[:lines]
    return "\n".join(out) if out else log[-3000:]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rnncourse.book",
                                     description="build the HTML book into _build/html")
    parser.add_argument("--claims-log", type=Path, default=None, metavar="LOG",
                        help="append the claims of the notebooks executed here to LOG")
    parser.add_argument("--english-only", action="store_true",
                        help="build the English book only, not the Italian one beside it")
    args = parser.parse_args(argv)
    root = find_root()
    done = build(root, claims_log=args.claims_log)
    print(done.stdout[-4000:] if done.returncode == 0 else "")
    if done.returncode != 0:
        print("the book build failed (jupyter-book " + " ".join(COMMAND) + "):\n"
              + failure_summary(done.stdout), file=sys.stderr)
        return 1
    print(f"built {root / '_build' / 'html' / 'index.html'}")
    if args.english_only:
        return 0
    from . import i18n

    done = i18n.build(root)
    if done.returncode != 0:
        print("the Italian book's build failed (python -m rnncourse.i18n build):\n"
              + failure_summary(done.stdout), file=sys.stderr)
        return 1
    print(f"built {root / '_build' / 'html' / i18n.SUBDIR / 'index.html'} (the Italian book, "
          "from the same execution cache)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
