"""Image transforms for tf.data: Inception crop / flip, eval resize + center crop, RandAugment, MixUp/CutMix.

Crops and flips use stateless random ops seeded per example, so `deterministic=True` reproduces
them exactly. RandAugment, MixUp and CutMix are the keras core layers (see the README for why
not keras-cv); they run inside tf.data with the TensorFlow backend.
"""

import math

import keras
import tensorflow as tf


def random_resized_crop(image, size, seed, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
    """Inception-style crop: random area fraction in `scale`, aspect ratio in `ratio`, resized to size."""
    begin, crop_size, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.shape(image), bounding_boxes=tf.constant([[[0.0, 0.0, 1.0, 1.0]]]), seed=seed,
        min_object_covered=0.0, aspect_ratio_range=ratio, area_range=scale, max_attempts=10,
        use_image_if_no_bounding_boxes=True,
    )
    image = tf.slice(image, begin, crop_size)
    return tf.image.resize(image, (size, size), method="bilinear")


def train_transform(image, size, seed, inception):
    """uint8/float HWC -> float32 [0, 255] of shape (size, size, C)."""
    image = tf.cast(image, tf.float32)
    if inception:
        image = random_resized_crop(image, size, seed)
        image = tf.image.stateless_random_flip_left_right(image, seed=seed[::-1])
    else:
        image = tf.image.resize(image, (size, size), method="bilinear")
    return tf.ensure_shape(image, (size, size, 3))  # static shape for RandAugment / batching


def eval_transform(image, size, crop_pct):
    """Resize the shorter side to size / crop_pct, then center crop size x size (timm's eval)."""
    image = tf.cast(image, tf.float32)
    scale_size = int(math.floor(size / crop_pct))
    shape = tf.shape(image)
    height, width = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    short = tf.minimum(height, width)
    new_h = tf.cast(tf.round(height * scale_size / short), tf.int32)
    new_w = tf.cast(tf.round(width * scale_size / short), tf.int32)
    image = tf.image.resize(image, (new_h, new_w), method="bilinear")
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return tf.ensure_shape(tf.image.crop_to_bounding_box(image, top, left, size, size), (size, size, 3))


def make_randaugment(num_ops, magnitude, seed):
    """keras RandAugment on [0, 255] images; `magnitude` on the paper's 0..10 scale (None if 0)."""
    if not magnitude:
        return None
    return keras.layers.RandAugment(value_range=(0, 255), num_ops=int(num_ops),
                                    factor=min(magnitude / 10.0, 1.0), seed=seed)


def make_batch_mixer(mixup_alpha, cutmix_alpha, seed):
    """Per batch, MixUp or CutMix (chosen with equal probability when both are on), or None."""
    layers = []
    if mixup_alpha:
        layers.append(keras.layers.MixUp(alpha=mixup_alpha, seed=seed))
    if cutmix_alpha:
        layers.append(keras.layers.CutMix(factor=cutmix_alpha, seed=seed))
    if not layers:
        return None

    def mix(images, labels):
        if len(layers) == 1:
            out = layers[0]({"images": images, "labels": labels})
        else:
            use_cutmix = tf.random.uniform(()) < 0.5
            out = tf.cond(
                use_cutmix,
                lambda: layers[1]({"images": images, "labels": labels}),
                lambda: layers[0]({"images": images, "labels": labels}),
            )
        return out["images"], out["labels"]

    return mix
