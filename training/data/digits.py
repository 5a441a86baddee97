"""Embedded default dataset: scikit-learn's 8x8 handwritten digits (1797 real scans), upscaled.

Needs no download, so the README command trains and evaluates for real in about a minute.
Split: a fixed stratified split, 20% of every class held out (1442 train / 355 validation).
"""

import numpy as np
import tensorflow as tf

from .source import DataSource, Split, shard

STORED_SIZE = 32


def _load():
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype("float32") * (255.0 / 16.0)  # pixel values are 0..16
    images = np.repeat(images[..., None], 3, axis=-1)
    images = tf.image.resize(images, (STORED_SIZE, STORED_SIZE), method="bilinear").numpy()
    images = np.clip(np.round(images), 0, 255).astype("uint8")
    labels = digits.target.astype("int64")
    rng = np.random.default_rng(0)
    val = np.zeros(len(labels), bool)
    for digit in range(10):  # 20% of every class
        members = rng.permutation(np.flatnonzero(labels == digit))
        val[members[: len(members) // 5]] = True
    return (images[~val], labels[~val]), (images[val], labels[val])


def digits_source(cfg) -> DataSource:
    train, validation = _load()

    def reader(arrays):
        return lambda ctx: shard(tf.data.Dataset.from_tensor_slices(arrays), ctx)

    return DataSource(
        name="digits", num_classes=10,
        train=Split(reader(train), len(train[1])), validation=Split(reader(validation), len(validation[1])),
        default_size=STORED_SIZE, default_crop_pct=1.0, default_augment="none",
    )
