"""The trainer: early stopping, checkpoints and resume, non-finite losses, bad input."""

import json
import math

import numpy as np
import pytest
import torch

from aekit import Autoencoder, AutoencoderConfig, TrainConfig, Trainer
from aekit.atomic import load_tensors
from aekit.train import NonFiniteLossError, split_validation


def make_data(n=256, d=16, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.random((n, 3))
    x = 1 / (1 + np.exp(-(z @ rng.normal(size=(3, d)) * 2)))
    return x.astype(np.float32)


def new_model(seed=0, **kwargs):
    torch.manual_seed(seed)
    cfg = {"layers": [16, 8, 3], **kwargs}
    return Autoencoder(AutoencoderConfig(**cfg))


def states_equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


class Snapshots:
    """Callback keeping a copy of the weights after every epoch."""

    def __init__(self):
        self.states = []

    def __call__(self, trainer, record):
        self.states.append({k: v.clone() for k, v in trainer.model.state_dict().items()})


def test_early_stopping_restores_the_best_epoch():
    # A big model on 16 noisy samples overfits: validation error turns up after a few epochs.
    rng = np.random.default_rng(0)
    x_train = rng.random((16, 16)).astype(np.float32)
    x_val = rng.random((200, 16)).astype(np.float32)
    model = new_model(layers=[16, 64, 16], likelihood="gaussian")
    snaps = Snapshots()
    cfg = TrainConfig(epochs=300, batch_size=16, lr=1e-2, patience=5, progress=False)
    hist = Trainer(model, cfg, callbacks=[snaps]).fit(x_train, x_val)
    val = hist.values("val_recon")
    best = int(np.argmin(val))
    assert hist.stopped_early and len(val) < 300
    assert hist.best_epoch == best + 1 and best < len(val) - 1
    assert len(val) - 1 - best == 5  # stopped exactly `patience` epochs after the best
    final = model.state_dict()
    assert all(torch.equal(final[k], snaps.states[best][k]) for k in final)
    assert not all(torch.equal(final[k], snaps.states[-1][k]) for k in final)


class Kill:
    def __init__(self, after_epoch):
        self.after_epoch = after_epoch

    def __call__(self, trainer, record):
        if record["epoch"] == self.after_epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_resume_after_kill_matches_uninterrupted_run(tmp_path, optimizer):
    x = make_data()
    kw = {"corruption": "mask", "corruption_level": 0.2}  # exercises the saved RNG state
    cfg = TrainConfig(
        epochs=5,
        batch_size=32,
        optimizer=optimizer,
        lr=1e-2,
        lr_schedule="cosine",
        patience=10,
        progress=False,
    )
    ref = new_model(**kw)
    ref_hist = Trainer(ref, cfg, run_dir=tmp_path / "ref").fit(x)

    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        Trainer(new_model(**kw), cfg, run_dir=run, callbacks=[Kill(2)]).fit(x)
    assert json.loads((run / "latest.json").read_text())["epoch"] == 1  # 0-based: epoch 2 done
    # A fresh process would rebuild the model from scratch: different init must not matter.
    resumed = new_model(seed=99, **kw)
    hist = Trainer(resumed, cfg, run_dir=run).fit(x, resume=True)
    assert states_equal(resumed, ref)
    assert [r["train_loss"] for r in hist.records] == [r["train_loss"] for r in ref_hist.records]
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4, 5]
    assert (run / "model" / "model.safetensors").is_file()


def test_resume_needs_a_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="nothing to resume"):
        Trainer(new_model(), TrainConfig(progress=False), run_dir=tmp_path).fit(
            make_data(), resume=True
        )
    with pytest.raises(ValueError, match="run_dir"):
        Trainer(new_model(), TrainConfig(progress=False)).fit(make_data(), resume=True)


def test_a_corrupt_or_foreign_checkpoint_is_one_clear_error(tmp_path):
    cfg = TrainConfig(epochs=2, progress=False)
    Trainer(new_model(), cfg, run_dir=tmp_path / "run").fit(make_data())
    other = new_model(layers=[16, 5, 3])
    with pytest.raises(ValueError, match=r"does not fit this run.*--overwrite"):
        Trainer(other, cfg, run_dir=tmp_path / "run").fit(make_data(), resume=True)
    (tmp_path / "run" / "latest.json").write_text("{trunc")
    with pytest.raises(ValueError, match=r"latest\.json is not valid JSON"):
        Trainer(new_model(), cfg, run_dir=tmp_path / "run").fit(make_data(), resume=True)


