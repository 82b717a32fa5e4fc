"""The chapters where learners run them (issue 13): a hosted notebook (Colab) and Binder.

Fast tests: ``pyproject.toml`` declares every third-party import of rnnlab and the chapters,
with lower bounds only that the exact pins meet; ``binder/requirements.txt`` has the course's
pins; the install cell of :mod:`rnncourse.colab` is written idempotently, follows
``_config.yml`` and installs only where ``rnnlab`` is missing.

Slow tests (marker ``slow``): ``pip install`` of a clone resolves rnnlab and its four
dependencies alone; and two that each build a virtual environment with ONE pip call from
the machine's local package sources only, then execute every chapter notebook in it with two
kernels in parallel and require that each runs top to bottom, assertions included:

* **hosted notebook**: only what Colab preinstalls that the course needs (torch, NumPy,
  Matplotlib, ipykernel, tqdm, at the exact pins of ``requirements.txt``) and no ``rnnlab``.
  Each chapter's install cell (:mod:`rnncourse.colab`) must install it, here from a copy of
  this working tree named by ``RNNLAB_INSTALL_SOURCE``, and must leave everything else as it
  was: torch in particular is never replaced.
* **Binder**: the environment of ``binder/requirements.txt``, with two offline substitutions,
  both in :data:`BINDER_OFFLINE`: the PyTorch CPU index line is dropped (the local wheel
  ``torch-2.13.0+cpu`` is the very build it names), and JupyterLab's pin is relaxed to the
  4.6 series (the local wheels hold another 4.6 release; the notebooks do not need it to run,
  the test checks that it installs and starts beside them).

"Offline" means that pip sees only local sources: the ``file://`` indexes and ``find-links``
of its configuration, and the folders in ``$RNNLAB_WHEELHOUSE`` (``os.pathsep``-separated).
Without any, or when pip cannot build the environment from them, the tests skip with the
reason, except when ``CI`` is set: there they fail. Environments live in ``_build/envs/`` and
are reused while their requirements are unchanged (the hosted one is checked to hold no
``rnnlab`` before each run, and to have gained nothing else after it).

:func:`build_env` and :func:`execute_notebooks` are meant to be shared by other tests.
"""
from __future__ import annotations

import ast
import asyncio
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
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
}
#: One BLAS/OpenMP thread per kernel: two kernels run at once on a 2-core machine.
THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class EnvironmentUnavailable(RuntimeError):
    """The environment cannot be built from local package sources on this machine."""


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"cannot build the environment in CI: {reason}", pytrace=False)
    pytest.skip(reason)


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


def _run(cmd, **kw) -> subprocess.CompletedProcess:
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
    done = _run([sys.executable, "-m", "venv", env_dir])
    if done.returncode == 0:
        done = _run([python, "-m", "pip", "install", "--quiet", *requirements],
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
    done = _run([python, "-m", "pip", "list", "--format=json"])
    assert done.returncode == 0, done.stderr
    return {canonicalize_name(d["name"]): d["version"] for d in json.loads(done.stdout)}


# ------------------------------------------------------------------------ notebooks
@dataclass
class Run:
    """One executed notebook: the notebook with its outputs, wall seconds, the error if any."""

    path: Path
    nb: object
    seconds: float
    error: str | None = None


def _kernel_manager(python: Path, env: dict[str, str], spec_dir: Path):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    kdir = spec_dir / "kernels" / "envtest"
    kdir.mkdir(parents=True, exist_ok=True)
    (kdir / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python ({python.parent.parent.name})", "language": "python",
        "env": env}))
    ksm = KernelSpecManager(kernel_dirs=[str(spec_dir / "kernels")], ensure_native_kernel=False)
    return AsyncKernelManager(kernel_name="envtest", kernel_spec_manager=ksm)


