"""Offline virtual environments and the Jupyter kernels registered in them, shared by the tests.

Two environments stand for the places where learners run the chapters (issue 13):

* **hosted** (Colab-like): only what a hosted notebook preinstalls that the course needs
  (:data:`HOSTED`, at the exact pins of ``requirements.txt``) and no ``rnnlab``, until the
  chapters' install cell (:mod:`rnncourse.colab`) installs it. :func:`hosted_kernel` prepares
  it once per test run and registers a Jupyter kernel of it: **nbval executes every chapter in
  that kernel** (``conftest.py``), so one execution proves both that the chapters' claims hold
  and that they hold where rnnlab came from the install cell.
* **Binder**: the environment of ``binder/requirements.txt`` (:func:`binder_requirements`).
  :func:`binder_kernel` builds it once (under a file lock) and registers its Jupyter kernel:
  tests/test_nbgrader.py autogrades the chapters' submissions in it (the release is the
  student edition, cell for cell, plus the graded cells), and
  tests/test_environments.py checks what it holds.

"Offline" means that pip sees only local sources: the ``file://`` indexes and ``find-links``
of its configuration, and the folders in ``$RNNLAB_WHEELHOUSE`` (``os.pathsep``-separated);
without any, :class:`EnvironmentUnavailable` is raised. Environments live in ``_build/envs/``
and are reused while their requirements are unchanged. This module is imported by the root
``conftest.py`` and by tests; it holds no test.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
ENVS = ROOT / "_build" / "envs"
#: What a hosted notebook (Colab) preinstalls that the chapters need; Colab also ships tqdm.
HOSTED = ("torch", "numpy", "matplotlib", "ipykernel", "tqdm")
#: Lines of binder/requirements.txt replaced to build it offline, each with its reason.
BINDER_OFFLINE = {
    "--extra-index-url https://download.pytorch.org/whl/cpu":
        (None, "network index; the local wheel torch-2.13.0+cpu is the build it serves"),
    "jupyterlab==4.6.6":
        ("jupyterlab>=4.6,<4.7", "the local wheels hold another 4.6 release of JupyterLab"),
    "jupyterlab-myst==2.7.0":
        (None, "not in the local package sources; a front-end extension of JupyterLab that "
               "no notebook imports (tests/test_lab.py checks it where the lab has it)"),
}


class EnvironmentUnavailable(RuntimeError):
    """The environment cannot be built from local package sources on this machine."""


# ------------------------------------------------------------------------ environments
def pins(path: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """``{canonical name: version}`` of the exact ``name==version`` pins of a requirements file."""
    found = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9][\w.-]*)==([^\s;#]+)", line.strip())
        if m:
            found[canonicalize_name(m.group(1))] = m.group(2)
    return found


def _pip_config() -> dict[str, list[str]]:
    """Index URLs and find-links from pip's configuration and environment, by option."""
    done = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                          capture_output=True, text=True)
    options: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        m = re.match(r"^[^.]*\.([\w-]+)='(.*)'$", line.strip())
        if m and m.group(1) in ("index-url", "extra-index-url", "find-links"):
            options.setdefault(m.group(1), []).extend(m.group(2).split())
    return options


