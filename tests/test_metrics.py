"""The paper's reconstruction metric against values worked out by hand."""

import numpy as np
import pytest

from aekit.evaluate import mean_squared_error_per_sample, squared_error_per_sample


def test_paper_metric_sums_over_features_and_averages_over_samples():
    # Hinton & Salakhutdinov's "average squared error per image": every one of the 4 features
    # is off by 1, so each image scores 1 + 1 + 1 + 1 = 4 and so does their mean. A mean over
    # features would give 1.0, an MNIST error 784 times too small.
    np.testing.assert_array_equal(squared_error_per_sample(np.zeros((2, 4)), np.ones((2, 4))), 4.0)
    assert mean_squared_error_per_sample(np.zeros((2, 4)), np.ones((2, 4))) == 4.0
    # Rows that differ: (1 + 4) and (0 + 9) summed per row, then averaged: (5 + 9) / 2 = 7.
    x = np.array([[1.0, 2.0], [3.0, 3.0]])
    recon = np.array([[0.0, 0.0], [3.0, 0.0]])
    np.testing.assert_array_equal(squared_error_per_sample(x, recon), [5.0, 9.0])
    assert mean_squared_error_per_sample(x, recon) == 7.0


def test_paper_metric_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"shape \(2, 4\).*\(2, 3\) differ"):
        mean_squared_error_per_sample(np.zeros((2, 4)), np.zeros((2, 3)))
