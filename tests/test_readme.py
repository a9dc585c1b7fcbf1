"""The README's Python examples run as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)  # the examples write runs/ and models/
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["codes"].shape == (200, 2)
    assert namespace["same"].config == namespace["ae"].config
    assert namespace["deep"].transform(namespace["data"].x_test).shape == (500, 6)
    assert namespace["samples"].shape == (16, 64)
    assert namespace["nll"].shape == (20,) and (namespace["nll"] > 0).all()
    bounds = namespace["bounds"]
    assert 0 <= bounds["izx_upper"] and bounds["izy_lower"] <= bounds["h_y"]
    # I(T;Y) never exceeds I(X;Y), in bits.
    assert namespace["ib"].i_ty.max() <= namespace["mutual_information"](namespace["pxy"]) + 1e-9
