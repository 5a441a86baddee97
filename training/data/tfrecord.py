"""TFRecords in the ImageNet layout of tensorflow/tpu's imagenet_to_gcs.py.

Files <dir>/train-?????-of-????? and <dir>/validation-?????-of-?????, tf.train.Example records
with 'image/encoded' (JPEG bytes) and 'image/class/label' (int64, 1..1000; 0 is background,
hence `tfrecord_label_offset` = 1).
"""

import glob
import os

import tensorflow as tf

from .source import DataSource, Split, shard, shard_files

FEATURES = {
    "image/encoded": tf.io.FixedLenFeature([], tf.string),
    "image/class/label": tf.io.FixedLenFeature([], tf.int64),
}


def _count(files):
    # Counting reads every record once; cheap next to an epoch and needed for steps per epoch.
    return sum(1 for _ in tf.data.TFRecordDataset(files))


def tfrecord_source(root, cfg) -> DataSource:
    if not os.path.isdir(root):
        raise ValueError(f"Data directory not found: {root!r}")
    num_classes = cfg.num_classes or 1000
    offset = cfg.tfrecord_label_offset

    def parse(record):
        example = tf.io.parse_single_example(record, FEATURES)
        return example["image/encoded"], example["image/class/label"] - offset

    def split(prefix, training):
        files = sorted(glob.glob(os.path.join(root, f"{prefix}-*")))
        if not files:
            raise ValueError(f"No TFRecord files {prefix}-* in {root!r} (expected the ImageNet layout "
                             "train-00000-of-01024 ... validation-00000-of-00128)")

        def read(ctx):
            mine, by_element = shard_files(files, ctx)
            dataset = tf.data.Dataset.from_tensor_slices(mine)
            if training:
                dataset = dataset.shuffle(len(mine), seed=cfg.seed)
            dataset = dataset.interleave(tf.data.TFRecordDataset, cycle_length=min(16, len(mine)),
                                         num_parallel_calls=tf.data.AUTOTUNE,
                                         deterministic=cfg.deterministic or None)
            if by_element:
                dataset = shard(dataset, ctx)
            return dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=cfg.deterministic or None)

        return Split(read, _count(files), encoded=True)

    return DataSource(name=f"tfrecord:{root}", num_classes=num_classes,
                      train=split(cfg.train_split or "train", True),
                      validation=split(cfg.val_split or "validation", False))
