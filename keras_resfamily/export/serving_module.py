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
# 64 Mi pixels: above the full-size output of current cameras and phones (61 MP full frame, 64 MP
# phone sensors at 9248x6936) while bounding a decoded image to 192 MiB of uint8.
DEFAULT_MAX_PIXELS = 1 << 26
_KERNELS = {"bilinear": "triangle", "bicubic": "keyscubic"}  # tf.image.resize's antialias kernels


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
    max_pixels: int = DEFAULT_MAX_PIXELS  # predict_images refuses larger images before decoding them
    model_normalises: bool = False  # built with include_preprocessing=True: it takes [0, 255] itself


def resize_and_center_crop(image, crop_size, crop_pct, interpolation):
    """uint8 [h, w, 3] -> float32 [crop_size, crop_size, 3] in [0, 255], as timm's eval transform.

    torchvision's Resize(int) keeps the aspect ratio with the long side int(scale * long / short);
    PIL returns uint8, hence the round + clip; CenterCrop offsets use Python's round (half to
    even, as tf.round).

    Only the crop window is resampled (ScaleAndTranslate: tf.image.resize's antialias op, with a
    translation), with the long side first: the op's intermediate is crop x short side, so cost
    stays linear in the decoded pixels. Resizing whole, a 1x30000 image became 36x1080000 floats
    (7 s, 1.6 GB).
    """
    # float32 first: exact for uint8, and oneDNN's uint8 transpose logs an error line on some CPUs
    image = tf.cast(image, tf.float32)
    shape = tf.shape(image)
    wide = shape[1] > shape[0]
    image = tf.cond(wide, lambda: tf.transpose(image, [1, 0, 2]), lambda: image)  # height >= width now
    scale = tf.constant(int(crop_size / crop_pct), tf.float64)
    in_size = tf.cast(tf.shape(image)[:2], tf.float64)
    new_long = tf.floor(scale * in_size[0] / in_size[1])
    ratio = tf.cast(tf.cast(tf.stack([new_long, scale]), tf.int32), tf.float32) / tf.cast(in_size, tf.float32)
    offsets = tf.round((tf.stack([new_long, scale]) - crop_size) / 2.0)
    crop = tf.raw_ops.ScaleAndTranslate(
        images=image[None], size=[crop_size, crop_size], scale=ratio, translation=-tf.cast(offsets, tf.float32),
        kernel_type=_KERNELS[interpolation], antialias=True)[0]
    crop = tf.cond(wide, lambda: tf.transpose(crop, [1, 0, 2]), lambda: crop)
    return tf.clip_by_value(tf.round(crop), 0.0, 255.0)


def _bytes_at(encoded, pos, n):
    """`n` bytes from `pos` as int64, zeros past the end (no error on truncated input)."""
    piece = tf.strings.substr(encoded, tf.minimum(tf.cast(pos, tf.int32), tf.strings.length(encoded)), n)
    padded = tf.strings.substr(tf.strings.join([piece, tf.constant(b"\0" * n)]), 0, n)
    return tf.cast(tf.reshape(tf.io.decode_raw(padded, tf.uint8), [n]), tf.int64)


def _number(b, big_endian=False):
    b = b[::-1] if big_endian else b
    return tf.reduce_sum(b * tf.constant([256 ** i for i in range(b.shape[0])], tf.int64))


