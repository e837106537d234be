"""The sample-inspection notebook executes top to bottom on a tiny run (so it never rots)."""

import os

import nbformat
from helpers import REPO, vgen_main
from nbclient import NotebookClient


def test_inspect_samples_notebook_runs(tmp_path):
    workdir = str(tmp_path / "run")
    proc = vgen_main("--config=configs/quickstart.py:tiny", f"--workdir={workdir}")
    assert proc.returncode == 0, proc.stderr[-3000:]

    nb = nbformat.read(os.path.join(REPO, "notebooks", "inspect_samples.ipynb"), as_version=4)
    os.environ["VGEN_WORKDIR"] = workdir
    try:
        NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": REPO}}
        ).execute()
    finally:
        del os.environ["VGEN_WORKDIR"]
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "checkpoint at step 4" in text
    html = [o for o in outputs if "text/html" in o.get("data", {})]
    assert html and "image/gif;base64" in html[0]["data"]["text/html"]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the PSNR curve
