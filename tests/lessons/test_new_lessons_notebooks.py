"""Issue 16's new lessons as notebooks: each exports, runs headless under nbclient, and its asserts hold."""

from __future__ import annotations

import nbformat
import pytest

from lessons.loader import find_lesson
from lessons.notebook import build_notebook

nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extra")

NEW_LESSONS = ["consumer-lag-and-liveness", "ordering-under-retries", "poison-records", "offset-management", "choosing-partition-count"]


def _kernel() -> str:
    from test_notebook_export import _ensure_kernel

    return _ensure_kernel()


@pytest.mark.parametrize("lesson_id", NEW_LESSONS)
def test_new_lesson_notebook_runs(lesson_id, tmp_path):
    nb = build_notebook(find_lesson(lesson_id))
    nbformat.validate(nb)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name=_kernel(), resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on any failing cell
    asserts = [c for c in nb.cells if c.cell_type == "code" and "assert " in c.source]
    assert asserts, "the lesson's checks became asserts"
    final = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    assert "All of the lesson's final checks hold." in final