def _first_gif_frame(encoded):
    """(bytes up to the end of the first frame + trailer, frame height, width).

    TF decodes every frame of a GIF even when only the first is kept: 100 small frames cost 100
    canvases. The block walk (GIF89a spec) cuts the stream after the first image.
    """
    flags = _bytes_at(encoded, 10, 1)[0]
    start = 13 + tf.where(flags >= 128, 3 * 2 ** (flags % 8 + 1), 0)  # global colour table

    def skip_sub_blocks(pos):  # data sub-blocks: a length byte, data, ..., a zero length
        pos = tf.while_loop(lambda p: _bytes_at(encoded, p, 1)[0] > 0,
                            lambda p: [p + _bytes_at(encoded, p, 1)[0] + 1], [pos])
        return tf.nest.flatten(pos)[0] + 1

    def step(pos, _, size):
        kind = _bytes_at(encoded, pos, 1)[0]
        extension = lambda: (skip_sub_blocks(pos + 2), tf.constant(False), size)  # noqa: E731

        def image():
            descriptor = _bytes_at(encoded, pos, 10)
            local = tf.where(descriptor[9] >= 128, 3 * 2 ** (descriptor[9] % 8 + 1), 0)
            return (skip_sub_blocks(pos + 11 + local), tf.constant(True),
                    tf.stack([_number(descriptor[7:9]), _number(descriptor[5:7])]))

        return tf.case([(tf.equal(kind, 0x21), extension), (tf.equal(kind, 0x2C), image)],
                       default=lambda: (pos, tf.constant(True), size))  # trailer or garbage: stop

    length = tf.cast(tf.strings.length(encoded), tf.int64)
    end, _, size = tf.while_loop(lambda pos, done, _: tf.logical_and(tf.logical_not(done), pos < length), step,
                                 [start, tf.constant(False), tf.zeros([2], tf.int64)])
    first = tf.strings.join([tf.strings.substr(encoded, 0, tf.cast(tf.minimum(end, length), tf.int32)), b"\x3b"])
    return first, size


def image_size(encoded):
    """(height, width) from the header, read before any pixel is decoded; (0, 0) if unknown."""
    head = _bytes_at(encoded, 0, 30)
    le = _number
    be = lambda b: _number(b, big_endian=True)  # noqa: E731
    magic = tf.strings.substr(encoded, 0, 4)

    def webp():  # RIFF....WEBP then a VP8X (extended), VP8L (lossless) or VP8 (lossy) chunk
        chunk = tf.strings.substr(encoded, 12, 4)
        bits = le(head[21:25])
        return tf.case([
            (tf.equal(chunk, b"VP8X"), lambda: tf.stack([le(head[27:30]) + 1, le(head[24:27]) + 1])),
            (tf.equal(chunk, b"VP8L"), lambda: tf.stack([(bits // 2 ** 14) % 2 ** 14 + 1, bits % 2 ** 14 + 1])),
        ], default=lambda: tf.stack([le(head[28:30]) % 2 ** 14, le(head[26:28]) % 2 ** 14]))

    def signed(b):  # BMP stores a negative height for top-down rows
        value = le(b)
        return tf.abs(tf.where(value >= 2 ** 31, value - 2 ** 32, value))

    return tf.case([
        (tf.io.is_jpeg(encoded), lambda: tf.cast(tf.io.extract_jpeg_shape(encoded)[:2], tf.int64)),
        (tf.equal(tf.strings.substr(magic, 0, 3), b"\x89PN"), lambda: tf.stack([be(head[20:24]), be(head[16:20])])),
        (tf.equal(tf.strings.substr(magic, 0, 3), b"GIF"), lambda: _first_gif_frame(encoded)[1]),
        (tf.equal(tf.strings.substr(magic, 0, 2), b"BM"), lambda: tf.stack([signed(head[22:26]), signed(head[18:22])])),
        (tf.equal(magic, b"RIFF"), webp),
    ], default=lambda: tf.zeros([2], tf.int64))


def check_pixels(encoded, max_pixels):
    """InvalidArgumentError before decoding when the header announces more than `max_pixels` pixels."""
    size = image_size(encoded)
    message = tf.strings.format(
        "predict_images: the image is {}x{} = {} pixels, more than the limit of {} pixels (max_pixels, set "
        "at export). Send a downscaled image, or export with a larger max_pixels.",
        (size[0], size[1], size[0] * size[1], max_pixels))
    return tf.debugging.Assert(size[0] * size[1] <= max_pixels, [message])


def decode_rgb(encoded):
    """JPEG / PNG / GIF / BMP / WebP bytes -> uint8 [h, w, 3]; GIFs: their first frame only.

    JPEG uses the accurate integer IDCT: bit-identical to PIL (what timm's transforms see); the
    default fast IDCT differs by up to ~5 levels.
    """
    encoded = tf.convert_to_tensor(encoded, tf.string)
    gif = tf.equal(tf.strings.substr(encoded, 0, 3), b"GIF")
    encoded = tf.cond(gif, lambda: _first_gif_frame(encoded)[0], lambda: encoded)
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
        if self._config.model_normalises:
            return images
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
        # The limit is a graph constant: the SavedModel enforces it without this package.
        with tf.control_dependencies([check_pixels(encoded, self._config.max_pixels)]):
            encoded = tf.identity(encoded)
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
