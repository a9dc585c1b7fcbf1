"""``aekit retrieve``: the documents nearest to a query by a document model's codes."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from aekit.cli.common import CONTEXT_SETTINGS, load_saved_model, user_errors
from aekit.data import BagOfWords, check_nonempty, load_corpus, strip_header
from aekit.evaluate import search
from aekit.models import DocumentAutoencoder


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_dir", metavar="MODEL_DIR", type=click.Path(exists=True))
@click.option(
    "--corpus",
    "corpus_path",
    type=click.Path(exists=True),
    required=True,
    help="Documents to search: the 20news-bydate archive (or its folder), a folder of class "
    "folders of text files, or a CSV with text and label columns.",
)
@click.option(
    "--subset",
    type=click.Choice(["train", "test"]),
    default="test",
    show_default=True,
    help="Which 20 Newsgroups half to search (other corpora have one).",
)
@click.option("--query", "query_text", default=None, help="The query document's text.")
@click.option(
    "--query-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A file holding the query document (e-mail headers are stripped).",
)
@click.option("--k", "k", type=click.IntRange(min=1), default=10, show_default=True)
@click.option(
    "--json", "as_json", is_flag=True, default=False, help="Print the results as JSON lines."
)
@user_errors
def retrieve(model_dir, corpus_path, subset, query_text, query_file, k, as_json) -> None:
    """The documents of a corpus nearest to a query, by a fitted document model's codes.

    MODEL_DIR is a document autoencoder saved with its vocabulary (as `aekit reproduce
    hinton2006 docs` leaves in runs/hinton2006-docs/AE-10/model). Real codes rank by cosine
    similarity, binary (semantic hashing) codes by Hamming distance.
    """
    model = load_saved_model(model_dir, needs=())
    if not isinstance(model, DocumentAutoencoder) or model.config.vocabulary is None:
        raise click.BadParameter(
            f"{model_dir} is not a document model saved with its vocabulary; train one with "
            "`aekit reproduce hinton2006 docs`",
            param_hint="'MODEL_DIR'",
        )
    if (query_text is None) == (query_file is None):
        raise click.UsageError("give the query as --query TEXT or --query-file FILE (one)")
    if query_file is not None:
        query_text = strip_header(Path(query_file).read_text(errors="replace"))
    bow = BagOfWords.from_dict(model.config.vocabulary)
    query = bow.transform([query_text])
    if query.sum() == 0:
        raise ValueError(
            "the query has no word of the model's vocabulary, so it has no code; give a longer "
            "or more topical text"
        )
    kwargs = {"subset": subset} if Path(corpus_path).suffix != ".csv" else {}
    corpus = load_corpus(corpus_path, **kwargs)
    counts = bow.transform(corpus.texts)
    keep = np.flatnonzero(np.asarray(counts.sum(axis=1)).ravel() > 0)
    if len(keep) == 0:
        check_nonempty(counts)
    counts = counts[keep]
    binary = model.config.code == "binary"
    encode = model.binary_codes if binary else model.transform
    idx, scores = search(
        encode(query), encode(counts), k=min(k, len(keep)), metric="hamming" if binary else "cosine"
    )
    score_name = "hamming" if binary else "cosine"
    for rank, (i, score) in enumerate(zip(idx[0], scores[0]), start=1):
        doc = int(keep[i])
        label = corpus.label_names[corpus.labels[doc]]
        snippet = " ".join(corpus.texts[doc].split())[:70]
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "rank": rank,
                        "doc_id": corpus.doc_ids[doc],
                        "label": label,
                        score_name: float(score),
                        "text": snippet,
                    }
                )
            )
        else:
            click.echo(
                f"{rank:3d}  {float(score):8.4f}  {label:<26} {corpus.doc_ids[doc]}  {snippet}"
            )


# Information bottleneck ------------------------------------------------------------------------