def offline_pip_env() -> dict[str, str]:
    """Environment variables that make pip use only local package sources."""
    def local(src):
        return src.startswith("file:") or (not re.match(r"^\w+://", src) and Path(src).exists())

    cfg = _pip_config()
    indexes = [u for u in cfg.get("index-url", []) + cfg.get("extra-index-url", []) if local(u)]
    links = [u for u in cfg.get("find-links", []) if local(u)]
    links += [p for p in os.environ.get("RNNLAB_WHEELHOUSE", "").split(os.pathsep) if p]
    if not indexes and not links:
        raise EnvironmentUnavailable(
            "pip has no local package source (no file:// index or find-links in its "
            "configuration, and $RNNLAB_WHEELHOUSE is unset), so nothing can be built offline")
    env = {"PIP_FIND_LINKS": " ".join(dict.fromkeys(links)), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if indexes:
        env["PIP_INDEX_URL"] = indexes[0]
        env["PIP_EXTRA_INDEX_URL"] = " ".join(indexes[1:])
    else:
        env["PIP_NO_INDEX"] = "1"
    return env


def capture(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def build_env(name: str, requirements: list[str], *, cwd: Path = ROOT) -> Path:
    """A virtual environment ``_build/envs/<name>`` holding ``requirements``; its python.

    One ``pip install`` call, from local sources only (:func:`offline_pip_env`), run in
    ``cwd`` (where relative requirements such as ``-e .`` point). An environment built from
    the same requirements is reused. Raises :class:`EnvironmentUnavailable` when pip fails.
    """
    env_dir = ENVS / name
    python = env_dir / "bin" / "python"
    key = hashlib.sha256(json.dumps([sys.version, str(cwd), requirements]).encode()).hexdigest()
    stamp = env_dir / ".requirements-hash"
    if python.exists() and stamp.is_file() and stamp.read_text() == key:
        return python
    pip_env = {**os.environ, **offline_pip_env()}
    shutil.rmtree(env_dir, ignore_errors=True)
    ENVS.mkdir(parents=True, exist_ok=True)
    done = capture([sys.executable, "-m", "venv", env_dir])
    if done.returncode == 0:
        done = capture([python, "-m", "pip", "install", "--quiet", "--no-compile", *requirements],
                    cwd=cwd, env=pip_env, timeout=1800)
    if done.returncode != 0:
        shutil.rmtree(env_dir, ignore_errors=True)
        tail = "\n".join(line for line in (done.stdout + done.stderr).splitlines()
                         if not line.startswith("WARNING: Location"))[-1500:]
        raise EnvironmentUnavailable(f"pip could not build the environment {name!r} from "
                                     f"local sources ({' '.join(requirements)}):\n{tail}")
    stamp.write_text(key)
    return python


def installed(python: Path) -> dict[str, str]:
    """``{canonical name: version}`` of what the environment of ``python`` holds."""
    done = capture([python, "-m", "pip", "list", "--format=json"])
    assert done.returncode == 0, done.stderr
    return {canonicalize_name(d["name"]): d["version"] for d in json.loads(done.stdout)}


def working_tree_copy(dest: Path) -> Path:
    """What ``pip install <clone>`` needs of this working tree, copied to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "code", dest / "code",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


# ------------------------------------------------------------------------ the two environments
@contextmanager
def _locked(name: str):
    """An exclusive lock on ``_build/envs/<name>.lock``: pytest-xdist workers share the envs.
    The operating system releases it if the process dies (``fcntl``; ``msvcrt`` on Windows)."""
    ENVS.mkdir(parents=True, exist_ok=True)
    with open(ENVS / f"{name}.lock", "a+b") as handle:
        try:
            import fcntl
        except ImportError:   # Windows
            import msvcrt

            while True:
                try:
                    handle.seek(0)
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:   # LK_LOCK gives up after 10 s: keep waiting
                    continue
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


#: The kernel of the hosted environment, as nbval names it (``--nbval-kernel-name``).
HOSTED_KERNEL = "rnnlab-hosted"
#: The kernel of the Binder environment, as nbgrader names it (``--Execute.kernel_name``),
#: and as Jupyter shows it.
BINDER_KERNEL = "rnnlab-binder"
BINDER_DISPLAY_NAME = "Python (Binder environment)"


def _register_kernel(name: str, python: Path, display_name: str) -> Path:
    """Write the Jupyter kernel ``name`` of ``python`` under ``_build/envs/share/jupyter``;
    that folder (put it in ``JUPYTER_PATH``)."""
    share = ENVS / "share" / "jupyter"
    kernel = share / "kernels" / name
    kernel.mkdir(parents=True, exist_ok=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display_name, "language": "python"}, indent=1))
    return share


def hosted_kernel(run_id: str) -> dict:
    """Prepare the hosted environment for the test run ``run_id``; what was found.

    Once per ``run_id`` (the xdist workers of one run share it, under a file lock): build the
    environment (or reuse it), remove an ``rnnlab`` left by an earlier run, execute the chapters'
    install cell (:mod:`rnncourse.colab`, the very source of their first code cell) with the
    environment's Python, installing ``rnnlab`` from a fresh copy of this working tree, and
    register the Jupyter kernel :data:`HOSTED_KERNEL` under ``_build/envs/share/jupyter``.
    Returns a record: ``python``, ``jupyter_path`` (put it in ``JUPYTER_PATH``), ``before`` and
    ``after`` (installed packages), ``printed`` (the install cell's output), ``source`` (the
    copy it installed from). Raises :class:`EnvironmentUnavailable` when pip cannot build it.
    """
    from rnncourse import colab

    record_path = ENVS / "hosted.json"
    with _locked("hosted"):
        if record_path.is_file():
            record = json.loads(record_path.read_text())
            if record.get("run_id") == run_id and Path(record["python"]).exists():
                return record
        exact = pins()
        python = build_env("hosted", [f"{n}=={exact[n]}" for n in HOSTED])
        if "rnnlab" in installed(python):   # left by an earlier run
            done = capture([python, "-m", "pip", "uninstall", "-y", "rnnlab"])
            assert done.returncode == 0, done.stderr
        before = installed(python)
        source = ENVS / "hosted-source"
        shutil.rmtree(source, ignore_errors=True)
        source.mkdir(parents=True)
        working_tree_copy(source)
        cell = colab.cell_source(colab.install_source())
        done = capture([python, "-c", cell], env={**os.environ, **offline_pip_env(),
                                               colab.ENV_VAR: str(source)}, timeout=900)
        if done.returncode != 0:
            raise EnvironmentUnavailable("the install cell could not install rnnlab offline:\n"
                                         + (done.stdout + done.stderr)[-1500:])
        share = _register_kernel(HOSTED_KERNEL, python,
                                 "Python (hosted notebook, rnnlab from the install cell)")
        record = {"run_id": run_id, "python": str(python), "jupyter_path": str(share),
                  "before": before, "after": installed(python), "printed": done.stdout,
                  "source": str(source)}
        record_path.write_text(json.dumps(record, indent=1))
        return record


def binder_requirements() -> list[str]:
    """The arguments of ``pip install`` for ``binder/requirements.txt``, made offline."""
    requirements = []
    for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            line = BINDER_OFFLINE.get(line, (line,))[0]
            requirements += line.split() if line else []
    return requirements


def binder_kernel() -> dict:
    """The Binder environment, built from :func:`binder_requirements` (or reused), and its
    registered Jupyter kernel :data:`BINDER_KERNEL`: ``{"python", "jupyter_path"}``. Under a
    file lock, so that the xdist workers of a run share one build. Raises
    :class:`EnvironmentUnavailable` when pip cannot build it."""
    with _locked("binder"):
        python = build_env("binder", binder_requirements(), cwd=ROOT)
        share = _register_kernel(BINDER_KERNEL, python, BINDER_DISPLAY_NAME)
        return {"python": str(python), "jupyter_path": str(share)}
