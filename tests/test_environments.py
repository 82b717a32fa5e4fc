"""The chapters where learners run them (issue 13): a hosted notebook (Colab) and Binder.

Fast tests: ``pyproject.toml`` declares every third-party import of rnnlab and the chapters,
with lower bounds only that the exact pins meet; ``binder/requirements.txt`` has the course's
pins; the install cell of :mod:`rnncourse.colab` is written idempotently, follows
``_config.yml`` and installs only where ``rnnlab`` is missing.

Slow tests (marker ``slow``), with the offline environments of tests/envs.py, each built by
ONE pip call from the machine's local package sources only:

* ``pip install`` of a clone resolves rnnlab and its four dependencies alone, and the wheel it
  builds holds rnnlab with rnnlab.checks and nothing of the tooling (rnncourse, which has its
  own project, ``code/pyproject.toml``, installed editable into ``.venv`` by requirements.txt).
* **hosted notebook**: only what Colab preinstalls that the course needs (torch, NumPy,
  Matplotlib, ipykernel, tqdm, at the exact pins of ``requirements.txt``) and no ``rnnlab``.
  The chapters' install cell must install it (here from a copy of this working tree named by
  ``RNNLAB_INSTALL_SOURCE``) and leave everything else as it was: torch is never replaced.
  The chapters then run in that environment under nbval itself: the root ``conftest.py`` points
  nbval at the kernel of :func:`envs.hosted_kernel`, so the one execution of each chapter in
  the test suite, with every claim and check asserted, is in the hosted environment.
* **Binder**: the environment of ``binder/requirements.txt``, with three offline substitutions,
  all in :data:`envs.BINDER_OFFLINE`: the PyTorch CPU index line is dropped (the local wheel
  ``torch-2.13.0+cpu`` is the very build it names), JupyterLab's pin is relaxed to the
  4.6 series (the local wheels hold another 4.6 release; the notebooks do not need it to run,
  the test checks that it installs and starts beside them), and ``jupyterlab-myst`` is left
  out (the local sources lack it; it is a JupyterLab extension that no notebook imports).
  The student edition, what a class opens, runs there top to bottom, an untouched exercise's
  check saying TODO: nbgrader autogrades its submissions in this environment's kernel
  (tests/test_nbgrader.py, which also proves that the release is the student edition cell
  for cell, plus the graded cells), so no separate execution of the student edition is needed.

Without local package sources, or when pip cannot build an environment from them, these tests
skip with the reason (nbval then uses this environment's kernel), except when ``CI`` is set:
there they fail.
"""
from __future__ import annotations

import ast
import json
import os
import sys
import zipfile
from pathlib import Path

import pytest
from envs import (
    BINDER_KERNEL,
    BINDER_OFFLINE,
    CHAPTERS,
    ROOT,
    EnvironmentUnavailable,
    binder_kernel,
    capture,
    hosted_kernel,
    offline_pip_env,
    pins,
    working_tree_copy,
)
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"cannot build the environment in CI: {reason}", pytrace=False)
    pytest.skip(reason)


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
    here = capture([sys.executable, "-c", code], env=env)
    assert here.returncode == 0 and not here.stdout, here.stdout + here.stderr
    # -I: the interpreter without this environment's site-packages, where rnnlab is missing
    base = Path(sys.base_prefix) / "bin" / "python3"
    bare = capture([base, "-I", "-c", code], env={**env, **offline_pip_env()})
    assert f"installing rnnlab from {tmp_path / 'no-such-clone'}" in bare.stdout
    assert bare.returncode != 0 and "CalledProcessError" in bare.stderr, bare.stderr[-800:]


