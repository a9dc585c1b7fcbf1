"""
A 2-D map of documents: LSA against a deep autoencoder
======================================================

Fig. 4 of Hinton & Salakhutdinov (Science 2006) maps newswire stories to two numbers each:
latent semantic analysis (a linear projection of the log word counts) squeezes the topics
together, while a 2000-500-250-125-2 autoencoder of word counts spreads them into separate
arms. The same comparison on six groups of 20 Newsgroups: each post becomes its counts of the
2,000 commonest word stems of the training posts (stop words removed, Porter-stemmed), the
autoencoder reads them as a word distribution and is trained to reconstruct it (cross-entropy,
softmax output). Here it is trained from a random initialisation with ReLU hidden units and
Adam, on a subset, in under a minute; ``aekit reproduce hinton2006 docs`` runs the paper's
protocol with RBM pretraining on all twenty groups. Each panel gives the 5-nearest-neighbour
accuracy of its map on the test posts (classifier fitted on the training posts' codes).

Needs ``20news-bydate.tar.gz`` in ``$AEKIT_DATA_DIR``. Without it the script says so and draws
nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from aekit import DocumentAutoencoder, TrainConfig, Trainer
from aekit.baselines import LSA
from aekit.data import BagOfWords, data_dir, load_20newsgroups
from aekit.evaluate import knn_accuracy
from aekit.viz import code_scatter

GROUPS = (
    "comp.graphics",
    "misc.forsale",
    "rec.sport.hockey",
    "sci.space",
    "soc.religion.christian",
    "talk.politics.mideast",
)


def main(argv: list[str] | None = None) -> Path | None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, rougher figure")
    parser.add_argument("--out", type=Path, default=Path("gallery-output"), help="output folder")
    args = parser.parse_args(argv)

    root = data_dir()  # $AEKIT_DATA_DIR, or None
    try:
        if root is None:
            raise FileNotFoundError("AEKIT_DATA_DIR is not set")
        train = load_20newsgroups(root, "train", categories=GROUPS)
    except (FileNotFoundError, ValueError) as err:  # the archive or its folders, absent or bad
        print(f"skipped: 20 Newsgroups: {err} (AEKIT_DATA_DIR names the folder that holds it)")
        return None
    test = load_20newsgroups(root, "test", categories=GROUPS)
    bow = BagOfWords(max_features=2000).fit(train.texts)
    x, x_test = bow.transform(train.texts), bow.transform(test.texts)  # sparse counts
    # A post with none of the 2,000 words has no word distribution: leave it out.
    keep, keep_test = x.getnnz(1) > 0, x_test.getnnz(1) > 0
    x, y = x[keep], train.labels[keep]
    x_test, y_test = x_test[keep_test], test.labels[keep_test]
    if args.quick:
        x, y, x_test, y_test = x[::8], y[::8], x_test[::8], y_test[::8]

    torch.manual_seed(0)
    model = DocumentAutoencoder(layers="2000-500-250-125-2", activation="relu")
    fit = TrainConfig(
        epochs=1 if args.quick else 30, batch_size=100, lr=1e-3, lr_schedule="cosine",
        val_fraction=0.0, progress=False,
    )  # fmt: skip
    Trainer(model, fit).fit(x)  # one dense minibatch at a time; the corpus stays sparse

    lsa = LSA(n_components=2).fit(x)
    codes = {"LSA": lsa.transform(x_test), "autoencoder": model.transform(x_test)}
    train_codes = {"LSA": lsa.transform(x), "autoencoder": model.transform(x)}
    accuracy = {
        name: knn_accuracy(train_codes[name], y, codes_test=codes[name], labels_test=y_test)
        for name in codes
    }
    print("5-NN accuracy of the 2-D maps:", {k: round(v, 3) for k, v in accuracy.items()})
    fig = code_scatter(
        codes,
        y_test,
        titles={"LSA": "LSA, 2 components", "autoencoder": "2000-500-250-125-2 autoencoder"},
        accuracies=accuracy,
        class_names=list(train.label_names),
    )
    for ax, name in zip(fig.axes, codes):  # a few long posts land far out: zoom on the rest
        lo, hi = np.percentile(codes[name], [1, 99], axis=0)
        pad = 0.1 * (hi - lo)
        ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
        ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "document_map.png"
    fig.savefig(path, dpi=70, facecolor="white")
    print(f"{len(y)} training and {len(y_test)} test posts in {len(np.unique(y))} groups")
    return path


if __name__ == "__main__":
    main()
