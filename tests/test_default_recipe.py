"""aekit's default recipes (aekit.recipes) and how a run specification fills them in."""

import json

import numpy as np
import pytest

from aekit import recipes
from aekit.cli import main
from aekit.data import Dataset
from aekit.spec import DataSpec, RunSpec, load_run_spec, resume

pytestmark = pytest.mark.usefixtures("one_thread")


def unit_data(n=300, d=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d)).astype(np.float32)
    return Dataset("toy", x[: n - 50], None, x[n - 50 :], None)


def test_the_kind_of_data_is_its_range():
    assert recipes.data_kind(np.array([[0.0, 1.0], [0.5, 0.25]])) == "unit"
    assert recipes.data_kind(np.array([[0.0, 1.01]])) == "real"
    assert recipes.data_kind(np.array([[-0.1, 0.5]])) == "real"


@pytest.mark.parametrize(
    ("width", "code"), [(2, 2), (4, 2), (30, 5), (64, 8), (625, 25), (784, 28), (10000, 30)]
)
def test_the_default_code_follows_the_square_root_of_the_width(width, code):
    assert recipes.default_code_size(width) == code
    assert recipes.default_layers(width)[-1] == code


def test_small_data_gets_more_epochs_up_to_a_cap():
    # 6000 updates at least: 10 batches an epoch -> 600 epochs; MNIST's 422 -> the 20 floor.
    assert recipes.default_epochs(1212, 128) == 600
    assert recipes.default_epochs(54000, 128) == recipes.MIN_EPOCHS
    assert recipes.default_epochs(10, 128) == recipes.MAX_DEFAULT_EPOCHS


def test_a_time_budget_replaces_the_epoch_rule():
    x = unit_data().x_train
    assert "epochs" in recipes.default_recipe(x).train
    assert "epochs" not in recipes.default_recipe(x, {"time_budget": 60}).train


def test_the_recipe_fills_only_what_the_spec_leaves_open():
    data = unit_data()
    spec = RunSpec(model_config={"activation": "tanh"}, train={"lr": 0.01, "epochs": 3})
    filled_spec, filled = spec.with_recipe(data)
    assert "activation" not in filled and "lr" not in filled and "epochs" not in filled
    assert filled["lr_schedule"] == "onecycle" and filled["likelihood"] == "bernoulli"
    assert filled_spec.recipe == "none"  # it holds every value now
    config, train, _, _ = spec.configs(data)
    assert config.activation == "tanh" and config.layers == [16, 256, 4]
    assert train.lr == 0.01 and train.epochs == 3 and train.lr_schedule == "onecycle"
    # Real-valued data gets a Gaussian likelihood.
    real = Dataset("real", data.x_train * 4 - 2, None, data.x_test * 4 - 2, None)
    config, _, _, _ = spec.configs(real)
    assert config.likelihood == "gaussian"


def test_recipe_none_keeps_the_configs_own_defaults():
    data = unit_data()
    spec = RunSpec(recipe="none")
    assert spec.with_recipe(data) == (spec, {})
    config, train, _, _ = spec.configs(data)
    assert config.activation == "logistic" and train.lr_schedule == "constant"
    assert train.epochs == 20


def test_other_models_and_rbm_pretraining_keep_their_units():
    data = unit_data()
    assert RunSpec(model="vae").with_recipe(data)[1] == {}
    _, filled = RunSpec(pretrain="rbm").with_recipe(data)
    assert "activation" not in filled and filled["lr_schedule"] == "onecycle"


def test_a_recipe_run_saves_and_resumes_with_the_values_it_used(tmp_path):
    spec = RunSpec(data=DataSpec("digits"), train={"epochs": 2, "progress": False})
    run = spec.build()
    assert run.recipe["activation"] == "elu"
    run.fit(tmp_path)
    saved = load_run_spec(tmp_path)
    assert saved.recipe == "none"
    assert saved.model_config["activation"] == "elu"
    assert saved.train["lr_schedule"] == "onecycle" and saved.train["epochs"] == 2
    meta = json.loads((tmp_path / "run.json").read_text())["metadata"]
    assert meta["recipe"]["likelihood"] == "bernoulli"
    with pytest.raises(ValueError, match="has finished"):
        resume(tmp_path)


