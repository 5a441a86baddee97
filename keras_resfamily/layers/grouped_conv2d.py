"""Conv2D whose grouped form runs through the fastest exact op the backend and device offer."""

import functools

import keras
from keras import ops

from keras_resfamily.layers.cpu_kernels import tensorflow_onednn_enabled

KERAS = "keras"  # Keras' own grouped op
TF_DIRECT = "tf_direct"  # tf.nn.convolution with the grouped kernel, no XLA
PER_GROUP = "per_group"  # one ordinary convolution per group, concatenated


def _tf_cpu_has_grouped_gradients(dtype):
    """True where TensorFlow's CPU kernels differentiate a grouped, dilated convolution in `dtype`.

    oneDNN is on by default only on x86 CPUs with AVX512_VNNI / AVX512_BF16 / AMX, or with
    TF_ENABLE_ONEDNN_OPTS=1. Without it the forward op runs but its gradient raises "Gradients for
    grouped convolutions are not supported on CPU"; with it, float16 and bfloat16 raise the same
    (TensorFlow 2.21, AVX2 CPU), so each compute dtype is probed.
    """
    import tensorflow as tf

    if tensorflow_onednn_enabled() is False:  # spares the probe's error log where oneDNN is plainly off
        return False
    # init_scope: run eagerly even when first called while tracing (it also pauses gradient tapes,
    # so the two gradient ops are called directly).
    with tf.init_scope():
        x, kernel, dy = tf.ones((1, 4, 4, 4), dtype), tf.ones((3, 3, 2, 4), dtype), tf.ones((1, 4, 4, 4), dtype)
        try:
            # Dilated, as TF_DIRECT runs dilated convs (Eigen's CPU kernels have no dilated gradient either).
            tf.raw_ops.Conv2DBackpropInput(input_sizes=x.shape, filter=kernel, out_backprop=dy, strides=[1, 1, 1, 1],
                                           padding="SAME", dilations=[1, 2, 2, 1])
            tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=kernel.shape, out_backprop=dy, strides=[1, 1, 1, 1],
                                            padding="SAME", dilations=[1, 2, 2, 1])
        except tf.errors.OpError:  # InvalidArgument, or NotFound where no kernel is registered
            return False
    return True


@functools.lru_cache(maxsize=None)
def grouped_conv_path(dtype="float32"):
    """Which formulation GroupedConv2D uses here for inputs of `dtype`: KERAS, TF_DIRECT or PER_GROUP.

    Keras runs every grouped convolution on TensorFlow and JAX through XLA, which is slow on CPU.
    benchmarks/grouped_conv.py, batch 8, 56x56, 128 channels, 32 groups, 2-core AMD EPYC (AVX2),
    2026-12-01, ms forward / forward+backward: Keras (XLA) 165 / 13114; per-group 68 / 121;
    with TF_ENABLE_ONEDNN_OPTS=1: TensorFlow's grouped op 19 / 50, per-group 33 / 38. On an AVX512
    Intel CPU (oneDNN on by default) the grouped op took 5-6 / 19 ms against per-group 12 / 18-20.
    JAX on the AMD CPU: XLA 201 / 12493, per-group 63 / 78.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if tf.config.list_logical_devices("GPU"):
            return KERAS
        return TF_DIRECT if _tf_cpu_has_grouped_gradients(dtype) else PER_GROUP
    if backend == "jax":
        import jax

        return PER_GROUP if jax.default_backend() == "cpu" else KERAS
    return KERAS


@keras.saving.register_keras_serializable(package="keras_resfamily")
class GroupedConv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` with identical variables and equal outputs; only the grouped op differs.

    With `groups > 1` or a dilation, see `grouped_conv_path` for which op runs (a dilated conv with one group
    takes TF_DIRECT where it exists, else Keras' op). Every formulation computes the
    same sums per group; only the summation order may differ (max abs difference 1.2e-6 at the
    benchmark's shape, float32). The kernel keeps Conv2D's (kh, kw, in / groups, out) layout, so
    checkpoints and the timm converter treat it as a Conv2D.
    """

    def convolution_op(self, inputs, kernel):
        dilated = max(self.dilation_rate) > 1
        if self.groups == 1 and not dilated:
            return super().convolution_op(inputs, kernel)
        path = grouped_conv_path(keras.backend.standardize_dtype(inputs.dtype))
        if path == TF_DIRECT:
            import tensorflow as tf

            # tf.nn.conv2d: a dilated conv is one Conv2D op, which oneDNN runs dilated (tf.nn.convolution wraps it
            # in SpaceToBatchND / BatchToSpaceND: SKResNeXt50_32x4d ran 1.08x faster without them).
            return tf.nn.conv2d(inputs, kernel, self.strides, self.padding.upper(), dilations=self.dilation_rate,
                                data_format="NHWC" if self.data_format == "channels_last" else "NCHW")
        if path == PER_GROUP and self.groups > 1:
            channel_axis = -1 if self.data_format == "channels_last" else 1
            pieces = zip(ops.split(inputs, self.groups, axis=channel_axis), ops.split(kernel, self.groups, axis=-1))
            outputs = [
                ops.conv(x, k, strides=self.strides, padding=self.padding, dilation_rate=self.dilation_rate,
                         data_format=self.data_format)
                for x, k in pieces
            ]
            return ops.concatenate(outputs, axis=channel_axis)
        return super().convolution_op(inputs, kernel)
