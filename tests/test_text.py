"""Text features: Porter stemmer, tokens, headers, corpora loaders and the bag of words."""

import csv
import io
import json
import tarfile

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from aekit.data import DATA_DIR_ENV, data_dir
from aekit.data.text import (
    STOP_WORDS,
    BagOfWords,
    Corpus,
    check_nonempty,
    document_lengths,
    encode_labels,
    load_20newsgroups,
    load_corpus,
    load_text_csv,
    load_text_folder,
    porter_stem,
    strip_header,
    tokenize,
    word_probabilities,
)

# ---------------------------------------------------------------------------------------------
# Porter (1980): the examples printed in the paper, step by step, run through the whole
# algorithm (so e.g. "relational" ends as "relat", not the step-2 "relate").
# ---------------------------------------------------------------------------------------------

PORTER_EXAMPLES = {
    "caresses": "caress", "ponies": "poni", "ties": "ti", "caress": "caress", "cats": "cat",
    "feed": "feed", "agreed": "agre", "plastered": "plaster", "bled": "bled",
    "motoring": "motor", "sing": "sing", "conflated": "conflat", "troubled": "troubl",
    "sized": "size", "hopping": "hop", "tanned": "tan", "falling": "fall", "hissing": "hiss",
    "fizzed": "fizz", "failing": "fail", "filing": "file", "happy": "happi", "sky": "sky",
    "relational": "relat", "conditional": "condit", "rational": "ration",
    "valenci": "valenc", "digitizer": "digit", "conformabli": "conform",
    "radicalli": "radic", "differentli": "differ", "vileli": "vile",
    "analogousli": "analog", "vietnamization": "vietnam", "predication": "predic",
    "operator": "oper", "feudalism": "feudal", "decisiveness": "decis",
    "hopefulness": "hope", "callousness": "callous", "formaliti": "formal",
    "sensitiviti": "sensit", "sensibiliti": "sensibl", "triplicate": "triplic",
    "formative": "form", "formalize": "formal", "electriciti": "electr",
    "electrical": "electr", "hopeful": "hope", "goodness": "good", "revival": "reviv",
    "allowance": "allow", "inference": "infer", "airliner": "airlin",
    "gyroscopic": "gyroscop", "adjustable": "adjust", "defensible": "defens",
    "irritant": "irrit", "replacement": "replac", "adjustment": "adjust",
    "dependent": "depend", "adoption": "adopt", "homologou": "homolog",
    "communism": "commun", "activate": "activ", "angulariti": "angular",
    "homologous": "homolog", "effective": "effect", "bowdlerize": "bowdler",
    "probate": "probat", "rate": "rate", "cease": "ceas", "controll": "control",
    "roll": "roll", "generalizations": "gener", "oscillators": "oscil",
}  # fmt: skip


@pytest.mark.parametrize(("word", "stem"), sorted(PORTER_EXAMPLES.items()))
def test_porter_stem_matches_the_papers_examples(word, stem):
    assert porter_stem(word) == stem


@pytest.mark.parametrize("word", ["a", "is", "as", "ys", ""])
def test_porter_stem_leaves_short_words_alone(word):
    assert porter_stem(word) == word


def test_porter_stem_conditions_that_the_examples_do_not_reach():
    # Step 4 removes -ion only after s or t: "adoption" loses it, "opinion" does not.
    assert porter_stem("opinion") == "opinion"
    # In a step only the longest matching suffix counts: "rational" matches -ational with
    # m("r") = 0, so step 2 leaves it, though -tional would have applied ("ration" comes
    # from step 4).
    assert porter_stem("rational") == "ration"
    # y after a consonant is a vowel ("syzygy" has *v*), at the start a consonant.
    assert porter_stem("syzygy") == "syzygi"
    assert porter_stem("yes") == "ye"
    assert porter_stem("Caresses") == "caress"


# ---------------------------------------------------------------------------------------------
# Tokens and headers
# ---------------------------------------------------------------------------------------------


