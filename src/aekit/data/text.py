"""Text corpora as bags of words: the Porter stemmer, loaders and a word-count vectorizer.

This is the text side of the document experiments of Hinton & Salakhutdinov (2006), "Reducing
the dimensionality of data with neural networks", Science 313 (Fig. 4, and the semantic
hashing that follows it): each post of 20 Newsgroups loses its header and its stop words, the
remaining words are stemmed, and a document becomes a sparse row of counts over the 2,000
commonest stems of the *training* set.

References
----------
- M. F. Porter (1980), "An algorithm for suffix stripping", Program 14(3), 130-137.
  :func:`porter_stem` implements the algorithm as published (not the later "Porter2" or the
  revised reference C code, which differ on a few suffixes such as ``-bli`` and ``-logi``).
- K. Lang (1995), "NewsWeeder: learning to filter netnews", ICML. The 20 Newsgroups data set,
  read here from the standard "bydate" archive ``20news-bydate.tar.gz`` (11,314 training and
  7,532 test posts, 20 groups), the split scikit-learn's ``fetch_20newsgroups`` uses.
- G. E. Hinton & R. R. Salakhutdinov (2006), Science 313(5786), 504-507.

Loaders return a :class:`Corpus` (texts, integer labels, label names, document ids) in a
deterministic order; :class:`BagOfWords` turns texts into a ``scipy.sparse.csr_matrix`` of
counts without ever building a dense matrix. Nothing here imports torch.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import re
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

__all__ = [
    "NEWSGROUPS_ARCHIVE",
    "STOP_WORDS",
    "BagOfWords",
    "Corpus",
    "check_nonempty",
    "document_lengths",
    "encode_labels",
    "load_20newsgroups",
    "load_corpus",
    "load_text_csv",
    "load_text_folder",
    "porter_stem",
    "strip_header",
    "tokenize",
    "word_probabilities",
]

# ---------------------------------------------------------------------------------------------
# Porter (1980)
# ---------------------------------------------------------------------------------------------

_VOWELS = frozenset("aeiou")


def _consonants(word: str) -> list[bool]:
    """Which letters of ``word`` are consonants, in Porter's sense.

    A consonant is a letter other than a, e, i, o, u, and other than a y preceded by a
    consonant; so y is a consonant at the start of a word or after a vowel.
    """
    flags: list[bool] = []
    for i, ch in enumerate(word):
        if ch in _VOWELS:
            flags.append(False)
        elif ch == "y":
            flags.append(i == 0 or not flags[i - 1])
        else:
            flags.append(True)
    return flags


def _measure(stem: str) -> int:
    """Porter's m: the number of VC runs in the form [C](VC)^m[V]."""
    m = 0
    after_vowel = False
    for is_consonant in _consonants(stem):
        if is_consonant and after_vowel:
            m += 1
        after_vowel = not is_consonant
    return m


def _has_vowel(stem: str) -> bool:  # *v*
    return not all(_consonants(stem))


def _ends_double_consonant(stem: str) -> bool:  # *d
    return len(stem) >= 2 and stem[-1] == stem[-2] and _consonants(stem)[-1]


def _ends_cvc(stem: str) -> bool:  # *o: consonant-vowel-consonant, the last not w, x or y
    if len(stem) < 3 or stem[-1] in "wxy":
        return False
    c = _consonants(stem)
    return c[-3] and not c[-2] and c[-1]


def _m_above(k: int):
    return lambda stem: _measure(stem) > k


# Steps 2, 3 and 4 as (suffix, replacement, condition on the stem left after the suffix).
# Within a step only the rule with the longest matching suffix is considered; if its
# condition fails the word is left alone by that step (Porter 1980, section 3).
_STEP2 = (
    ("ational", "ate"),
    ("tional", "tion"),
    ("enci", "ence"),
    ("anci", "ance"),
    ("izer", "ize"),
    ("abli", "able"),
    ("alli", "al"),
    ("entli", "ent"),
    ("eli", "e"),
    ("ousli", "ous"),
    ("ization", "ize"),
    ("ation", "ate"),
    ("ator", "ate"),
    ("alism", "al"),
    ("iveness", "ive"),
    ("fulness", "ful"),
    ("ousness", "ous"),
    ("aliti", "al"),
    ("iviti", "ive"),
    ("biliti", "ble"),
)
_STEP3 = (
    ("icate", "ic"),
    ("ative", ""),
    ("alize", "al"),
    ("iciti", "ic"),
    ("ical", "ic"),
    ("ful", ""),
    ("ness", ""),
)
_STEP4 = (
    "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion",
    "ou", "ism", "ate", "iti", "ous", "ive", "ize",
)  # fmt: skip


