"""What resumable experiments share: the stage clock (time summed over the processes that ran a
stage), run folders that refuse other settings, cached stages and the log."""

import time

import pytest

from aekit.experiments.stages import cached_stage, open_run_folder, stage_log, timed_stage


def test_an_interrupted_stage_keeps_its_time_and_the_resumed_part_adds_to_it(tmp_path):
    ledger, timings = tmp_path / "timings.json", {}
    with pytest.raises(KeyboardInterrupt), timed_stage(ledger, "fit_s", timings):
        time.sleep(0.2)
        raise KeyboardInterrupt
    first = timings["fit_s"]
    assert 0.2 <= first < 1.0
    with timed_stage(ledger, "fit_s", timings):  # the resumed run finishes the stage
        time.sleep(0.1)
    assert first + 0.1 <= timings["fit_s"] < first + 1.0
    with timed_stage(ledger, "other_s", timings):  # stages keep their own clocks
        pass
    assert timings["other_s"] < 0.1
    ledger.write_text("{trunc")
    with pytest.raises(ValueError, match=r"timings\.json is not valid JSON.*delete it"):
        with timed_stage(ledger, "fit_s", timings):
            pass


def test_a_run_folder_refuses_other_settings_and_names_them(tmp_path):
    out = tmp_path / "run"
    open_run_folder(out, {"seed": 0, "layers": (784, 30), "quick": False})
    # JSON has no tuples: the same settings read back as lists still match.
    open_run_folder(out, {"seed": 0, "layers": (784, 30), "quick": False})
    with pytest.raises(ValueError, match=r"other settings \(layers, seed differ\)"):
        open_run_folder(out, {"seed": 1, "layers": (784, 2), "quick": False})
    with pytest.raises(ValueError, match=r"\(extra differ\)"):
        open_run_folder(out, {"seed": 0, "layers": (784, 30), "quick": False, "extra": 1})


def test_a_cached_stage_is_computed_once(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"error": 2.5}

    path = tmp_path / "stage.json"
    assert cached_stage(path, compute) == {"error": 2.5}
    assert cached_stage(path, compute) == {"error": 2.5}
    assert len(calls) == 1
    path.write_text("{trunc")
    with pytest.raises(ValueError, match=r"stage\.json is not valid JSON.*delete it"):
        cached_stage(path, compute)


def test_stage_log_prefixes_its_lines(capsys):
    stage_log("docs")("3 posts")
    stage_log()("plain")
    assert capsys.readouterr().out == "[docs] 3 posts\nplain\n"