def test_tokenize_lowercases_splits_drops_stop_words_before_stemming():
    # "becoming" is a stop word (its stem "becom" is not): dropped. "ones" is not a stop word
    # (its stem "on" is): kept. Digits and punctuation split "42cats"; "x" is too short.
    assert "becoming" in STOP_WORDS and porter_stem("becoming") not in STOP_WORDS
    assert "ones" not in STOP_WORDS and porter_stem("ones") in STOP_WORDS
    text = "The Running DOGS, 42cats & becoming ONES x"
    assert tokenize(text) == ["run", "dog", "cat", "on"]
    assert tokenize(text, stem=False) == ["running", "dogs", "cats", "ones"]
    assert tokenize(text, stop_words=None, stem=False, min_length=1) == [
        "the", "running", "dogs", "cats", "becoming", "ones", "x",
    ]  # fmt: skip
    assert tokenize(text, min_length=5) == ["run"]


def test_strip_header_drops_everything_up_to_the_first_blank_line():
    post = "From: a@b.c\nSubject: hi\nNewsgroups: sci.space\n\nBody line\n\nMore body\n"
    assert strip_header(post) == "Body line\n\nMore body\n"
    assert strip_header("no header here\njust text") == "no header here\njust text"
    assert strip_header("From: a\r\n  \r\nbody\r\n") == "body\r\n"
    quoted = "From: a\n\nIn article x wrote:\n> quoted\n  >> deeper\nmine\n"
    assert strip_header(quoted) == "In article x wrote:\n> quoted\n  >> deeper\nmine\n"
    assert strip_header(quoted, remove_quotes=True) == "In article x wrote:\nmine\n"


# ---------------------------------------------------------------------------------------------
# Corpus and labels
# ---------------------------------------------------------------------------------------------


def test_corpus_subset_and_encode_labels():
    corpus = Corpus(["a", "b", "c"], np.array([1, 0, 1]), ["x", "y"], ["d0", "d1", "d2"])
    assert len(corpus) == 3
    sub = corpus.subset([2, 0])
    assert sub.texts == ["c", "a"] and sub.doc_ids == ["d2", "d0"]
    np.testing.assert_array_equal(sub.labels, [1, 1])
    assert sub.label_names == ["x", "y"] and sub.labels.dtype == np.int64
    assert corpus.subset(corpus.labels == 0).texts == ["b"]
    np.testing.assert_array_equal(encode_labels(["y", "x", "y"], ["x", "y"]), [1, 0, 1])
    with pytest.raises(ValueError, match=r"unknown label 'z'.*\['x', 'y'\]"):
        encode_labels(["x", "z"], ["x", "y"])
    with pytest.raises(ValueError, match="one label and one id per text"):
        Corpus(["a"], np.array([0, 0]), ["x"], ["d0"])


# ---------------------------------------------------------------------------------------------
# Bag of words
# ---------------------------------------------------------------------------------------------

# By hand, with stop words ("the", "a", "and") removed and stems:
#   doc 0: cat 2, chase 1          doc 1: cat 1, dog 2, bark 1        doc 2: run 2, runner 1
# Training totals: cat 3, dog 2, run 2, then bark, chase, runner 1 each (6 distinct stems).
TRAIN = ["The cats chased the cat.", "A cat and a dog; dogs bark!", "Running runners run"]


def test_bag_of_words_vocabulary_and_counts_match_a_hand_count():
    bow = BagOfWords(max_features=4)
    counts = bow.fit_transform(TRAIN)
    # Commonest first; dog and run tie at 2, bark/chase/runner at 1: alphabetical.
    assert bow.vocabulary_ == ["cat", "dog", "run", "bark"]
    assert bow.index_ == {"cat": 0, "dog": 1, "run": 2, "bark": 3}
    assert list(bow.get_feature_names_out()) == bow.vocabulary_
    np.testing.assert_array_equal(counts.toarray(), [[2, 0, 0, 0], [1, 2, 0, 1], [0, 0, 2, 0]])
    np.testing.assert_array_equal(document_lengths(counts), [2, 4, 2])
    all_stems = BagOfWords(max_features=None).fit(TRAIN).vocabulary_
    assert all_stems == ["cat", "dog", "run", "bark", "chase", "runner"]