def test_non_finite_loss_names_epoch_and_batch_and_keeps_last_good_checkpoint(tmp_path):
    x = make_data()

    def poison(trainer, record):
        if record["epoch"] == 2:
            with torch.no_grad():
                trainer.model.encoder.linears[0].weight[0, 0] = float("nan")

    cfg = TrainConfig(epochs=4, batch_size=64, progress=False, val_fraction=0)
    with pytest.raises(NonFiniteLossError, match=r"epoch 3, batch 1 of 4.*epoch 2"):
        Trainer(new_model(), cfg, run_dir=tmp_path, callbacks=[poison]).fit(x)
    latest = json.loads((tmp_path / "latest.json").read_text())
    assert latest["epoch"] == 1
    weights = load_tensors(tmp_path / latest["checkpoint"] / "model.safetensors")
    assert all(torch.isfinite(w).all() for w in weights.values())


def test_non_finite_batch_index_is_exact_between_syncs():
    x = make_data(n=640)
    x[123] = 1e30  # squared, this overflows to inf in float32
    # The trainer's first-epoch order (val_fraction=0): the shuffle generator seeded by `seed`.
    perm = torch.randperm(640, generator=torch.Generator().manual_seed(0))
    expected = int((perm == 123).nonzero()) // 64 + 1
    model = new_model(likelihood="gaussian")  # Bernoulli would reject data outside [0, 1]
    # log_every > batches per epoch: the host looks only once, at the end of the epoch.
    cfg = TrainConfig(epochs=1, batch_size=64, progress=False, val_fraction=0, log_every=50)
    with pytest.raises(NonFiniteLossError, match=f"epoch 1, batch {expected} of 10"):
        Trainer(model, cfg).fit(x)


def test_lr_schedules():
    cos = TrainConfig(epochs=10, lr=1.0, lr_schedule="cosine")
    assert cos.lr_at(0) == 1.0 and cos.lr_at(5) == pytest.approx(0.5)
    step = TrainConfig(lr=1.0, lr_schedule="step", lr_step_epochs=3, lr_gamma=0.1)
    assert [step.lr_at(e) for e in (0, 2, 3, 6)] == pytest.approx([1, 1, 0.1, 0.01])
    exp = TrainConfig(lr=2.0, lr_schedule="exponential", lr_gamma=0.5)
    assert exp.lr_at(3) == pytest.approx(0.25)
    hist = Trainer(
        new_model(),
        TrainConfig(
            epochs=3,
            lr=1.0,
            lr_schedule="step",
            lr_step_epochs=1,
            lr_gamma=0.5,
            optimizer="sgd",
            progress=False,
        ),
    ).fit(make_data())
    assert hist.values("lr") == [1.0, 0.5, 0.25]


def test_training_reduces_error_and_logs_terms(tmp_path):
    x = make_data(n=512)
    model = new_model(weight_decay=1e-4, sparsity_weight=0.1, activation="logistic")
    hist = Trainer(
        model, TrainConfig(epochs=8, batch_size=32, lr=3e-3, progress=False), run_dir=tmp_path
    ).fit(x)
    first, last = hist.records[0], hist.records[-1]
    assert last["val_squared_error"] < 0.7 * first["val_squared_error"]
    assert {"train_recon", "train_weight_decay", "train_sparsity", "samples_per_s"} <= set(last)
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["model"] == "autoencoder" and run["train_config"]["epochs"] == 8