def execute_notebooks(paths, python: Path, *, env: dict[str, str] | None = None,
                      workers: int = 2, timeout: int = 600, first_cell_alone: bool = False,
                      spec_dir: Path | None = None) -> list[Run]:
    """Execute each notebook in a fresh kernel of ``python``, ``workers`` at a time.

    ``env`` is added to each kernel's environment (without ``MPLBACKEND``, so figures are
    drawn inline). With ``first_cell_alone``, the first code cell of the first notebook runs
    before any other notebook starts (it may install a package that the others then find).
    A failing notebook is reported in its :class:`Run`, not raised.
    """
    import nbformat
    from nbclient import NotebookClient

    paths = [Path(p) for p in paths]
    base = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    kernel_env = {**base, **THREADS, **(env or {})}
    spec_dir = spec_dir or Path(os.environ.get("TMPDIR", "/tmp")) / f"envtest-{os.getpid()}"

    async def one(path, sem, gate, opens_gate):
        nb = nbformat.read(path, as_version=4)
        if not opens_gate:
            await gate.wait()
        async with sem:
            first = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), -1)

            def opened(cell, cell_index, execute_reply):
                if cell_index == first:
                    gate.set()

            client = NotebookClient(nb, km=_kernel_manager(python, kernel_env, spec_dir),
                                    timeout=timeout, on_cell_executed=opened, resources={
                                        "metadata": {"path": str(path.parent.resolve())}})
            start, error = time.perf_counter(), None
            try:   # the client does not own a kernel manager it was given: it must clean up
                await client.async_execute(cleanup_kc=True)
            except Exception as exc:  # noqa: BLE001 - reported per notebook
                error = f"{type(exc).__name__}: {exc}"
            finally:
                gate.set()
            return Run(path, nb, time.perf_counter() - start, error)

    async def main():
        sem, gate = asyncio.Semaphore(workers), asyncio.Event()
        if not first_cell_alone or not paths:
            gate.set()
        return await asyncio.gather(*(one(p, sem, gate, i == 0) for i, p in enumerate(paths)))

    try:
        return asyncio.run(main())
    finally:
        shutil.rmtree(spec_dir, ignore_errors=True)


def failures(runs: list[Run]) -> str:
    """What went wrong in ``runs`` (the end of each error, without terminal colours)."""
    return "\n\n".join(f"{r.path.name} failed after {r.seconds:.0f} s:\n"
                       + re.sub(r"\x1b\[[0-9;]*m", "", r.error)[-3000:] for r in runs if r.error)


def timing(label: str, runs: list[Run], started: float) -> None:
    """One line of wall times (shown by ``pytest -s`` or ``-rA``): the whole test, each notebook."""
    print(f"{label}: {time.perf_counter() - started:.0f} s in all; "
          + ", ".join(f"{r.path.stem[:2]} {r.seconds:.0f} s" for r in runs))


def outputs_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []))


# ------------------------------------------------------------------------ fast checks
def _declared() -> list[Requirement]:
    import tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project.get("dependencies", [])]


def _third_party_imports() -> set[str]:
    """Top-level modules that rnnlab and the chapters import, outside the standard library."""
    sources = [p.read_text() for p in (ROOT / "code" / "rnnlab").rglob("*.py")]
    for nb in CHAPTERS:
        cells = json.loads(nb.read_text())["cells"]
        sources += ["\n".join(line for line in "".join(c["source"]).splitlines()
                              if not line.lstrip().startswith(("%", "!")))
                    for c in cells if c["cell_type"] == "code"]
    names = set()
    for text in sources:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"rnnlab"}


def test_package_declares_what_it_imports():
    """pyproject.toml lists every third-party import of rnnlab and the chapters."""
    declared = {canonicalize_name(r.name) for r in _declared()}
    provided = {"IPython"}   # every Jupyter kernel has IPython (ipykernel depends on it)
    missing = sorted(n for n in _third_party_imports() - provided
                     if canonicalize_name(n) not in declared)
    assert not missing, f"imported but not in [project] dependencies of pyproject.toml: {missing}"


def test_declared_ranges_admit_the_pins_and_keep_a_hosted_torch():
    """The exact pins satisfy the ranges; no upper bound makes pip replace a newer torch."""
    exact = pins()
    for req in _declared():
        name = canonicalize_name(req.name)
        assert name in exact, f"{req.name} is declared but not pinned in requirements.txt"
        assert req.specifier.contains(exact[name]), \
            f"requirements.txt pins {name}=={exact[name]}, outside pyproject's {req}"
        assert not any(s.operator in ("<", "<=", "==", "~=", "===") for s in req.specifier), \
            f"{req} has an upper bound: a hosted notebook's newer {name} would be replaced"


