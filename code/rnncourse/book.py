"""Building the HTML book: the one place that knows the command, the cache rule and how to
report a failure (``make book`` and the browser test both call it).

``python -m rnncourse.book`` builds the book into ``_build/html`` with every warning an error:

* ``jupyter-book build . --all -W -n --keep-going``: ``--all`` re-reads every page, so no
  warning hides behind an incremental build; ``-W`` makes a failing notebook fail the build.
* The execution cache does not see changes to ``code/``: when the hash of the package's
  sources (:func:`rnnlab_hash`) differs from the one of the last successful build, the cache
  is cleared and every notebook runs again. The hash is written to ``_build/.rnnlab-hash``
  only after a successful build, so its time stamp is that of the last good build.
* The exercise checks run strictly (``RNNLAB_CHECKS_STRICT=1``): with the solutions in place
  every check must print PASSED. ``MPLBACKEND`` is removed from the kernels' environment:
  with ``Agg`` every figure would silently vanish from the book.

When the build fails, :func:`failure_summary` pulls out of its long log which notebooks
failed, the failing cell's last lines and the exception; a claim of the book names itself in
its message (``claim does not hold: ...``), so the summary says which statement broke.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["ROOT", "BUILD", "HASH_FILE", "COMMAND", "rnnlab_hash", "build", "failure_summary",
           "main"]

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "_build"
HASH_FILE = BUILD / ".rnnlab-hash"
COMMAND = ["build", ".", "--all", "-W", "-n", "--keep-going"]


def rnnlab_hash(root: Path = ROOT) -> str:
    """A short hash of the package's Python sources, in C-locale path order."""
    pkg = Path(root) / "code" / "rnnlab"
    files = sorted(pkg.rglob("*.py"), key=lambda p: p.relative_to(pkg).as_posix().encode())
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(pkg).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _jupyter_book() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    return str(exe) if exe.exists() else (shutil.which("jupyter-book") or "jupyter-book")


def build(root: Path = ROOT, *, timeout: int = 3600) -> subprocess.CompletedProcess:
    """Build the book in ``root`` as described above; return the finished process (its
    ``stdout`` holds the whole log, stderr merged)."""
    root = Path(root)
    hash_file = root / "_build" / ".rnnlab-hash"
    digest = rnnlab_hash(root)
    if not hash_file.exists() or hash_file.read_text().strip() != digest:
        shutil.rmtree(root / "_build" / ".jupyter_cache", ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["RNNLAB_CHECKS_STRICT"] = "1"
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
    done = build()
    print(done.stdout[-4000:] if done.returncode == 0 else "")
    if done.returncode != 0:
        print("the book build failed (jupyter-book " + " ".join(COMMAND) + "):\n"
              + failure_summary(done.stdout), file=sys.stderr)
        return 1
    print(f"built {BUILD / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