def test_bf16_autocast_trains_close_to_fp32():
    x = make_data(n=512)
    errs = {}
    for bf16 in (False, True):
        model = new_model()
        cfg = TrainConfig(epochs=6, batch_size=32, lr=3e-3, bf16=bf16, progress=False)
        errs[bf16] = Trainer(model, cfg).fit(x).records[-1]["val_squared_error"]
        assert all(p.dtype == torch.float32 for p in model.parameters())
    assert errs[True] == pytest.approx(errs[False], rel=0.1)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (np.zeros((10, 5), dtype=np.float32), "16"),
        (np.zeros(16, dtype=np.float32), "2-D"),
        (np.zeros((0, 16), dtype=np.float32), "empty"),
        (np.full((10, 16), np.nan, dtype=np.float32), "NaN"),
        (np.full((10, 16), 2.0, dtype=np.float32), r"\[0, 1\]"),
    ],
)
def test_bad_training_data(data, match):
    with pytest.raises(ValueError, match=match):
        Trainer(new_model(), TrainConfig(progress=False)).fit(data)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_single_nonfinite_value_anywhere_is_caught_and_counted(bad):
    # The check reads min and max (NaN propagates); torch.isfinite is the second implementation.
    rng = np.random.default_rng(0)
    x = rng.random((37, 16)).astype(np.float32)
    model = new_model()
    cfg = TrainConfig(epochs=1, progress=False)
    for flat in [0, 1, 15, 16, 300, 37 * 16 - 1, *rng.integers(0, 37 * 16, 20)]:
        y = x.copy()
        y.flat[flat] = bad
        y.flat[(flat + 7) % y.size] = bad
        n_bad = int((~torch.isfinite(torch.from_numpy(y))).sum())
        with pytest.raises(ValueError, match=f"has {n_bad} NaN or infinite values"):
            Trainer(model, cfg).fit(y)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "epochs"),
        ({"seed": -1}, "seed"),
        ({"seed": "abc"}, "seed"),
        ({"optimizer": "adagrad"}, "optimizer"),
        ({"lr": -1.0}, "lr"),
        ({"lr": math.nan}, "lr"),
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"lr_schedule": "warm"}, "lr_schedule"),
        ({"patience": 0}, "patience"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_train_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Trainer(new_model(), TrainConfig(**kwargs))


def test_validation_split_is_seeded_and_disjoint():
    a_tr, a_va = split_validation(100, 0.2, seed=3)
    _b_tr, b_va = split_validation(100, 0.2, seed=3)
    assert np.array_equal(a_va, b_va) and len(a_va) == 20
    assert set(a_tr).isdisjoint(a_va) and len(a_tr) + len(a_va) == 100
    assert not np.array_equal(a_va, np.arange(20))


@pytest.mark.parametrize("batch_size", [256, 64])  # full batch keeps L-BFGS history; minibatch not
def test_lbfgs_checkpoints_and_resumes_exactly(tmp_path, batch_size):
    x = make_data()
    cfg = TrainConfig(
        epochs=4, batch_size=batch_size, optimizer="lbfgs", lr=1.0, val_fraction=0, progress=False
    )
    ref = new_model(likelihood="gaussian")
    Trainer(ref, cfg, run_dir=tmp_path / "ref").fit(x)
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        Trainer(new_model(likelihood="gaussian"), cfg, run_dir=run, callbacks=[Kill(2)]).fit(x)
    resumed = new_model(seed=5, likelihood="gaussian")
    Trainer(resumed, cfg, run_dir=run).fit(x, resume=True)
    # Equal to float32 rounding: full-batch L-BFGS carries its history through the checkpoint
    # (Adam and SGD resume bit for bit; here the last digit has been seen to differ).
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[key], value, rtol=1e-5, atol=1e-7)


def test_lbfgs_is_refused_for_surrogate_gradient_models():
    from aekit.rbm import RBM, RBMConfig

    with pytest.raises(ValueError, match="sgd"):
        Trainer(RBM(RBMConfig(n_visible=4, n_hidden=2)), TrainConfig(optimizer="lbfgs"))


def test_momentum_warmup_reaches_the_optimizer():
    seen = []

    def spy(trainer, record):
        seen.append(trainer.optimizer.param_groups[0]["momentum"])

    cfg = TrainConfig(
        epochs=4,
        optimizer="sgd",
        lr=0.01,
        momentum=0.9,
        initial_momentum=0.5,
        momentum_warmup_epochs=2,
        progress=False,
    )
    Trainer(new_model(), cfg, callbacks=[spy]).fit(make_data())
    assert seen == [0.5, 0.5, 0.9, 0.9]


