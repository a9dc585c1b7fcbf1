"""`aekit reproduce hinton2006 docs` and `aekit retrieve` on a small generated newsgroup archive."""

import io
import json
import shutil
import tarfile

import numpy as np
import pytest
from click.testing import CliRunner

from aekit.cli import main
from aekit.experiments.documents import run_documents

GROUPS = ("alt.zeta", "comp.gamma", "sci.kappa")
TINY = {
    "n_words": 60,
    "hidden": "32-16",
    "rbm_epochs": 2,
    "finetune_epochs": 6,
    "batch_size": 20,
    "lr": 3e-3,
    "n_train": None,
    "n_test": None,
}


def _words(rng, n):
    consonants, vowels = "bdfgkmpt", "aou"
    return sorted(
        {
            "".join(rng.choice(list(c)) for c in (consonants, vowels, consonants, vowels, "kpt"))
            for _ in range(n * 3)
        }
    )[:n]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Posts of three groups, each written mostly in its own 25 words plus 15 shared ones."""
    rng = np.random.default_rng(0)
    words = _words(rng, 90)
    shared, topics = words[:15], [words[15 + 25 * g : 40 + 25 * g] for g in range(3)]
    root = tmp_path_factory.mktemp("news")
    path = root / "20news-bydate.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for subset, n_posts in (("train", 60), ("test", 30)):
            for g, group in enumerate(GROUPS):
                for i in range(n_posts):
                    n = int(rng.integers(15, 40))
                    body = " ".join(
                        rng.choice(topics[g]) if rng.random() < 0.7 else rng.choice(shared)
                        for _ in range(n)
                    )
                    text = f"From: a@b.c\nSubject: {group}\n\n{body}\n".encode("latin-1")
                    info = tarfile.TarInfo(f"20news-bydate-{subset}/{group}/{i + 1}")
                    info.size = len(text)
                    tar.addfile(info, io.BytesIO(text))
    return root


@pytest.fixture(scope="module")
def run(archive, tmp_path_factory):
    out = tmp_path_factory.mktemp("docs-run")
    results = run_documents(out, data_dir=archive, progress=False, overrides=TINY)
    return out, results


def test_the_reproduction_writes_its_report_and_beats_chance(run):
    out, results = run
    for name in ("report.html", "results.json", "retrieval.png", "maps.png", "curves.npz"):
        assert (out / name).is_file(), name
    assert results["n_train"] == 180 and results["n_test"] == 90
    chance = 29 / 89  # same-group share of the other test posts
    prec = results["precision"]
    assert set(prec) == {
        "AE-10",
        "AE-2",
        "hash-32",
        "hash-128",
        "AE-10 (no pretraining)",
        "LSA-2",
        "LSA-10",
        "LSA-50",
    }
    # Planted topics are easy: every real-code method retrieves far above chance at 10.
    for name in ("AE-10", "LSA-10", "LSA-50"):
        assert prec[name]["10"] > chance + 0.3, (name, prec[name])
    assert set(results["checks"]) == {
        "AE-10 above LSA-10 at every count < all",
        "AE-2 map kNN above LSA-2's",
        "hash-128 within 5 points of AE-10 at 10",
        "hash-128 queries >= 10x faster than AE-10 cosine",
        "hash-32 within 5 points of AE-10 at 10 and >= 10x faster",
    }
    curves = np.load(out / "curves.npz")
    # Retrieving every other post gives the same-group share for every method.
    for key in curves.files:
        if key.endswith("_precision"):
            assert curves[key][-1] == pytest.approx(chance)


def test_a_rerun_resumes_from_the_saved_stages(run, archive):
    out, results = run
    again = run_documents(out, data_dir=archive, progress=False, overrides=TINY)
    assert again["precision"] == results["precision"]
    with pytest.raises(ValueError, match="other settings"):
        run_documents(out, data_dir=archive, progress=False, overrides={**TINY, "lr": 1e-2})


def test_a_stage_cut_off_between_its_writes_is_trained_again(run, archive, tmp_path):
    out, results = run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "AE-2" / "records.json").unlink()  # the model was saved, its records were not
    again = run_documents(copy, data_dir=archive, progress=False, overrides=TINY)
    assert again["precision"] == results["precision"]
    assert (copy / "AE-2" / "records.json").is_file()
    (copy / "features" / "features.json").write_text('{"bag_of')
    with pytest.raises(ValueError, match=r"features\.json is not valid JSON.*delete"):
        run_documents(copy, data_dir=archive, progress=False, overrides=TINY)


def test_retrieve_finds_a_post_from_its_own_text(run, archive):
    out, _ = run
    model = out / "AE-10" / "model"
    runner = CliRunner()
    first = runner.invoke(
        main,
        ["retrieve", str(model), "--corpus", str(archive), "--subset", "test", "--k", "1"],
    )
    assert first.exit_code != 0 and "--query" in first.output
    # Take a test post's text as the query: it must come back first, with cosine 1.
    with tarfile.open(archive / "20news-bydate.tar.gz") as tar:
        member = tar.extractfile("20news-bydate-test/comp.gamma/7").read().decode("latin-1")
    query = member.split("\n\n", 1)[1]
    for code_model in ("AE-10", "hash-32"):
        result = runner.invoke(
            main,
            [
                "retrieve",
                str(out / code_model / "model"),
                "--corpus",
                str(archive),
                "--query",
                query,
                "--k",
                "5",
                "--json",
            ],
        )
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in result.output.splitlines()]
        assert len(rows) == 5 and rows[0]["rank"] == 1
        if code_model == "AE-10":
            assert rows[0]["doc_id"] == "comp.gamma/7" and rows[0]["label"] == "comp.gamma"
            assert rows[0]["cosine"] == pytest.approx(1.0, abs=1e-5)
        else:  # the post's own code is at distance 0 (among ties, lower index first)
            assert rows[0]["hamming"] == 0
    empty = runner.invoke(
        main, ["retrieve", str(model), "--corpus", str(archive), "--query", "the and of"]
    )
    assert empty.exit_code == 1 and "no word of the model's vocabulary" in empty.output
