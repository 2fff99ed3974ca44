"""docs/notebook.ipynb runs from top to bottom in a fresh kernel (so it cannot rot): the
Python API end to end, a run with and without ultrasound, and its two figures."""

from __future__ import annotations

from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebook.ipynb"


def test_example_notebook_executes():
    import nbclient
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) == 2
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "simulating: 24/24 h (100%)" in text  # progress shows in the notebook
    assert text.count("tissue-mean viability") == 2
