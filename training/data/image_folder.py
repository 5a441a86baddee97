"""Image folders: <root>/train/<class>/*.jpg and <root>/val (or validation, test)/<class>/*.jpg.

Classes are the sorted sub-folder names of train/; a class folder without images is an error.
Every file is decoded once up front (in parallel): files that do not decode (corrupt or truncated
images) are left out with one warning per split giving their count and first paths, and a split
where nothing decodes is an error, instead of a training stream that never yields a batch.
"""

import os
import random
import warnings

import tensorflow as tf

from .source import DataSource, Split, shard, shard_files

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
VAL_NAMES = ("val", "validation", "test")


def _list_split(folder, classes):
    files, labels, ignored = [], [], []
    for label, name in enumerate(classes):
        class_dir = os.path.join(folder, name)
        if not os.path.isdir(class_dir):
            continue
        for entry in sorted(os.listdir(class_dir)):
            path = os.path.join(class_dir, entry)
            if entry.lower().endswith(IMAGE_EXTENSIONS):
                files.append(path)
                labels.append(label)
            elif os.path.isfile(path):
                ignored.append(path)
    if ignored:
        warnings.warn(f"Ignoring {len(ignored)} non-image file(s) in {folder!r}, e.g. {ignored[0]!r}")
    return files, labels


def _decodable(files):
    """Indices of the files that decode as the pipeline decodes them (one parallel pass)."""
    paths = tf.constant(files)

    def check(index):
        image = tf.io.decode_image(tf.io.read_file(paths[index]), channels=3, expand_animations=False)
        return index, tf.shape(image)[0]

    dataset = tf.data.Dataset.range(len(files)).map(check, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
    return {int(index) for index, _ in dataset.ignore_errors().as_numpy_iterator()}


def _drop_undecodable(folder, files, labels):
    good = _decodable(files)
    bad = [path for index, path in enumerate(files) if index not in good]
    examples = ", ".join(repr(p) for p in bad[:3]) + (", ..." if len(bad) > 3 else "")
    if not good:
        raise ValueError(f"None of the {len(files)} images under {folder!r} decode (corrupt, truncated or not "
                         f"images), e.g. {examples}. Replace them with readable JPEG/PNG/BMP/GIF files.")
    if bad:
        warnings.warn(f"Skipping {len(bad)} of {len(files)} images under {folder!r} that do not decode: {examples}")
    return [files[i] for i in sorted(good)], [labels[i] for i in sorted(good)]


def _find_split_dir(root, requested, candidates):
    names = [requested] if requested else list(candidates)
    for name in names:
        if os.path.isdir(os.path.join(root, name)):
            return os.path.join(root, name)
    raise ValueError(f"Image folder {root!r} has no {' / '.join(names)} sub-folder; "
                     f"expected <root>/train/<class>/... and <root>/val/<class>/...")


def image_folder_source(root, cfg) -> DataSource:
    if not os.path.isdir(root):
        raise ValueError(f"Data directory not found: {root!r}")
    train_dir = _find_split_dir(root, cfg.train_split, ("train",))
    val_dir = _find_split_dir(root, cfg.val_split, VAL_NAMES)
    classes = sorted(d for d in os.listdir(train_dir) if os.path.isdir(os.path.join(train_dir, d)))
    if not classes:
        raise ValueError(f"No class sub-folders in {train_dir!r}")
    unknown = sorted(set(d for d in os.listdir(val_dir) if os.path.isdir(os.path.join(val_dir, d))) - set(classes))
    if unknown:
        raise ValueError(f"Validation classes {unknown} in {val_dir!r} are not among the training classes {classes}")

    def split(folder, training):
        files, labels = _list_split(folder, classes)
        if not files:
            raise ValueError(f"No images ({', '.join(IMAGE_EXTENSIONS)}) found under {folder!r}")
        files, labels = _drop_undecodable(folder, files, labels)
        present = set(labels)
        empty = [name for label, name in enumerate(classes) if label not in present]
        if training and empty:  # an empty class would be a label that never occurs
            raise ValueError(f"Class folder(s) {[os.path.join(folder, n) for n in empty]} hold no images that "
                             f"decode ({', '.join(IMAGE_EXTENSIONS)}); add images or remove the folder(s).")
        if training:  # shuffle the file list once so file-level shards hold every class
            order = list(range(len(files)))
            random.Random(cfg.seed).shuffle(order)
            files, labels = [files[i] for i in order], [labels[i] for i in order]

        def read(ctx):
            pairs = list(zip(files, labels))
            mine, by_element = shard_files(pairs, ctx)
            dataset = tf.data.Dataset.from_tensor_slices(([p for p, _ in mine], [l for _, l in mine]))
            if by_element:
                dataset = shard(dataset, ctx)
            return dataset.map(lambda path, label: (tf.io.read_file(path), tf.cast(label, tf.int64)),
                               num_parallel_calls=tf.data.AUTOTUNE, deterministic=cfg.deterministic or None)

        return Split(read, len(files), encoded=True)

    return DataSource(
        name=f"folder:{root}", num_classes=cfg.num_classes or len(classes),
        train=split(train_dir, True), validation=split(val_dir, False),  # undecodable files already left out
    )
