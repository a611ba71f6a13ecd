"""The notebooks in tools/notebooks run top to bottom in a headless kernel (so they cannot rot)."""

import nbformat
from nbclient import NotebookClient

from conftest import REPO


def execute(name, tmp_path):
    nb = nbformat.read(REPO / "tools" / "notebooks" / name, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    return outputs


def test_quickstart_notebook_runs(tmp_path):
    outputs = execute("quickstart.ipynb", tmp_path)
    # the figure was drawn, and no progress bar was left half-drawn in the outputs
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert not [o for o in outputs if o.output_type == "stream" and "%|" in o.get("text", "")]


def test_sobol_notebook_runs(tmp_path):
    outputs = execute("sobol.ipynb", tmp_path)
    shown = " ".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "S2" in shown and "ST" in shown
