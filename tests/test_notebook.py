"""The sample-inspection notebook runs top to bottom as on a fresh Colab (so it never rots): it
trains a small run itself, then shows samples, the eval table and the curves; a wrong install
source stops it at the install cell with a clear message."""

import os

import nbformat
import pytest
from helpers import REPO
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOK = os.path.join(REPO, "notebooks", "inspect_samples.ipynb")


def outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]


@pytest.mark.timeout(900)
def test_notebook_trains_a_run_itself_and_shows_it(tmp_path, monkeypatch):
    monkeypatch.delenv("VGEN_WORKDIR", raising=False)
    monkeypatch.delenv("VGEN_SOURCE", raising=False)
    monkeypatch.setenv("VGEN_TRAIN_STEPS", "4")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outs = outputs(nb)
    assert not [o for o in outs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outs)
    assert "training quickstart.py:tiny for 4 steps" in text
    assert "checkpoint at step 4" in text
    assert "psnr background" in text and "position_error copy_last" in text  # the eval table
    assert os.path.exists(tmp_path / "runs" / "notebook" / "eval" / "results.json")
    html = [o for o in outs if "text/html" in o.get("data", {})]
    assert html and "image/gif;base64" in html[0]["data"]["text/html"]
    assert sum("image/png" in o.get("data", {}) for o in outs) == 3  # the per-step curves


def test_notebook_stops_cleanly_when_the_install_source_is_wrong(tmp_path, monkeypatch):
    monkeypatch.setenv("VGEN_SOURCE", str(tmp_path / "no-such-vgen"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    with pytest.raises(CellExecutionError, match="could not install vgen from VGEN_SOURCE="):
        client.execute()
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code[1].outputs[-1]["output_type"] == "error"  # the install cell
    assert all(cell.get("execution_count") is None for cell in code[2:])  # nothing ran after it
    assert not (tmp_path / "runs").exists()