def test_a_spec_saved_before_recipes_resumes_without_one(tmp_path):
    spec = RunSpec(data=DataSpec("digits"), train={"epochs": 2, "progress": False})
    spec.with_overrides(recipe="none").build().fit(tmp_path)
    run = json.loads((tmp_path / "run.json").read_text())
    del run["metadata"]["spec"]["train"]["recipe"]  # as aekit 0.1.0 wrote it
    (tmp_path / "run.json").write_text(json.dumps(run))
    assert load_run_spec(tmp_path).recipe == "none"


def test_the_command_line_names_what_the_recipe_filled_in(runner, tmp_path):
    result = runner.invoke(
        main,
        ["train", "--data", "digits", "--epochs", "1", "--out", str(tmp_path / "a"),
         "--no-progress", "--no-compare-pca"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "default recipe" in result.output and "activation elu" in result.output
    assert "epochs" not in result.output.split("default recipe")[1].splitlines()[0]
    result = runner.invoke(
        main,
        ["train", "--data", "digits", "--epochs", "1", "--recipe", "none", "--out",
         str(tmp_path / "b"), "--no-progress", "--no-compare-pca"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "default recipe" not in result.output
    saved = load_run_spec(tmp_path / "b")
    assert saved.model_config.get("activation") is None


def test_bf16_is_asked_for_only_where_it_is_fast():
    assert isinstance(recipes.fast_bf16("cpu"), bool)
    x = unit_data().x_train
    assert recipes.default_recipe(x).train["bf16"] is False  # 16-256-4: too small to pay
    deep = [16, 1000, 500, 250, 30]
    assert recipes.default_recipe(x, layers=deep).train["bf16"] == recipes.fast_bf16()
    assert recipes.default_recipe(x, layers=deep).train["lr"] == recipes.PEAK_LR_DEEP
    assert recipes.default_recipe(x).train["lr"] == recipes.PEAK_LR_SHALLOW


def test_the_command_line_trains_for_a_budget_and_says_it_ended_the_run(runner, tmp_path):
    args = ["train", "--data", "digits", "--time-budget", "6", "--no-progress",
            "--no-compare-pca", "--out", str(tmp_path / "r")]  # fmt: skip
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "time budget of 6 s ended it" in result.output
    assert load_run_spec(tmp_path / "r").train["time_budget"] == 6
    train_config = json.loads((tmp_path / "r" / "run.json").read_text())["train_config"]
    assert train_config["lr_schedule"] == "onecycle" and train_config["epochs"] == 1_000_000


def test_validation_holds_out_ten_percent_up_to_two_thousand_rows():
    assert recipes.default_recipe(unit_data(300).x_train).train["val_fraction"] == 0.1
    big = np.random.default_rng(0).random((60000, 4)).astype(np.float32)
    fraction = recipes.default_recipe(big).train["val_fraction"]
    assert round(60000 * fraction) == recipes.MAX_VALIDATION_ROWS


def test_long_budgets_on_images_train_on_translated_copies():
    x = unit_data().x_train  # 16 features: 4 x 4 images
    long, short = {"time_budget": recipes.AUGMENT_MIN_BUDGET}, {"time_budget": 300}
    assert recipes.default_recipe(x, long, image_shape=(4, 4)).train["augment_shift"] == 1
    assert "augment_shift" not in recipes.default_recipe(x, short, image_shape=(4, 4)).train
    assert "augment_shift" not in recipes.default_recipe(x, long).train  # not images
    # Through a spec, the image shape comes from the data set.
    _, train, _, _ = RunSpec(train=dict(long)).configs(
        Dataset("toy", x, None, unit_data().x_test, None, image_shape=(4, 4))
    )
    assert train.augment_shift == 1 and train.image_shape == (4, 4)