def test_bag_of_words_learns_on_train_only_and_returns_float32_csr():
    bow = BagOfWords(max_features=4).fit(TRAIN)
    counts = bow.transform(["zebras chase cats", "Cat, cat, CAT and dogs", "zebra"])
    assert isinstance(counts, sp.csr_matrix)
    assert counts.dtype == np.float32 and counts.shape == (3, 4)
    assert counts.has_sorted_indices
    # Only the non-zero counts are stored: a dense matrix never existed.
    assert counts.nnz == 3 and np.all(counts.data > 0)
    # "zebra" and "chase" (not among the 4 kept stems) are ignored.
    np.testing.assert_array_equal(counts.toarray(), [[1, 0, 0, 0], [3, 1, 0, 0], [0, 0, 0, 0]])
    assert bow.transform([]).shape == (0, 4)


def test_bag_of_words_settings_change_the_tokens():
    no_stem = BagOfWords(max_features=None, stem=False).fit(TRAIN)
    assert "cats" in no_stem.vocabulary_ and "cat" in no_stem.vocabulary_
    # Without stop words: cat 3, then a, dog, run, the at 2 each (alphabetical), ...
    keep_stops = BagOfWords(max_features=5, stop_words=False, min_length=1).fit(TRAIN)
    assert keep_stops.vocabulary_ == ["cat", "a", "dog", "run", "the"]
    custom = BagOfWords(max_features=None, stop_words=["cat", "cats"]).fit(TRAIN)
    assert "cat" not in custom.vocabulary_ and "the" in custom.vocabulary_


def test_bag_of_words_save_load_round_trip(tmp_path):
    bow = BagOfWords(max_features=5, stop_words=["the", "a"], min_length=3).fit(TRAIN)
    path = tmp_path / "bow.json"
    bow.save(path)
    assert json.loads(path.read_text())["vocabulary"] == bow.vocabulary_
    assert [p.name for p in tmp_path.iterdir()] == ["bow.json"]  # no temporary left behind
    loaded = BagOfWords.load(path)
    assert loaded.vocabulary_ == bow.vocabulary_
    assert (loaded.max_features, loaded.min_length, loaded.stem) == (5, 3, True)
    texts = ["the cat and the dog ran", "Runners chase a dog", "nothing known"]
    a, b = bow.transform(texts), loaded.transform(texts)
    assert (a != b).nnz == 0 and a.shape == b.shape
    assert BagOfWords.from_dict(json.loads(json.dumps(bow.to_dict()))).index_ == bow.index_
    with pytest.raises(ValueError, match="not a saved BagOfWords"):
        BagOfWords.from_dict({"vocabulary": ["a"]})


def test_bag_of_words_errors():
    with pytest.raises(ValueError, match=r"6 distinct stems.*max_features=None"):
        BagOfWords(max_features=7).fit(TRAIN)
    with pytest.raises(ValueError, match="empty corpus"):
        BagOfWords().fit([])
    with pytest.raises(ValueError, match="hold no words"):
        BagOfWords(max_features=None).fit(["the a an", "12 34"])
    with pytest.raises(NotFittedError, match="call fit"):
        BagOfWords().transform(TRAIN)
    with pytest.raises(TypeError, match="single string"):
        BagOfWords(max_features=None).fit("one document")
    with pytest.raises(ValueError, match="positive int or None"):
        BagOfWords(max_features=0).fit(TRAIN)
    assert issubclass(NotFittedError, ValueError)


def test_check_nonempty_and_word_probabilities():
    bow = BagOfWords(max_features=4).fit(TRAIN)
    counts = bow.transform(["cat dog dog", "zebra", "bark"])
    with pytest.raises(ValueError, match="test document 1 has no words in the vocabulary"):
        check_nonempty(counts, "test document")
    check_nonempty(counts[[0, 2]])
    probs = word_probabilities(counts)
    assert isinstance(probs, sp.csr_matrix) and probs.dtype == np.float32
    np.testing.assert_allclose(
        probs.toarray(), [[1 / 3, 2 / 3, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]], rtol=1e-6
    )


