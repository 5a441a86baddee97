"""tf.data pipelines: decode -> crop/flip -> RandAugment -> normalise -> batch -> MixUp/CutMix -> prefetch."""

import tensorflow as tf

from .augment import (eval_transform, make_batch_mixer, make_randaugment,
                                   train_transform)


def _options(deterministic, autoshard_data=False):
    options = tf.data.Options()
    options.deterministic = bool(deterministic)
    if autoshard_data:
        # Eval datasets are sharded by keras' distribute call; DATA works for any file count.
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return options


def _decode(image, encoded):
    if encoded:
        image = tf.io.decode_image(image, channels=3, expand_animations=False)
    if image.shape.rank == 3 and image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    return image


class PipelineFactory:
    """Builds train / eval datasets for one DataSource with a fixed image size and normalisation."""

    def __init__(self, source, cfg, image_size, crop_pct, augment, mean, std):
        self.source, self.cfg = source, cfg
        self.image_size, self.crop_pct = image_size, crop_pct
        self.inception = augment == "inception"
        self.mean = tf.constant(mean, tf.float32) * 255.0
        self.std = tf.constant(std, tf.float32) * 255.0
        # keras preprocessing layers are built once, outside any strategy scope.
        self.randaugment = make_randaugment(cfg.randaugment_ops, cfg.randaugment_magnitude, cfg.seed)
        self.mixer = make_batch_mixer(cfg.mixup_alpha, cfg.cutmix_alpha, cfg.seed)

    def _finish(self, image, label):
        image = (image - self.mean) / self.std
        return image, tf.one_hot(label, self.source.num_classes, dtype=tf.float32)

    def _skip_bad(self, dataset):
        return dataset.ignore_errors(log_warning=True) if self.source.skip_undecodable else dataset

    def train_dataset(self, batch_size, input_context=None):
        """Infinite, shuffled, augmented batches of `batch_size` for one input pipeline."""
        cfg, split = self.cfg, self.source.train
        pipeline_id = input_context.input_pipeline_id if input_context else 0
        dataset = split.read(input_context)
        dataset = dataset.shuffle(min(cfg.shuffle_buffer or 1, split.num_examples), seed=cfg.seed + pipeline_id,
                                  reshuffle_each_iteration=True).repeat()

        def transform(index, example):
            image, label = example
            seed = tf.stack([tf.constant(cfg.seed * 7919 + pipeline_id, tf.int64), index])
            image = train_transform(_decode(image, split.encoded), self.image_size, seed, self.inception)
            if self.randaugment is not None:
                image = self.randaugment(image)
            return self._finish(image, label)

        dataset = self._skip_bad(dataset.enumerate().map(transform, num_parallel_calls=tf.data.AUTOTUNE))
        dataset = dataset.batch(batch_size, drop_remainder=True)
        if self.mixer is not None:
            dataset = dataset.map(self.mixer, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset.prefetch(tf.data.AUTOTUNE).with_options(_options(cfg.deterministic))

    def eval_dataset(self, batch_size):
        """Every validation example once, in order (last batch may be partial), center-cropped."""
        split = self.source.validation

        def transform(image, label):
            return self._finish(eval_transform(_decode(image, split.encoded), self.image_size, self.crop_pct), label)

        dataset = self._skip_bad(split.read(None).map(transform, num_parallel_calls=tf.data.AUTOTUNE))
        dataset = dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
        # Always in file order: predictions line up with the examples, and evaluation reproduces
        # (a non-deterministic parallel map reordered 2 validation examples in a full-suite run).
        return dataset.with_options(_options(True, autoshard_data=True))