def _ion_condition(stem: str) -> bool:  # (m>1 and (*S or *T)) ION ->
    return _measure(stem) > 1 and stem.endswith(("s", "t"))


def _rules(pairs, condition_for):
    """A step as (all its suffixes, its rules longest suffix first)."""
    rules = [(s, r, condition_for(s)) for s, r in sorted(pairs, key=lambda p: -len(p[0]))]
    return tuple(s for s, _, _ in rules), rules


_RULES_2 = _rules(_STEP2, lambda s: _m_above(0))
_RULES_3 = _rules(_STEP3, lambda s: _m_above(0))
_RULES_4 = _rules(
    [(s, "") for s in _STEP4], lambda s: _ion_condition if s == "ion" else _m_above(1)
)


def _apply_longest(word: str, step) -> str:
    suffixes, rules = step
    # One C-level test first: most words end in none of a step's suffixes.
    if not word.endswith(suffixes):
        return word
    for suffix, replacement, condition in rules:
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            return stem + replacement if condition(stem) else word
    return word


def _step1ab(word: str) -> str:
    # Step 1a: plurals.
    if word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("ies"):
        word = word[:-2]
    elif word.endswith("ss"):
        pass
    elif word.endswith("s"):
        word = word[:-1]
    # Step 1b: -eed, -ed, -ing.
    if word.endswith("eed"):
        if _measure(word[:-3]) > 0:
            word = word[:-1]
        return word
    for suffix in ("ed", "ing"):
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            if not _has_vowel(stem):
                return word
            # The clean-up after removing -ed/-ing, so that e.g. "hopping" -> "hop" and
            # "filing" -> "file"; only the first matching rule applies.
            if stem.endswith(("at", "bl", "iz")):
                return stem + "e"
            if _ends_double_consonant(stem) and stem[-1] not in "lsz":
                return stem[:-1]
            if _measure(stem) == 1 and _ends_cvc(stem):
                return stem + "e"
            return stem
    return word


def _step5(word: str) -> str:
    # Step 5a: a final -e goes when m > 1, or when m = 1 and the stem does not end cvc.
    if word.endswith("e"):
        stem = word[:-1]
        m = _measure(stem)
        if m > 1 or (m == 1 and not _ends_cvc(stem)):
            word = stem
    # Step 5b: -ll -> -l when m > 1.
    if word.endswith("ll") and _measure(word) > 1:
        word = word[:-1]
    return word


@functools.lru_cache(maxsize=1 << 18)
def porter_stem(word: str) -> str:
    """Stem an English word with Porter's (1980) suffix-stripping algorithm.

    The algorithm as published: steps 1a (plurals), 1b (-eed, -ed, -ing, with its clean-up),
    1c (y -> i), 2 and 3 (double and single suffixes), 4 (-ant, -ence, ... when m > 1) and
    5a/5b (final -e and -ll), with the measure m and the conditions *v*, *d and *o of the
    paper. Results are memoized: a corpus repeats its words, so each is stemmed once.

    Parameters
    ----------
    word : str
        A word of letters a-z; it is lowercased first. Words of two letters or fewer are
        returned unchanged, as in Porter's own implementation.

    Returns
    -------
    str
        The stem, e.g. ``"relational" -> "relat"``, ``"ponies" -> "poni"``,
        ``"generalizations" -> "gener"``. A stem need not be an English word.
    """
    word = word.lower()
    if len(word) <= 2:
        return word
    word = _step1ab(word)
    if word.endswith("y") and _has_vowel(word[:-1]):  # step 1c
        word = word[:-1] + "i"
    word = _apply_longest(word, _RULES_2)
    word = _apply_longest(word, _RULES_3)
    word = _apply_longest(word, _RULES_4)
    return _step5(word)


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------

STOP_WORDS: frozenset[str] = frozenset(ENGLISH_STOP_WORDS)
"""English stop words: scikit-learn's list of 318 (Glasgow Information Retrieval Group)."""

# Digits, punctuation and anything outside a-z end a token: "mp3-player" -> "mp", "player".
_TOKEN = re.compile(r"[a-z]+")


def tokenize(
    text: str,
    stop_words: Iterable[str] | None = STOP_WORDS,
    stem: bool = True,
    min_length: int = 2,
) -> list[str]:
    """Split a text into lowercase word tokens, drop stop words and stem the rest.

    Parameters
    ----------
    text : str
        Any text. It is lowercased and cut into runs of the letters a-z; digits, punctuation
        and other characters separate tokens.
    stop_words : iterable of str or None, default=STOP_WORDS
        Lowercase words to drop, checked *before* stemming (the list holds whole words, not
        stems). None keeps every word.
    stem : bool, default=True
        Replace each kept token by its :func:`porter_stem`.
    min_length : int, default=2
        Drop tokens shorter than this many letters (checked before stemming).

    Returns
    -------
    list of str
        The tokens in text order, repeats kept.
    """
    stops = _as_stop_set(stop_words)
    tokens = [t for t in _TOKEN.findall(text.lower()) if len(t) >= min_length and t not in stops]
    if stem:
        tokens = [porter_stem(t) for t in tokens]
    return tokens