def test_binder_pins_are_the_courses_pins():
    exact = {**pins(), **pins(ROOT / "requirements-lab.txt")}
    lines = [line.strip() for line in (ROOT / "binder" / "requirements.txt").read_text()
             .splitlines() if line.strip() and not line.startswith("#")]
    assert "-e ." in lines, "binder/requirements.txt must install rnnlab from the repository"
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    binder = pins(ROOT / "binder" / "requirements.txt")
    assert binder.get("torch") == exact["torch"] + "+cpu", "Binder must take torch's CPU build"
    for name, version in binder.items():
        if name != "torch":
            assert exact.get(name) == version, f"binder pins {name}=={version}, the course " \
                                               f"{exact.get(name)}"
    assert set(binder) >= {canonicalize_name(r.name) for r in _declared()} | {"ipykernel",
                                                                              "jupyterlab"}
    for line in BINDER_OFFLINE:
        assert line in lines, f"the offline substitution {line!r} no longer matches the file"


def test_offline_pip_env_uses_only_local_sources(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNLAB_WHEELHOUSE", str(tmp_path))
    env = offline_pip_env()
    sources = (env.get("PIP_INDEX_URL", "") + " " + env.get("PIP_EXTRA_INDEX_URL", "")).split()
    assert all(s.startswith("file:") for s in sources), env
    assert str(tmp_path) in env["PIP_FIND_LINKS"].split()


def _notebook(tmp_path, name="01_x.ipynb", cells=None) -> Path:
    cells = cells or [
        {"cell_type": "markdown", "id": "a1", "metadata": {}, "source": ["(ch01)=\n", "# Tïtle ★"]},
        {"cell_type": "code", "execution_count": None, "id": "b2", "metadata": {}, "outputs": [],
         "source": ["import rnnlab"]}]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4,
          "nbformat_minor": 5}
    path = tmp_path / name
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_install_cell_insert_is_idempotent_and_changes_nothing_else(tmp_path):
    from rnncourse import colab

    path = _notebook(tmp_path)
    before = path.read_text(encoding="utf-8")
    assert colab.check([path]) and colab.insert([path]) == [path]
    after = path.read_text(encoding="utf-8")
    assert colab.insert([path]) == [] and path.read_text(encoding="utf-8") == after
    assert not colab.check([path])
    nb = json.loads(after)
    assert [c["id"] for c in nb["cells"]] == ["a1", colab.CELL_ID, "b2"]
    del nb["cells"][1]
    assert json.dumps(nb, indent=1, ensure_ascii=False) + "\n" == before   # all else as it was
    assert after.endswith("}\n") and "Tïtle ★" in after and '\n "cells": [' in after


def test_install_cell_is_refreshed_and_moved_to_the_first_code_cell(tmp_path):
    from rnncourse import colab

    stale = {**colab.install_cell(), "source": [colab.HEADER + "\n", "old = 1"]}
    path = _notebook(tmp_path)
    nb = json.loads(path.read_text())
    nb["cells"].append(stale)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    assert colab.insert([path]) == [path]
    cells = json.loads(path.read_text())["cells"]
    assert [c.get("id") for c in cells] == ["a1", colab.CELL_ID, "b2"]
    assert cells[1] == colab.install_cell()
    path.write_text(path.read_text().replace("\n ", "\n  "))         # not Jupyter's layout
    with pytest.raises(ValueError, match="layout"):
        colab.insert([path])


def test_install_cell_follows_the_repository_of_the_config(tmp_path):
    from rnncourse import colab

    cfg = tmp_path / "_config.yml"
    cfg.write_text("repository:\n  url: https://github.com/someone/fork/\n  branch: teaching\n")
    assert colab.install_source(cfg) == "git+https://github.com/someone/fork@teaching"
    assert '"git+https://github.com/someone/fork@teaching"' in "".join(
        colab.install_cell(cfg)["source"])
    assert colab.install_cell()["metadata"] == {"tags": ["remove-cell"]}
    cfg.write_text("repository:\n  url: not a url\n")
    with pytest.raises(ValueError, match="repository.url"):
        colab.install_source(cfg)


def test_install_cell_installs_only_where_rnnlab_is_missing(tmp_path):
    """Where rnnlab imports the cell does nothing; elsewhere it runs pip on the source."""
    from rnncourse import colab

    code = colab.cell_source(colab.install_source())
    env = {**os.environ, colab.ENV_VAR: str(tmp_path / "no-such-clone")}
    here = _run([sys.executable, "-c", code], env=env)
    assert here.returncode == 0 and not here.stdout, here.stdout + here.stderr
    # -I: the interpreter without this environment's site-packages, where rnnlab is missing
    base = Path(sys.base_prefix) / "bin" / "python3"
    bare = _run([base, "-I", "-c", code], env={**env, **offline_pip_env()})
    assert f"installing rnnlab from {tmp_path / 'no-such-clone'}" in bare.stdout
    assert bare.returncode != 0 and "CalledProcessError" in bare.stderr, bare.stderr[-800:]


