"""The stage clock of resumable experiments: time summed over the processes that ran a stage."""

import time

import pytest

from aekit.experiments.stages import timed_stage


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