def _as_stop_set(stop_words: Iterable[str] | bool | None) -> frozenset[str]:
    if stop_words is None or stop_words is False:
        return frozenset()
    if stop_words is True:
        return STOP_WORDS
    if isinstance(stop_words, str):
        raise TypeError(
            f"stop_words must be a collection of words, True, False or None, got the string "
            f"{stop_words!r}; wrap a single word in a list."
        )
    return stop_words if isinstance(stop_words, frozenset) else frozenset(stop_words)


def strip_header(text: str, remove_quotes: bool = False) -> str:
    """Drop the header of a Usenet post or e-mail: everything up to the first blank line.

    Parameters
    ----------
    text : str
        The raw message.
    remove_quotes : bool, default=False
        Also drop quoted lines, those whose first non-space character is ``>``.

    Returns
    -------
    str
        The body after the first blank (empty or whitespace-only) line. A text with no blank
        line has no header and is returned whole.
    """
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if not line.strip():
            lines = lines[i + 1 :]
            break
    if remove_quotes:
        lines = [line for line in lines if not line.lstrip().startswith(">")]
    return "".join(lines)


# ---------------------------------------------------------------------------------------------
# Corpora
# ---------------------------------------------------------------------------------------------


@dataclass
class Corpus:
    """Labelled documents.

    Attributes
    ----------
    texts : list of str, length n_docs
        The documents.
    labels : ndarray of shape (n_docs,), int64
        Class of each document, an index into ``label_names``.
    label_names : list of str
        Class names, in the order the labels count them.
    doc_ids : list of str, length n_docs
        Where each document came from (e.g. ``"sci.space/60804"`` or ``"row 3"``).
    """

    texts: list[str]
    labels: np.ndarray
    label_names: list[str]
    doc_ids: list[str]

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.int64)
        n = len(self.texts)
        if self.labels.shape != (n,) or len(self.doc_ids) != n:
            raise ValueError(
                f"a Corpus needs one label and one id per text: got {n} texts, labels of "
                f"shape {self.labels.shape} and {len(self.doc_ids)} ids."
            )
        if n and (self.labels.min() < 0 or self.labels.max() >= len(self.label_names)):
            raise ValueError(
                f"labels must index label_names (0..{len(self.label_names) - 1}), got values "
                f"from {self.labels.min()} to {self.labels.max()}."
            )

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Sequence[int] | np.ndarray) -> Corpus:
        """The documents at ``indices`` (ints or a boolean mask), keeping all label names."""
        idx = np.asarray(indices)
        if idx.size == 0:  # np.asarray([]) is float, which cannot index
            idx = idx.astype(np.int64)
        idx = np.arange(len(self))[idx]
        return Corpus(
            texts=[self.texts[i] for i in idx],
            labels=self.labels[idx],
            label_names=list(self.label_names),
            doc_ids=[self.doc_ids[i] for i in idx],
        )


def encode_labels(names: Iterable[str], label_names: Sequence[str]) -> np.ndarray:
    """Class names -> their indices in ``label_names``.

    Parameters
    ----------
    names : iterable of str, length n
        One class name per document.
    label_names : sequence of str
        The known classes.

    Returns
    -------
    ndarray of shape (n,), int64

    Raises
    ------
    ValueError
        If a name is not in ``label_names``; the message lists the known ones.
    """
    index = {name: i for i, name in enumerate(label_names)}
    out = []
    for name in names:
        if name not in index:
            raise ValueError(f"unknown label {name!r}; the known labels are {list(label_names)}.")
        out.append(index[name])
    return np.asarray(out, dtype=np.int64)


def _file_order(name: str) -> tuple[int, int, str]:
    # 20 Newsgroups names its posts by number; sort those numerically, anything else after.
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


def _check_path(path: str | os.PathLike[str], what: str) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"{what} {str(path)!r} does not exist (relative paths start from {os.getcwd()!r}); "
            "check the path."
        )
    return path


def _build_corpus(docs: list[tuple[str, str, str]], label_names: list[str]) -> Corpus:
    """``docs`` as (label, doc id, text) triples, already in their final order."""
    return Corpus(
        texts=[text for _, _, text in docs],
        labels=encode_labels((label for label, _, _ in docs), label_names),
        label_names=label_names,
        doc_ids=[doc_id for _, doc_id, _ in docs],
    )


# ---------------------------------------------------------------------------------------------
# 20 Newsgroups
# ---------------------------------------------------------------------------------------------

