"""tools/notebooks/quickstart.ipynb runs top to bottom in a headless kernel (so it cannot rot)."""

import nbformat
from nbclient import NotebookClient

from conftest import REPO


def test_quickstart_notebook_runs(tmp_path):
    nb = nbformat.read(REPO / "tools" / "notebooks" / "quickstart.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    # the figure was drawn
    assert any("image/png" in o.get("data", {}) for o in outputs)