# ------------------------------------------------------------------------ slow tests
def _working_tree_copy(dest: Path) -> Path:
    """What ``pip install <clone>`` needs of this working tree, copied to ``dest``."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "code", dest / "code",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


@pytest.mark.slow
def test_package_installs_on_its_own(tmp_path):
    """``pip install <clone>`` into an empty environment resolves rnnlab with its four
    run-time dependencies and nothing of the book's toolchain (resolved, not unpacked)."""
    try:
        pip_env = {**os.environ, **offline_pip_env()}
    except EnvironmentUnavailable as exc:
        unavailable(str(exc))
    clone = _working_tree_copy(tmp_path)
    done = _run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                 "--quiet", "--report", tmp_path / "report.json", clone], env=pip_env)
    if done.returncode != 0:
        unavailable(f"pip could not resolve {clone} from local sources:\n{done.stderr[-1500:]}")
    report = json.loads((tmp_path / "report.json").read_text())
    names = {canonicalize_name(i["metadata"]["name"]) for i in report["install"]}
    assert {"rnnlab", "torch", "numpy", "matplotlib", "tqdm"} <= names, names
    assert not names & {"jupyter-book", "sphinx", "pytest", "playwright", "jupyterlab"}, names


@pytest.mark.slow
def test_chapters_run_in_a_hosted_notebook_that_lacks_rnnlab(tmp_path):
    exact, started = pins(), time.perf_counter()
    try:
        python = build_env("hosted", [f"{n}=={exact[n]}" for n in HOSTED])
        pip_env = offline_pip_env()
    except EnvironmentUnavailable as exc:
        unavailable(str(exc))
    if "rnnlab" in installed(python):   # left by an earlier run of this test
        assert _run([python, "-m", "pip", "uninstall", "-y", "rnnlab"]).returncode == 0
    before = installed(python)
    assert "rnnlab" not in before and before["torch"].startswith(exact["torch"])
    clone = _working_tree_copy(tmp_path)
    runs = execute_notebooks(CHAPTERS, python, first_cell_alone=True,
                             env={**pip_env, "RNNLAB_INSTALL_SOURCE": str(clone)})
    timing("hosted notebook", runs, started)
    assert not failures(runs), failures(runs)
    first = next(c for c in runs[0].nb.cells if c.cell_type == "code")
    assert f"installing rnnlab from {clone}" in outputs_of(first), outputs_of(first)
    for run in runs[1:]:   # rnnlab is there now: their install cells do nothing
        cell = next(c for c in run.nb.cells if c.cell_type == "code")
        assert not outputs_of(cell), f"{run.path.name}: {outputs_of(cell)}"
    after = installed(python)
    assert {k: v for k, v in after.items() if k != "rnnlab"} == before, \
        "installing rnnlab changed other packages of the hosted environment"
    assert "rnnlab" in after


@pytest.mark.slow
def test_chapters_run_in_the_binder_environment():
    requirements, started = [], time.perf_counter()
    for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            line = BINDER_OFFLINE.get(line, (line,))[0]
            requirements += line.split() if line else []
    try:
        python = build_env("binder", requirements, cwd=ROOT)
    except EnvironmentUnavailable as exc:
        unavailable(str(exc))
    assert _run([python, "-m", "pip", "check"]).returncode == 0
    done = _run([python, "-c", "import rnnlab, torch; print(rnnlab.__file__, torch.__version__)"])
    where, torch_version = done.stdout.split()
    assert Path(where).resolve().is_relative_to(ROOT / "code"), "rnnlab is not this repository's"
    assert torch_version.endswith("+cpu"), f"Binder's torch must be the CPU build: {torch_version}"
    lab = _run([python.with_name("jupyter-lab"), "--version"])
    assert lab.returncode == 0 and lab.stdout.startswith("4."), lab.stderr
    runs = execute_notebooks(CHAPTERS, python)
    timing("Binder", runs, started)
    assert not failures(runs), failures(runs)