NEWSGROUPS_ARCHIVE = "20news-bydate.tar.gz"
_NEWSGROUPS_URL = "http://qwone.com/~jason/20Newsgroups/20news-bydate.tar.gz"
_SUBSETS = ("train", "test")


def _newsgroups_source(path: Path, subset: str) -> tuple[str, Path]:
    """Where the posts are: ("archive", file) or ("folder", the 20news-bydate-<subset> dir)."""
    if path.is_file():
        return "archive", path
    folder = path / f"20news-bydate-{subset}"
    if folder.is_dir():
        return "folder", folder
    if (path / NEWSGROUPS_ARCHIVE).is_file():
        return "archive", path / NEWSGROUPS_ARCHIVE
    raise FileNotFoundError(
        f"no 20 Newsgroups data in {str(path)!r}: looked for the folder "
        f"'20news-bydate-{subset}/' and the archive {NEWSGROUPS_ARCHIVE!r} in it. Download "
        f"{_NEWSGROUPS_URL} and pass its path, or the folder that holds it (e.g. the data "
        "directory)."
    )


def _read_newsgroups_archive(
    archive: Path, subset: str, wanted: frozenset[str] | None
) -> tuple[list[tuple[str, str, bytes]], set[str]]:
    """Read the posts of one subset in a single pass; returns them and every group seen."""
    top = f"20news-bydate-{subset}"
    posts: list[tuple[str, str, bytes]] = []
    groups: set[str] = set()
    try:
        # Iterating the members and reading each as it comes keeps this one forward pass
        # over the compressed stream; "r:*" also accepts an uncompressed .tar.
        with tarfile.open(archive, mode="r:*") as tar:
            for member in tar:
                parts = member.name.removeprefix("./").split("/")
                if len(parts) != 3 or parts[0] != top or not member.isfile():
                    continue
                groups.add(parts[1])
                if wanted is not None and parts[1] not in wanted:
                    continue
                stream = tar.extractfile(member)
                assert stream is not None  # a regular file always has a stream
                posts.append((parts[1], parts[2], stream.read()))
    except (tarfile.TarError, EOFError, OSError) as err:
        raise ValueError(
            f"cannot read {str(archive)!r} as a tar archive ({err}); the file is probably "
            f"truncated or not {NEWSGROUPS_ARCHIVE}: download it again from {_NEWSGROUPS_URL}."
        ) from err
    return posts, groups


def _read_newsgroups_folder(
    folder: Path, wanted: frozenset[str] | None
) -> tuple[list[tuple[str, str, bytes]], set[str]]:
    posts: list[tuple[str, str, bytes]] = []
    groups = {d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")}
    for group in sorted(groups):
        if wanted is not None and group not in wanted:
            continue
        for file in (folder / group).iterdir():
            if file.is_file() and not file.name.startswith("."):
                posts.append((group, file.name, file.read_bytes()))
    return posts, groups


def load_20newsgroups(
    path: str | os.PathLike[str],
    subset: Literal["train", "test"] = "train",
    remove_headers: bool = True,
    categories: Iterable[str] | None = None,
) -> Corpus:
    """Load the "bydate" 20 Newsgroups posts (Lang 1995) of one subset.

    Parameters
    ----------
    path : str or path-like
        The standard archive ``20news-bydate.tar.gz`` (members
        ``20news-bydate-{train,test}/<group>/<id>``), a folder holding it (such as the data
        directory), or a folder holding the unpacked ``20news-bydate-train/`` and
        ``20news-bydate-test/``. The archive is read in one streaming pass, never unpacked.
    subset : {"train", "test"}, default="train"
        Which half of the date split: 11,314 training or 7,532 test posts.
    remove_headers : bool, default=True
        Drop each post's header (see :func:`strip_header`), as Hinton & Salakhutdinov did:
        the header names the newsgroup and would leak the label.
    categories : iterable of str, optional
        Keep only these groups. ``label_names`` are then these groups, sorted.

    Returns
    -------
    Corpus
        Posts decoded as Latin-1 (as scikit-learn does), ordered by (group, numeric post
        id); ``label_names`` are the groups in alphabetical order, ``doc_ids`` are
        ``"<group>/<id>"``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist or holds neither the archive nor the unpacked folders.
    ValueError
        If ``subset`` is not "train" or "test", a category is unknown (the message lists the
        valid ones), the archive is corrupt, or no post is found.
    """
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}.")
    if isinstance(categories, str):
        raise TypeError(
            f"categories must be a list of group names, got the string {categories!r}; "
            f"write categories=[{categories!r}]."
        )
    wanted = None if categories is None else frozenset(categories)
    path = _check_path(path, "20 Newsgroups path")
    kind, source = _newsgroups_source(path, subset)
    if kind == "archive":
        posts, groups = _read_newsgroups_archive(source, subset, wanted)
    else:
        posts, groups = _read_newsgroups_folder(source, wanted)
    if not groups:
        raise ValueError(
            f"no 20 Newsgroups posts found in {str(source)!r}: expected files "
            f"'20news-bydate-{subset}/<group>/<id>'. Is this the bydate archive "
            f"({_NEWSGROUPS_URL})?"
        )
    if wanted is not None:
        unknown = sorted(wanted - groups)
        if unknown:
            raise ValueError(
                f"unknown 20 Newsgroups categories {unknown}; the valid ones are {sorted(groups)}."
            )
        groups = set(wanted)
    posts.sort(key=lambda p: (p[0], _file_order(p[1])))
    docs = []
    for group, name, raw in posts:
        text = raw.decode("latin-1")
        docs.append((group, f"{group}/{name}", strip_header(text) if remove_headers else text))
    if not docs:
        raise ValueError(
            f"no posts of the chosen categories in {str(source)!r} ({subset} subset); check "
            "the categories."
        )
    return _build_corpus(docs, sorted(groups))