def test_fit_leaves_the_callers_rng_alone():
    model = new_model(corruption="mask", corruption_level=0.2)  # (new_model seeds torch)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    Trainer(model, TrainConfig(epochs=1, progress=False)).fit(make_data())
    assert torch.equal(torch.rand(3), expected)


def test_resume_refuses_other_settings_or_data(tmp_path):
    x = make_data()
    cfg = TrainConfig(epochs=3, progress=False)
    with pytest.raises(KeyboardInterrupt):
        Trainer(new_model(), cfg, run_dir=tmp_path, callbacks=[Kill(1)]).fit(x)
    with pytest.raises(ValueError, match="lr"):
        Trainer(new_model(), TrainConfig(epochs=3, lr=0.1, progress=False), run_dir=tmp_path).fit(
            x, resume=True
        )
    with pytest.raises(ValueError, match="samples"):
        Trainer(new_model(), cfg, run_dir=tmp_path).fit(x[:100], resume=True)


def test_fresh_fit_in_a_used_run_dir_forgets_the_old_run(tmp_path):
    x = make_data()
    Trainer(new_model(), TrainConfig(epochs=2, progress=False), run_dir=tmp_path).fit(x)
    with pytest.raises(KeyboardInterrupt):

        def stop_first(trainer, record):
            raise KeyboardInterrupt

        # Interrupted inside its first epoch's callback: its own checkpoint exists.
        Trainer(
            new_model(),
            TrainConfig(epochs=5, progress=False),
            run_dir=tmp_path,
            callbacks=[stop_first],
        ).fit(x)
    assert json.loads((tmp_path / "latest.json").read_text())["epoch"] == 0
    assert not (tmp_path / "model").exists()
    assert [p.name for p in tmp_path.glob("ckpt-*")] == ["ckpt-0000"]


def test_a_callback_stop_is_final_on_resume(tmp_path):
    x = make_data()
    cfg = TrainConfig(epochs=5, progress=False)
    hist = Trainer(
        new_model(), cfg, run_dir=tmp_path, callbacks=[lambda t, r: r["epoch"] == 2]
    ).fit(x)
    assert hist.stopped_early and len(hist.records) == 2
    again = Trainer(new_model(), cfg, run_dir=tmp_path).fit(x, resume=True)
    assert len(again.records) == 2


def test_weights_that_overflow_in_an_epochs_last_step_are_never_checkpointed(tmp_path):
    x = make_data(n=64) * 1e3
    model = new_model(likelihood="gaussian")
    # One batch per epoch: its loss is finite, the step then overflows the weights.
    cfg = TrainConfig(
        epochs=3,
        batch_size=64,
        optimizer="sgd",
        lr=1e36,
        momentum=0.0,
        val_fraction=0,
        progress=False,
    )
    with pytest.raises(NonFiniteLossError, match="non-finite weights"):
        Trainer(model, cfg, run_dir=tmp_path).fit(x)
    assert not (tmp_path / "latest.json").exists()


def test_adam_betas_reach_the_optimizer_and_survive_resume(tmp_path):
    x = make_data()
    cfg = TrainConfig(epochs=2, batch_size=64, adam_betas=(0.5, 0.99), progress=False)
    trainer = Trainer(new_model(), cfg, run_dir=tmp_path)
    trainer.fit(x)
    assert trainer.optimizer.param_groups[0]["betas"] == (0.5, 0.99)
    # run.json stores the pair as a JSON list; resuming with the same config is accepted.
    Trainer(new_model(), cfg, run_dir=tmp_path).fit(x, resume=True)
    with pytest.raises(ValueError, match="adam_betas"):
        TrainConfig(adam_betas=(0.9,))


class InputRecorder(Autoencoder):
    """Keeps every training batch it is given."""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.seen = []

    def loss(self, x):
        if self.training:
            self.seen.append(x.detach().clone())
        return super().loss(x)


