"""Lessons as notebooks: exported with the CLI, executed headless with nbclient, their final asserts hold."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from lessons.__main__ import main
from lessons.notebook import build_notebook

nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extra")


def _ensure_kernel() -> str:
    """The python3 kernelspec; installed into this interpreter's prefix if the machine has none."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        subprocess.run(
            [sys.executable, "-m", "ipykernel", "install", "--sys-prefix"], check=True, capture_output=True
        )
    return "python3"


def test_export_and_run_lesson_four(tmp_path, capsys):
    out = tmp_path / "lesson4.ipynb"
    assert main(["export", "queue-vs-pubsub", "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    nb = nbformat.read(str(out), as_version=4)
    nbformat.validate(nb)
    sources = [c.source for c in nb.cells]
    assert any("Predict before you run" in s and "<details>" in s for s in sources)  # predict as Markdown
    assert any("Timeline(scenario)" in s for s in sources)  # real engine code
    last = nb.cells[-1]
    assert last.cell_type == "code"
    assert "snap.group('group-1')" in last.source and "snap.group('group-2')" in last.source
    assert "{'c1': ['orders-0'], 'c2': ['orders-1']}" in last.source
    assert "{'c3': ['orders-0', 'orders-1']}" in last.source

    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name=_ensure_kernel(), resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on any failing cell
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert errors == []
    final = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    assert "All of the lesson's final checks hold." in final
    figures = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]
    assert len(figures) >= 8  # the diagram and the log strips, at the start and after every step


def test_a_student_edit_is_caught_by_the_final_assert(tmp_path):
    """The notebook is real code: change the cluster and the last cell's assertion speaks up."""
    from lessons.loader import find_lesson

    nb = build_notebook(find_lesson("queue-vs-pubsub"))
    setup = next(
        i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "Timeline(scenario)" in c.source
    )
    nb.cells.insert(
        setup + 1,
        nbformat.v4.new_code_cell("tl.apply({'op': 'add_consumer', 'group': 'group-2', 'consumer': 'c4'})"),
    )
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name=_ensure_kernel(),
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    errs = [o for o in nb.cells[-1].outputs if o.output_type == "error"]
    assert errs and errs[0]["ename"] == "AssertionError"  # group-2 now splits the partitions


def _course_ids() -> list[str]:
    from lessons.loader import load_course

    return [lesson.id for lesson in load_course()]


@pytest.mark.parametrize("lesson_id", _course_ids())
def test_every_lesson_runs_as_a_notebook(lesson_id, tmp_path):
    """Issue 16: every lesson's export runs headless under nbclient, and its checks, asserts in the notebook
    running against the notebook's own timeline, hold (the new check kinds of issue 16 included)."""
    out = tmp_path / f"{lesson_id}.ipynb"
    assert main(["export", lesson_id, "-o", str(out)]) == 0
    nb = nbformat.read(str(out), as_version=4)
    nbformat.validate(nb)
    assert any(c.cell_type == "code" and "assert " in c.source for c in nb.cells), "the checks became asserts"
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name=_ensure_kernel(), resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on any failing cell
    final = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    assert "All of the lesson's final checks hold." in final