# ---------------------------------------------------------------------------------------------
# Other layouts
# ---------------------------------------------------------------------------------------------


def load_text_folder(path: str | os.PathLike[str], remove_headers: bool = False) -> Corpus:
    """Load a folder of class folders of text files, one document per file.

    Parameters
    ----------
    path : str or path-like
        A folder whose sub-folders are the classes (``path/<class>/<file>``). Every file is a
        document, read as UTF-8 with undecodable bytes replaced; hidden files and folders
        (names starting with ``.``) are skipped, and so are files directly in ``path``.
    remove_headers : bool, default=False
        Drop each file's header up to its first blank line (see :func:`strip_header`).

    Returns
    -------
    Corpus
        Classes in alphabetical order; documents by class, then file name (numeric names in
        numeric order); ``doc_ids`` are ``"<class>/<file>"``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is not a folder or holds no class folder with a file in it.
    """
    path = _check_path(path, "text folder")
    if not path.is_dir():
        raise ValueError(
            f"{str(path)!r} is a file; load_text_folder needs a folder of class folders "
            "(path/<class>/<file>). Use load_text_csv for a .csv file."
        )
    classes = sorted(d.name for d in path.iterdir() if d.is_dir() and not d.name.startswith("."))
    docs = []
    for label in classes:
        files = [f for f in (path / label).iterdir() if f.is_file() and not f.name.startswith(".")]
        for file in sorted(files, key=lambda f: _file_order(f.name)):
            text = file.read_bytes().decode("utf-8", errors="replace")
            docs.append(
                (label, f"{label}/{file.name}", strip_header(text) if remove_headers else text)
            )
    if not docs:
        raise ValueError(
            f"no documents found in {str(path)!r}: looked for files in its sub-folders "
            f"(found {len(classes)} sub-folders). Lay the corpus out as path/<class>/<file>, "
            "one document per file."
        )
    return _build_corpus(docs, classes)


def load_text_csv(
    path: str | os.PathLike[str], text_column: str = "text", label_column: str = "label"
) -> Corpus:
    """Load documents from a CSV file with a header row, one document per row.

    Parameters
    ----------
    path : str or path-like
        The ``.csv`` file (UTF-8, comma-separated, quoted as by Python's ``csv`` module or
        a spreadsheet; texts may span lines inside quotes).
    text_column : str, default="text"
        Header name of the column holding the texts.
    label_column : str, default="label"
        Header name of the column holding the class names.

    Returns
    -------
    Corpus
        Rows in file order; ``label_names`` are the distinct labels, sorted as strings;
        ``doc_ids`` are ``"row <i>"`` counting data rows from 0.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is empty, lacks a named column (the message lists the columns), has a
        short row, cannot be parsed, or has no data rows.
    """
    path = _check_path(path, "CSV file")
    if not path.is_file():
        raise ValueError(f"{str(path)!r} is a folder; give the path of a .csv file.")
    texts, names = [], []
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames
            if not columns:
                raise ValueError(
                    f"{str(path)!r} is empty; a text CSV needs a header row naming its "
                    f"columns (e.g. {text_column},{label_column})."
                )
            missing = [c for c in (text_column, label_column) if c not in columns]
            if missing:
                raise ValueError(
                    f"{str(path)!r} has no column named {missing[0]!r}; its columns are "
                    f"{list(columns)}. Pass text_column= and label_column= naming the right "
                    "ones."
                )
            for row in reader:
                text, label = row[text_column], row[label_column]
                if text is None or label is None:
                    raise ValueError(
                        f"{str(path)!r} line {reader.line_num} has fewer fields than the "
                        "header; every row needs a text and a label."
                    )
                texts.append(text)
                names.append(label)
    except csv.Error as err:
        raise ValueError(
            f"cannot parse {str(path)!r} as CSV near line {reader.line_num}: {err}. Fields "
            "holding commas, quotes or newlines must be quoted; texts longer than "
            f"{csv.field_size_limit()} characters need csv.field_size_limit raised."
        ) from err
    if not texts:
        raise ValueError(f"{str(path)!r} has a header row but no documents.")
    label_names = sorted(set(names))
    docs = [(name, f"row {i}", text) for i, (name, text) in enumerate(zip(names, texts))]
    return _build_corpus(docs, label_names)