def test_augmentation_moves_training_images_and_never_validation_ones(tmp_path):
    # 5x5 images with one lit pixel in the middle: a moved copy has it elsewhere.
    x = np.zeros((64, 25), dtype=np.float32)
    x[:, 12] = 1.0
    torch.manual_seed(0)
    model = InputRecorder(AutoencoderConfig(layers=[25, 4]))
    cfg = TrainConfig(
        epochs=2, batch_size=16, augment_shift=1, augment_prob=1.0, image_shape=(5, 5),
        val_fraction=0.25, progress=False,
    )  # fmt: skip
    hist = Trainer(model, cfg).fit(x)
    seen = torch.cat(model.seen)
    assert seen.shape == (96, 25)
    assert torch.equal(seen.sum(1), torch.ones(96))  # one pixel each, never pushed out
    lit = seen.argmax(1)
    rows, cols = lit // 5, lit % 5
    assert (rows - 2).abs().max() == 1 and (cols - 2).abs().max() == 1
    assert (lit != 12).float().mean() > 0.8  # P(moved) = 8/9 with augment_prob=1
    # Validation sees the images as they are: the recorder's eval-mode copies are not kept,
    # and the validation error is that of the unmoved images.
    model.eval()
    with torch.no_grad():
        val = model.evaluate_batch(torch.from_numpy(x[:16]))["recon"]
    assert hist.records[-1]["val_recon"] == pytest.approx(float(val), rel=1e-5)


def test_augmented_run_resumes_exactly(tmp_path):
    x = make_data()  # 16 features: 4x4 images
    cfg = TrainConfig(
        epochs=4, batch_size=32, lr=1e-2, augment_shift=1, image_shape=(4, 4), progress=False
    )
    ref = new_model()
    Trainer(ref, cfg, run_dir=tmp_path / "ref").fit(x)
    plain = new_model()
    Trainer(plain, TrainConfig(epochs=4, batch_size=32, lr=1e-2, progress=False)).fit(x)
    assert not states_equal(ref, plain)  # augmentation changed the run
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        Trainer(new_model(), cfg, run_dir=run, callbacks=[Kill(2)]).fit(x)
    resumed = new_model(seed=5)
    Trainer(resumed, cfg, run_dir=run).fit(x, resume=True)
    assert states_equal(resumed, ref)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"augment_shift": 1}, "image_shape"),
        ({"augment_shift": 1, "image_shape": (4,)}, "image_shape"),
        ({"augment_shift": 4, "image_shape": (4, 4)}, "out of the frame"),
        ({"augment_shift": 1, "image_shape": (4, 4), "augment_prob": 0.0}, "augment_prob"),
        ({"augment_shift": -1}, "augment_shift"),
        ({"augment_shift": 1.5, "image_shape": (4, 4)}, "augment_shift"),
        ({"augment_shift": 1, "image_shape": 28}, "image_shape"),
        ({"image_shape": (True, 4)}, "image_shape"),
        ({"image_shape": "abc"}, "image_shape"),
        ({"augment_prob": 7}, "augment_prob"),
        ({"augment_prob": "half"}, "augment_prob"),
    ],
)
def test_bad_augmentation_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_augmentation_shape_must_fit_the_data():
    cfg = TrainConfig(epochs=1, augment_shift=1, image_shape=(5, 5), progress=False)
    with pytest.raises(ValueError, match="holds 25 pixels but x_train rows have 16"):
        Trainer(new_model(), cfg).fit(make_data())


def test_a_run_saved_before_a_config_field_existed_still_resumes(tmp_path):
    """run.json written by an older aekit lacks the newer TrainConfig fields: they had their
    defaults then, so the run resumes."""
    x = make_data()
    cfg = TrainConfig(epochs=3, batch_size=32, progress=False)
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        Trainer(new_model(), cfg, run_dir=run, callbacks=[Kill(1)]).fit(x)
    meta = json.loads((run / "run.json").read_text())
    for key in ("augment_shift", "augment_prob", "image_shape"):
        del meta["train_config"][key]
    (run / "run.json").write_text(json.dumps(meta))
    resumed = new_model()
    Trainer(resumed, cfg, run_dir=run).fit(x, resume=True)
    ref = new_model()
    Trainer(ref, cfg).fit(x)
    assert states_equal(resumed, ref)
    # A real difference is still refused.
    with pytest.raises(ValueError, match="augment_shift"):
        other = TrainConfig(epochs=3, batch_size=32, augment_shift=1, image_shape=(4, 4))
        Trainer(new_model(), other, run_dir=run).fit(x, resume=True)