# ---------------------------------------------------------------------------------------------
# Loaders, on a tiny fake 20 Newsgroups
# ---------------------------------------------------------------------------------------------

POSTS = {
    "train": {
        "sci.space": {"100": "orbit orbit moon", "9": "rocket launch", "10": "moon landing"},
        "rec.autos": {"5": "engine car", "7": "car car wheels"},
    },
    "test": {"sci.space": {"3": "satellite orbit"}, "rec.autos": {"4": "brakes car"}},
}


def _post(group, body):
    return f"From: someone@example.com\nNewsgroups: {group}\nSubject: about {group}\n\n{body}\n"


def _write_archive(path):
    with tarfile.open(path, "w:gz") as tar:
        for subset, groups in POSTS.items():
            for group, posts in groups.items():
                for name, body in posts.items():
                    data = _post(group, body).encode("latin-1")
                    info = tarfile.TarInfo(f"20news-bydate-{subset}/{group}/{name}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))


@pytest.fixture(scope="module")
def newsgroups(tmp_path_factory):
    """The same posts as an archive (in a folder of its own) and as unpacked folders."""
    root = tmp_path_factory.mktemp("news")
    (root / "data").mkdir()
    _write_archive(root / "data" / "20news-bydate.tar.gz")
    for subset, groups in POSTS.items():
        for group, posts in groups.items():
            folder = root / "unpacked" / f"20news-bydate-{subset}" / group
            folder.mkdir(parents=True)
            for name, body in posts.items():
                (folder / name).write_bytes(_post(group, body).encode("latin-1"))
    return root


def test_20newsgroups_from_archive_folder_and_parent_dir_agree(newsgroups):
    archive = load_20newsgroups(newsgroups / "data" / "20news-bydate.tar.gz", "train")
    assert archive.label_names == ["rec.autos", "sci.space"]
    # By group, then numeric id (9 < 10 < 100, which string order would not give).
    assert archive.doc_ids == [
        "rec.autos/5", "rec.autos/7", "sci.space/9", "sci.space/10", "sci.space/100",
    ]  # fmt: skip
    np.testing.assert_array_equal(archive.labels, [0, 0, 1, 1, 1])
    assert archive.texts[2] == "rocket launch\n"  # header removed
    for other in (newsgroups / "unpacked", newsgroups / "data"):
        corpus = load_20newsgroups(other, "train")
        assert corpus.texts == archive.texts and corpus.doc_ids == archive.doc_ids
        np.testing.assert_array_equal(corpus.labels, archive.labels)
    test = load_20newsgroups(newsgroups / "data", subset="test", remove_headers=False)
    assert test.doc_ids == ["rec.autos/4", "sci.space/3"]
    assert test.texts[1].startswith("From: someone@example.com\nNewsgroups: sci.space")


def test_20newsgroups_categories_and_errors(newsgroups, tmp_path):
    space = load_20newsgroups(newsgroups / "data", categories=["sci.space"])
    assert space.label_names == ["sci.space"] and len(space) == 3
    with pytest.raises(ValueError, match=r"unknown 20 Newsgroups categories \['sci\.spice'\]"):
        load_20newsgroups(newsgroups / "data", categories=["sci.spice"])
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_20newsgroups(newsgroups / "data", subset="validation")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_20newsgroups(tmp_path / "missing.tar.gz")
    with pytest.raises(FileNotFoundError, match=r"20news-bydate-train/.*20news-bydate\.tar\.gz"):
        load_20newsgroups(tmp_path)
    broken = tmp_path / "20news-bydate.tar.gz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(ValueError, match="download it again"):
        load_20newsgroups(broken)
    other = tmp_path / "other.tar.gz"
    with tarfile.open(other, "w:gz") as tar:
        info = tarfile.TarInfo("readme.txt")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(ValueError, match="no 20 Newsgroups posts found"):
        load_20newsgroups(other)


def test_load_text_folder(tmp_path):
    for label, name, text in [("pos", "b.txt", "good"), ("pos", "a.txt", "great"),
                              ("neg", "1", "bad\xff")]:  # fmt: skip
        (tmp_path / label).mkdir(exist_ok=True)
        (tmp_path / label / name).write_bytes(text.encode("latin-1"))
    (tmp_path / "pos" / ".hidden").write_text("skip me")
    corpus = load_text_folder(tmp_path)
    assert corpus.label_names == ["neg", "pos"]
    assert corpus.doc_ids == ["neg/1", "pos/a.txt", "pos/b.txt"]
    assert corpus.texts == ["bad\ufffd", "great", "good"]  # undecodable byte replaced
    np.testing.assert_array_equal(corpus.labels, [0, 1, 1])
    empty = tmp_path / "empty"
    (empty / "class").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"no documents found in .*empty"):
        load_text_folder(empty)