def _is_tar(path: Path) -> bool:
    return path.name.lower().endswith((".tar.gz", ".tgz", ".tar"))


def load_corpus(
    path: str | os.PathLike[str], subset: Literal["train", "test"] = "train", **kwargs: Any
) -> Corpus:
    """Load a labelled text corpus, choosing the loader from what ``path`` is.

    Parameters
    ----------
    path : str or path-like
        - a ``.csv`` file: :func:`load_text_csv`;
        - a ``.tar.gz``/``.tgz``/``.tar`` file, or a folder holding ``20news-bydate-train/``,
          ``20news-bydate-test/`` or ``20news-bydate.tar.gz``: :func:`load_20newsgroups`;
        - any other folder: :func:`load_text_folder` (class folders of text files).
    subset : {"train", "test"}, default="train"
        The 20 Newsgroups subset. The other formats hold a single corpus, so for them only
        "train" is accepted: give the test corpus its own path.
    **kwargs
        Passed to the chosen loader (e.g. ``categories``, ``text_column``).

    Returns
    -------
    Corpus

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is a file of another type, ``subset`` does not apply, or the loader
        fails (see each loader).
    """
    path = _check_path(path, "corpus path")
    is_newsgroups = (path.is_file() and _is_tar(path)) or (
        path.is_dir()
        and any(
            (path / name).exists()
            for name in ("20news-bydate-train", "20news-bydate-test", NEWSGROUPS_ARCHIVE)
        )
    )
    if is_newsgroups:
        return load_20newsgroups(path, subset=subset, **kwargs)
    if path.is_file() and path.suffix.lower() != ".csv":
        raise ValueError(
            f"cannot load {str(path)!r} as a text corpus: unsupported file type "
            f"{path.suffix or '(no suffix)'!r}. Give a .csv file (text and label columns), "
            f"{NEWSGROUPS_ARCHIVE}, or a folder of class folders of text files."
        )
    if subset != "train":
        raise ValueError(
            f"subset={subset!r} only applies to 20 Newsgroups, and {str(path)!r} holds a "
            "single corpus; load the test documents from their own path with subset='train'."
        )
    if path.is_file():
        return load_text_csv(path, **kwargs)
    return load_text_folder(path, **kwargs)


# ---------------------------------------------------------------------------------------------
# Bag of words
# ---------------------------------------------------------------------------------------------

_BOW_FORMAT = "aekit.BagOfWords"
_BOW_VERSION = 1


