"""The tf.Module written to the SavedModel: pure TensorFlow graph code, no Keras at load time.

Image preprocessing mirrors timm's eval transform (`resolve_data_config` + `create_transform`):
resize the shorter side to floor(size / crop_pct), center-crop `size`, scale to [0, 1],
normalise with the weights' mean / std.
"""

import dataclasses
from typing import Optional, Tuple

import tensorflow as tf

PREDICT_IMAGES = "predict_images"
SERVING_DEFAULT = "serving_default"


@dataclasses.dataclass(frozen=True)
class ServingConfig:
    """Everything the graph needs besides the model; validated by `export_serving`."""

    input_size: Tuple[Optional[int], Optional[int]]  # serving_default height, width (None = any)
    crop_size: int  # predict_images square crop (timm's eval crops square for square sizes)
    crop_pct: float
    interpolation: str  # tf.image.resize method name
    mean: Tuple[float, float, float]
    std: Tuple[float, float, float]
    include_preprocessing: bool
    apply_softmax: bool  # the model returns logits
    labels: Tuple[str, ...]
    top_k: int


def resize_and_center_crop(image, crop_size, crop_pct, interpolation):
    """uint8 [h, w, 3] -> float32 [crop_size, crop_size, 3] in [0, 255], as timm's eval transform.

    torchvision's Resize(int) keeps the aspect ratio with the long side int(scale * long / short);
    PIL returns uint8, hence the round + clip; CenterCrop offsets use Python's round (half to
    even, as tf.round).
    """
    scale = tf.constant(int(crop_size / crop_pct), tf.float64)
    shape = tf.cast(tf.shape(image)[:2], tf.float64)
    height, width = shape[0], shape[1]
    short = tf.minimum(height, width)
    long_side = tf.floor(scale * tf.maximum(height, width) / short)
    new_h = tf.where(height <= width, scale, long_side)
    new_w = tf.where(height <= width, long_side, scale)
    size = tf.cast(tf.stack([new_h, new_w]), tf.int32)
    resized = tf.image.resize(tf.cast(image, tf.float32), size, method=interpolation, antialias=True)
    resized = tf.clip_by_value(tf.round(resized), 0.0, 255.0)
    top = tf.cast(tf.round((new_h - crop_size) / 2.0), tf.int32)
    left = tf.cast(tf.round((new_w - crop_size) / 2.0), tf.int32)
    return tf.image.crop_to_bounding_box(resized, top, left, crop_size, crop_size)


def decode_rgb(encoded):
    """JPEG / PNG / GIF / BMP bytes -> uint8 [h, w, 3].

    JPEG uses the accurate integer IDCT: bit-identical to PIL (what timm's transforms see); the
    default fast IDCT differs by up to ~5 levels.
    """
    return tf.cond(
        tf.io.is_jpeg(encoded),
        lambda: tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE"),
        lambda: tf.io.decode_image(encoded, channels=3, dtype=tf.uint8, expand_animations=False),
    )


class ServingModule(tf.Module):
    """Holds the Keras model's variables and the two serving signatures."""

    def __init__(self, model, config: ServingConfig):
        super().__init__(name="keras_resfamily_serving")
        # Only the variables are tracked: tracking the Keras model too would serialise its Keras
        # objects, which serving never uses (ResNet50: save 1.6x slower, .pb 1.7 instead of 1.3 MB).
        self.model_variables = list(model.variables)
        self._call_model = lambda images: model(images, training=False)
        self._config = config
        self._input_dtype = model.inputs[0].dtype
        height, width = config.input_size
        self.serving_default = tf.function(
            self._serve_pixels,
            input_signature=[tf.TensorSpec([None, height, width, 3], tf.float32, name="images")],
        )
        self.predict_images = tf.function(
            self._serve_encoded,
            input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")],
        )

    def signatures(self):
        return {SERVING_DEFAULT: self.serving_default, PREDICT_IMAGES: self.predict_images}

    def _normalise(self, images):
        mean = tf.constant(self._config.mean, tf.float32)
        std = tf.constant(self._config.std, tf.float32)
        return (images / 255.0 - mean) / std

    def _probabilities(self, normalised):
        outputs = self._call_model(tf.cast(normalised, self._input_dtype))
        outputs = tf.cast(outputs, tf.float32)
        return tf.nn.softmax(outputs, axis=-1) if self._config.apply_softmax else outputs

    def _serve_pixels(self, images):
        if self._config.include_preprocessing:
            images = self._normalise(images)
        return {"probabilities": self._probabilities(images)}

    def _decode_one(self, encoded):
        image = decode_rgb(encoded)
        config = self._config
        return resize_and_center_crop(image, config.crop_size, config.crop_pct, config.interpolation)

    def _serve_encoded(self, image_bytes):
        size = self._config.crop_size
        pixels = tf.map_fn(
            self._decode_one, image_bytes, fn_output_signature=tf.TensorSpec([size, size, 3], tf.float32),
        )
        probabilities = self._probabilities(self._normalise(pixels))
        scores, class_ids = tf.math.top_k(probabilities, k=self._config.top_k)
        labels = tf.gather(tf.constant(self._config.labels), class_ids)
        return {"class_ids": tf.cast(class_ids, tf.int64), "labels": labels, "scores": scores}