def test_load_text_csv(tmp_path):
    path = tmp_path / "docs.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "body", "topic"])
        writer.writerows([[1, "cats, and\nmore cats", "pets"], [2, "stocks fell", "money"]])
    corpus = load_text_csv(path, text_column="body", label_column="topic")
    assert corpus.texts == ["cats, and\nmore cats", "stocks fell"]
    assert corpus.label_names == ["money", "pets"]
    np.testing.assert_array_equal(corpus.labels, [1, 0])
    with pytest.raises(ValueError, match=r"no column named 'text'.*\['id', 'body', 'topic'\]"):
        load_text_csv(path)
    header_only = tmp_path / "header.csv"
    header_only.write_text("text,label\n")
    with pytest.raises(ValueError, match="no documents"):
        load_text_csv(header_only)
    blank = tmp_path / "blank.csv"
    blank.write_text("")
    with pytest.raises(ValueError, match="header row"):
        load_text_csv(blank)


def test_load_corpus_dispatches_on_what_the_path_is(newsgroups, tmp_path):
    assert len(load_corpus(newsgroups / "data" / "20news-bydate.tar.gz")) == 5
    assert len(load_corpus(newsgroups / "unpacked", subset="test")) == 2
    assert load_corpus(newsgroups / "data", categories=["rec.autos"]).label_names == ["rec.autos"]
    (tmp_path / "docs.csv").write_text("text,label\nhello there,greeting\n")
    assert load_corpus(tmp_path / "docs.csv").label_names == ["greeting"]
    with pytest.raises(ValueError, match="only applies to 20 Newsgroups"):
        load_corpus(tmp_path / "docs.csv", subset="test")
    folder = tmp_path / "folder"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "doc").write_text("text")
    assert load_corpus(folder).doc_ids == ["a/doc"]
    (tmp_path / "doc.json").write_text("{}")
    with pytest.raises(ValueError, match=r"unsupported file type '\.json'"):
        load_corpus(tmp_path / "doc.json")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")


# ---------------------------------------------------------------------------------------------
# The real archive
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_archive():
    root = data_dir()
    if root is None or not (root / "20news-bydate.tar.gz").is_file():
        pytest.skip(f"20news-bydate.tar.gz not found: set {DATA_DIR_ENV} to the folder holding it")
    return root / "20news-bydate.tar.gz"


@pytest.mark.realdata
def test_real_20newsgroups_sizes_and_bag_of_words(real_archive):
    train = load_20newsgroups(real_archive, "train")
    test = load_20newsgroups(real_archive.parent, "test")
    assert (len(train), len(test)) == (11314, 7532)
    assert len(train.label_names) == 20 and train.label_names == test.label_names
    assert train.label_names[0] == "alt.atheism" and np.bincount(train.labels).min() >= 377
    bow = BagOfWords(2000)
    counts = bow.fit_transform(train.texts)
    assert len(bow.vocabulary_) == 2000 and isinstance(counts, sp.csr_matrix)
    assert counts.shape == (11314, 2000)
    density = counts.nnz / (counts.shape[0] * counts.shape[1])
    assert 0.005 < density < 0.1
    test_counts = bow.transform(test.texts)
    assert test_counts.shape == (7532, 2000) and test_counts.nnz < 0.1 * 7532 * 2000
    # Most posts keep words: only a handful (empty or non-English posts) have none.
    assert (document_lengths(test_counts) == 0).sum() < 0.01 * len(test)
