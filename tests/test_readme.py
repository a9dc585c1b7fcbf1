"""The Python examples of README.md, and of the documentation pages they lead to, run as
written."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# Read in this order: the deploying page's examples use the model of the usage page's first.
USAGE_PAGES = [ROOT / "docs" / "usage.md", ROOT / "docs" / "deploying.md"]


def run_python_blocks(paths: list[Path]) -> tuple[dict, int]:
    """Execute every ```python block of ``paths`` in one namespace; (namespace, blocks run)."""
    namespace: dict = {}
    count = 0
    for path in paths:
        for block in re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S):
            exec(compile(block, str(path), "exec"), namespace)
            count += 1
    return namespace, count


def test_readme_python_example_runs(tmp_path, monkeypatch, one_thread):
    monkeypatch.chdir(tmp_path)  # the example writes models/
    namespace, count = run_python_blocks([README])
    assert count >= 1
    assert namespace["codes"].shape == (500, 6)
    assert namespace["same"].config == namespace["ae"].config


def test_usage_pages_python_examples_run(tmp_path, monkeypatch, one_thread):
    monkeypatch.chdir(tmp_path)  # the examples write runs/ and models/
    namespace, count = run_python_blocks(USAGE_PAGES)
    assert count >= 3
    assert namespace["codes"].shape == (200, 2)
    assert namespace["same"].config == namespace["ae"].config
    assert namespace["deep"].transform(namespace["data"].x_test).shape == (500, 6)
    assert namespace["samples"].shape == (16, 64)
    assert namespace["nll"].shape == (20,) and (namespace["nll"] > 0).all()
    bounds = namespace["bounds"]
    assert 0 <= bounds["izx_upper"] and bounds["izy_lower"] <= bounds["h_y"]
    # I(T;Y) never exceeds I(X;Y), in bits.
    assert namespace["ib"].i_ty.max() <= namespace["mutual_information"](namespace["pxy"]) + 1e-9
    assert namespace["again"].config == namespace["ae"].config  # the hub-style folder