def test_the_tooling_finds_the_repository_from_the_working_directory_or_itself(
        tmp_path, monkeypatch):
    """rnncourse looks for _config.yml upward from the current directory, then from its own
    module (in a clone); elsewhere it says where it looked and what to do."""
    from rnncourse.repo import RepositoryNotFound, find_root

    monkeypatch.chdir(ROOT / "chapters")
    assert find_root() == ROOT
    monkeypatch.chdir(tmp_path)
    assert find_root() == ROOT                              # from the module, in this clone
    (tmp_path / "_config.yml").write_text("title: another book\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert find_root() == tmp_path                          # the working directory comes first
    bare = Path(os.sep).joinpath(*tmp_path.parts[1:2])       # e.g. /tmp: no book above it
    if not any((f / "_config.yml").is_file() for f in [bare, *bare.parents]):
        with pytest.raises(RepositoryNotFound, match="runs in a clone of its repository"):
            find_root(bare)


# ------------------------------------------------------------------------ slow tests
@pytest.mark.slow
def test_package_installs_on_its_own(tmp_path):
    """``pip install <clone>`` into an empty environment resolves rnnlab with its four
    run-time dependencies and nothing of the book's toolchain (resolved, not unpacked)."""
    try:
        pip_env = {**os.environ, **offline_pip_env()}
    except EnvironmentUnavailable as exc:
        unavailable(str(exc))
    clone = working_tree_copy(tmp_path)
    done = capture([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                    "--quiet", "--report", tmp_path / "report.json", clone], env=pip_env)
    if done.returncode != 0:
        unavailable(f"pip could not resolve {clone} from local sources:\n{done.stderr[-1500:]}")
    report = json.loads((tmp_path / "report.json").read_text())
    names = {canonicalize_name(i["metadata"]["name"]) for i in report["install"]}
    assert {"rnnlab", "torch", "numpy", "matplotlib", "tqdm"} <= names, names
    assert not names & {"jupyter-book", "sphinx", "pytest", "playwright", "jupyterlab"}, names


@pytest.mark.slow
def test_the_wheel_holds_rnnlab_with_its_checks_and_not_the_tooling(tmp_path):
    """The wheel that ``pip install`` of a clone or of the git URL (the install cell) builds:
    rnnlab with rnnlab.checks, every source file of code/rnnlab, and nothing of rnncourse."""
    try:
        pip_env = {**os.environ, **offline_pip_env()}
    except EnvironmentUnavailable as exc:
        unavailable(str(exc))
    clone = working_tree_copy(tmp_path / "clone")
    done = capture([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir",
                    tmp_path / "wheels", clone], env=pip_env, timeout=900)
    if done.returncode != 0:
        unavailable(f"pip could not build the wheel from local sources:\n{done.stderr[-1500:]}")
    [wheel] = (tmp_path / "wheels").glob("rnnlab-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert not [n for n in names if "rnncourse" in n], "the wheel holds the tooling"
    assert {n.split("/")[0] for n in names} == {"rnnlab", wheel.name.split("-py")[0]
                                                + ".dist-info"}, names
    sources = {p.relative_to(ROOT / "code").as_posix()
               for p in (ROOT / "code" / "rnnlab").rglob("*.py")}
    assert sources == {n for n in names if n.endswith(".py")}, "not every file of rnnlab"
    assert "rnnlab/checks/_core.py" in names


@pytest.mark.slow
def test_install_cell_gives_a_hosted_notebook_rnnlab_and_changes_nothing_else(run_id):
    """The hosted environment that nbval runs the chapters in (conftest.py): the install cell
    installed this working tree's rnnlab there, and nothing else changed."""
    try:
        record = hosted_kernel(run_id)   # the run's environment, which nbval uses too
    except EnvironmentUnavailable as exc:
        unavailable(str(exc))
    exact, before, after = pins(), record["before"], record["after"]
    assert "rnnlab" not in before and before["torch"].startswith(exact["torch"])
    assert f"installing rnnlab from {record['source']}" in record["printed"], record["printed"]
    assert {k: v for k, v in after.items() if k != "rnnlab"} == before, \
        "installing rnnlab changed other packages of the hosted environment"
    python = Path(record["python"])
    done = capture([python, "-c", "import rnnlab; print(rnnlab.__file__)"], cwd=ROOT / "chapters")
    assert done.returncode == 0, done.stderr
    tooling = capture([python, "-c", "import rnncourse"], cwd=ROOT / "chapters")
    assert "No module named 'rnncourse'" in tooling.stderr, "the install cell installed the tooling"
    where = Path(done.stdout.strip()).resolve()
    assert where.is_relative_to(python.parent.parent), f"rnnlab imported from {where}"
    copied = sorted(p.relative_to(ROOT / "code" / "rnnlab").as_posix()
                    for p in (ROOT / "code" / "rnnlab").rglob("*.py"))
    assert copied == sorted(p.relative_to(where.parent).as_posix()
                            for p in where.parent.rglob("*.py")), "not this tree's rnnlab"
    kernel = Path(record["jupyter_path"]) / "kernels" / "rnnlab-hosted" / "kernel.json"
    assert json.loads(kernel.read_text())["argv"][0] == str(python)


@pytest.mark.slow
def test_binder_environment_holds_this_rnnlab_cpu_torch_and_jupyterlab():
    """Binder's environment installs without conflicts, holds this repository's rnnlab and CPU
    torch, starts JupyterLab, and registers the kernel in which tests/test_nbgrader.py
    autogrades every chapter: the release there is the student edition cell for cell (plus
    the graded cells) and runs top to bottom, an untouched exercise's check saying TODO."""
    try:
        record = binder_kernel()
    except EnvironmentUnavailable as exc:
        unavailable(str(exc))
    python = Path(record["python"])
    assert capture([python, "-m", "pip", "check"]).returncode == 0
    done = capture([python, "-c", "import rnnlab, torch; "
                    "print(rnnlab.__file__, torch.__version__)"])
    where, torch_version = done.stdout.split()
    assert Path(where).resolve().is_relative_to(ROOT / "code"), "rnnlab is not this repository's"
    assert torch_version.endswith("+cpu"), f"Binder's torch must be the CPU build: {torch_version}"
    lab = capture([python.with_name("jupyter-lab"), "--version"])
    assert lab.returncode == 0 and lab.stdout.startswith("4."), lab.stderr
    kernel = Path(record["jupyter_path"]) / "kernels" / BINDER_KERNEL / "kernel.json"
    assert json.loads(kernel.read_text())["argv"][0] == str(python)
