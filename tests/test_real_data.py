"""Checks on the reference data sets; each skips, with the reason, when the data is absent."""

import pytest

from aekit.baselines import PCABaseline
from aekit.data import DATA_DIR_ENV, data_dir, load_dataset
from aekit.evaluate import mean_squared_error_per_sample

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def mnist():
    if data_dir() is None:
        pytest.skip(f"MNIST not found: set {DATA_DIR_ENV} to the reference data folder")
    try:
        return load_dataset("mnist")
    except ValueError as exc:
        pytest.skip(f"MNIST not found: {exc}")


def test_pca_30_on_mnist_matches_the_paper(mnist):
    # Hinton & Salakhutdinov (2006), Fig. 2: PCA with 30 components, test error 13.87.
    pca = PCABaseline(30).fit(mnist.x_train)
    error = mean_squared_error_per_sample(mnist.x_test, pca.reconstruct(mnist.x_test))
    assert error == pytest.approx(13.87, abs=0.01)
