"""TensorFlow Datasets by name (imagenet2012, imagenette, cifar10, ...) read from a prepared data_dir."""

from .source import DataSource, Split


def tfds_source(name, cfg) -> DataSource:
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=cfg.data_dir)
    except Exception as error:  # tfds raises DatasetNotFoundError / DatasetVariantBlockedError ...
        raise ValueError(
            f"Unknown dataset: {name!r} ({error.__class__.__name__}: {str(error).splitlines()[0]}). "
            "Allowed: 'digits', a tfds dataset name, 'folder:<dir>' or 'tfrecord:<dir>'."
        ) from error
    info = builder.info
    if "image" not in info.features or "label" not in info.features:
        raise ValueError(f"tfds dataset {name!r} has no 'image' and 'label' features; found {list(info.features)}")
    splits = info.splits
    train_split = cfg.train_split or "train"
    val_split = cfg.val_split or ("validation" if "validation" in splits else "test")

    def split(split_name, training):
        if splits and split_name not in splits:
            raise ValueError(f"tfds dataset {name!r} has no split {split_name!r}; splits: {list(splits)}")

        def read(ctx):
            read_config = tfds.ReadConfig(input_context=ctx, shuffle_seed=cfg.seed)
            return builder.as_dataset(
                split=split_name, shuffle_files=training, as_supervised=True, read_config=read_config,
                decoders={"image": tfds.decode.SkipDecoding()},  # decoded in the parallel map
            )

        if splits:
            num_examples = splits[split_name].num_examples
        else:  # metadata without split sizes (e.g. tfds mock data): count once
            num_examples = int(read(None).reduce(0, lambda count, _: count + 1))
        return Split(read, num_examples, encoded=True)

    return DataSource(
        name=name, num_classes=info.features["label"].num_classes,
        train=split(train_split, True), validation=split(val_split, False),
    )