class BagOfWords:
    """Documents as sparse word-count vectors over a vocabulary learned on training texts.

    Each text is cut into tokens by :func:`tokenize` (lowercase a-z runs, short tokens and
    stop words dropped, Porter stems); the vocabulary is the ``max_features`` stems with the
    most occurrences in the training texts, as in Hinton & Salakhutdinov (2006), who kept the
    2,000 commonest stems of 20 Newsgroups.

    Parameters
    ----------
    max_features : int or None, default=2000
        Vocabulary size. None keeps every stem seen in training.
    stop_words : bool or collection of str, default=True
        True drops :data:`STOP_WORDS`, False keeps every word, a collection drops those words.
    stem : bool, default=True
        Count Porter stems rather than words.
    min_length : int, default=2
        Ignore tokens shorter than this.

    Attributes
    ----------
    vocabulary_ : list of str, length n_vocab
        The kept stems, commonest first (ties in alphabetical order).
    index_ : dict of str to int
        Stem -> column.
    """

    def __init__(
        self,
        max_features: int | None = 2000,
        stop_words: bool | Iterable[str] = True,
        stem: bool = True,
        min_length: int = 2,
    ) -> None:
        self.max_features = max_features
        self.stop_words = stop_words
        self.stem = stem
        self.min_length = min_length

    # -- counting ---------------------------------------------------------------------------

    def _check_params(self) -> None:
        mf = self.max_features
        if mf is not None and (isinstance(mf, bool) or not isinstance(mf, int | np.integer)):
            raise TypeError(f"max_features must be a positive int or None, got {mf!r}.")
        if mf is not None and mf < 1:
            raise ValueError(f"max_features must be a positive int or None, got {mf}.")
        if isinstance(self.min_length, bool) or not isinstance(self.min_length, int):
            raise TypeError(f"min_length must be an int, got {self.min_length!r}.")

    def _count(self, texts: list[str]) -> list[Counter]:
        """Token counts of each text, with this vectorizer's settings (as :func:`tokenize`)."""
        stops = _as_stop_set(self.stop_words)
        min_length, stem = self.min_length, self.stem
        doc_counts = []
        for text in texts:
            # Count raw words first (in C), then stem each distinct word once per document.
            counts: Counter = Counter()
            for word, n in Counter(_TOKEN.findall(text.lower())).items():
                if len(word) >= min_length and word not in stops:
                    counts[porter_stem(word) if stem else word] += n
            doc_counts.append(counts)
        return doc_counts

    @staticmethod
    def _check_texts(texts: Iterable[str]) -> list[str]:
        if isinstance(texts, str | bytes):
            raise TypeError(
                "expected a list of texts, got a single string; wrap one document in a list."
            )
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(
                    f"text {i} is a {type(text).__name__}, not a str; decode bytes first."
                )
        return texts

    # -- estimator API ----------------------------------------------------------------------

    def fit(self, texts: Iterable[str], y: Any = None) -> BagOfWords:
        """Learn the vocabulary: the ``max_features`` commonest stems of ``texts``.

        Parameters
        ----------
        texts : iterable of str, length n_docs
            The training documents.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        ValueError
            If there are no texts, no tokens, or fewer distinct stems than ``max_features``.
        """
        self._fit_counts(texts)
        return self

    def _fit_counts(self, texts: Iterable[str]) -> list[Counter]:
        """Check, count the tokens of each training text, learn the vocabulary from them."""
        self._check_params()
        texts = self._check_texts(texts)
        if not texts:
            raise ValueError("cannot fit a BagOfWords on an empty corpus: no texts were given.")
        doc_counts = self._count(texts)
        totals: Counter = Counter()
        for counts in doc_counts:
            totals.update(counts)
        if not totals:
            raise ValueError(
                f"the {len(texts)} training texts hold no words after removing stop words and "
                f"tokens shorter than {self.min_length} letters; check the texts."
            )
        if self.max_features is not None and self.max_features > len(totals):
            raise ValueError(
                f"max_features={self.max_features} is more than the {len(totals)} distinct "
                f"{'stems' if self.stem else 'words'} in the {len(texts)} training texts; "
                f"lower max_features to at most {len(totals)}, or pass max_features=None to "
                "keep them all."
            )
        ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
        self.vocabulary_ = [word for word, _ in ranked[: self.max_features]]
        self.index_ = {word: i for i, word in enumerate(self.vocabulary_)}
        return doc_counts

    def _check_fitted(self) -> None:
        if not hasattr(self, "vocabulary_"):
            raise NotFittedError(
                "this BagOfWords is not fitted yet: call fit(train_texts) first, or load a "
                "saved one with BagOfWords.load(path)."
            )

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Count the vocabulary's stems in each text.

        Parameters
        ----------
        texts : iterable of str, length n_docs

        Returns
        -------
        counts : scipy.sparse.csr_matrix of shape (n_docs, n_vocab), float32
            ``counts[d, j]`` is how often stem ``vocabulary_[j]`` occurs in text ``d``; stems
            outside the vocabulary are ignored, so a row may be all zero (see
            :func:`check_nonempty`). Column indices are sorted within each row.
        """
        self._check_fitted()
        return self._to_csr(self._count(self._check_texts(texts)))

    def _to_csr(self, doc_counts: list[Counter]) -> sp.csr_matrix:
        # Built straight from (data, indices, indptr): the dense matrix never exists.
        index = self.index_
        indptr = [0]
        indices: list[int] = []
        data: list[int] = []
        for counts in doc_counts:
            row = sorted((index[w], n) for w, n in counts.items() if w in index)
            indices.extend(j for j, _ in row)
            data.extend(n for _, n in row)
            indptr.append(len(indices))
        return sp.csr_matrix(
            (
                np.asarray(data, dtype=np.float32),
                np.asarray(indices, dtype=np.int32),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(len(doc_counts), len(self.vocabulary_)),
        )

    def fit_transform(self, texts: Iterable[str], y: Any = None) -> sp.csr_matrix:
        """:meth:`fit` then :meth:`transform` on the same texts; shape (n_docs, n_vocab)."""
        # Tokenizes once, where fit(texts).transform(texts) would do it twice.
        return self._to_csr(self._fit_counts(texts))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The vocabulary as an object array of shape (n_vocab,), column order."""
        self._check_fitted()
        return np.asarray(self.vocabulary_, dtype=object)

    # -- saving -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Settings and vocabulary as a JSON-ready dict (``from_dict`` reads it back)."""
        self._check_fitted()
        stop_words = self.stop_words
        if not isinstance(stop_words, bool | None):
            stop_words = sorted(stop_words)
        return {
            "format": _BOW_FORMAT,
            "version": _BOW_VERSION,
            "max_features": None if self.max_features is None else int(self.max_features),
            "stop_words": stop_words,
            "stem": bool(self.stem),
            "min_length": int(self.min_length),
            "vocabulary": list(self.vocabulary_),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BagOfWords:
        """A fitted BagOfWords from :meth:`to_dict`'s output."""
        if not isinstance(d, dict) or d.get("format") != _BOW_FORMAT:
            raise ValueError(
                f"not a saved BagOfWords: expected a dict with format {_BOW_FORMAT!r}, got "
                f"{d.get('format') if isinstance(d, dict) else type(d).__name__!r}."
            )
        if d.get("version") != _BOW_VERSION:
            raise ValueError(
                f"saved BagOfWords has version {d.get('version')!r}; this aekit reads version "
                f"{_BOW_VERSION}."
            )
        keys = ("max_features", "stop_words", "stem", "min_length", "vocabulary")
        missing = [k for k in keys if k not in d]
        if missing:
            raise ValueError(f"saved BagOfWords lacks the keys {missing}.")
        vocabulary = d["vocabulary"]
        if not all(isinstance(w, str) for w in vocabulary) or len(set(vocabulary)) != len(
            vocabulary
        ):
            raise ValueError("saved BagOfWords vocabulary must be a list of distinct strings.")
        bow = cls(d["max_features"], d["stop_words"], d["stem"], d["min_length"])
        bow.vocabulary_ = list(vocabulary)
        bow.index_ = {w: i for i, w in enumerate(bow.vocabulary_)}
        return bow

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_dict` as JSON, atomically (a crash leaves no half-written file)."""
        text = json.dumps(self.to_dict(), indent=1) + "\n"
        path = Path(path).expanduser()
        # aekit.io.atomic_write_json would import torch; the data layer stays below it.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BagOfWords:
        """Read a BagOfWords written by :meth:`save`."""
        path = _check_path(path, "BagOfWords file")
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{str(path)!r} is not a JSON file ({err}).") from err
        return cls.from_dict(d)


# ---------------------------------------------------------------------------------------------
# Count matrices
# ---------------------------------------------------------------------------------------------


def _as_csr(counts: Any, name: str = "counts") -> sp.csr_matrix:
    counts = sp.csr_matrix(counts)
    if counts.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n_docs, n_vocab) matrix, got {counts.shape}.")
    return counts


def document_lengths(counts: Any) -> np.ndarray:
    """Words per document (in the vocabulary).

    Parameters
    ----------
    counts : sparse matrix or array of shape (n_docs, n_vocab)

    Returns
    -------
    ndarray of shape (n_docs,), float64
        Row sums.
    """
    return np.asarray(_as_csr(counts).sum(axis=1, dtype=np.float64)).ravel()


def word_probabilities(counts: Any) -> sp.csr_matrix:
    """Each document's counts divided by its length: its distribution over the vocabulary.

    Parameters
    ----------
    counts : sparse matrix or array of shape (n_docs, n_vocab)
        Non-negative word counts.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_docs, n_vocab)
        Rows summing to 1; an empty document's row stays all zero. float32 input stays
        float32, anything else becomes float64.
    """
    counts = _as_csr(counts)
    dtype = np.float32 if counts.dtype == np.float32 else np.float64
    lengths = document_lengths(counts)
    scale = np.divide(1.0, lengths, out=np.zeros_like(lengths), where=lengths > 0)
    return sp.csr_matrix(sp.diags(scale) @ counts, dtype=dtype)


def check_nonempty(counts: Any, what: str = "document") -> None:
    """Raise if a document has no words in the vocabulary.

    For callers that cannot code an empty document (e.g. a softmax-visible model, or word
    probabilities that must sum to one).

    Parameters
    ----------
    counts : sparse matrix or array of shape (n_docs, n_vocab)
    what : str, default="document"
        What a row is, for the message (e.g. "test document").

    Raises
    ------
    ValueError
        Naming the first empty row and how many there are.
    """
    empty = np.flatnonzero(document_lengths(counts) == 0)
    if len(empty):
        others = f" ({len(empty)} rows are empty in all)" if len(empty) > 1 else ""
        raise ValueError(
            f"{what} {empty[0]} has no words in the vocabulary{others}: drop such rows "
            "(e.g. keep = document_lengths(counts) > 0) or use a larger vocabulary."
        )
