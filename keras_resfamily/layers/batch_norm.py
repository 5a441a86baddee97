"""BatchNormalization whose float32 / bfloat16 inference runs as one TensorFlow FusedBatchNormV3 op (or, after a
depthwise convolution, inside it): the same outputs as Keras' layer, in a form TensorFlow's graph optimizer fuses
with the convolution before it."""

import keras

# Input dtypes of the fused path. bfloat16 (mixed_bfloat16): the op normalises in float32 and rounds once to
# bfloat16, as Keras' layer does after casting its input to float32.
FUSED_DTYPES = ("float32", "bfloat16")


@keras.saving.register_keras_serializable(package="keras_resfamily")
class BatchNorm(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` (same arguments, variables and training behaviour) with a faster
    inference path on the TensorFlow backend.

    Keras 3 normalises with elementwise ops (`tf.nn.batch_normalization`), which TensorFlow's graph
    optimizer leaves as separate passes over the feature map. In inference mode, on 4-D float32 inputs
    with channels last, this layer runs `FusedBatchNormV3(is_training=False)` instead: the same
    per-channel scale and shift (outputs equal to 1e-6 in the tests), which grappler's remapper fuses
    into the preceding Conv2D (and the ReLU after it). Under mixed_bfloat16 it does the same on bfloat16
    inputs (float32 arithmetic rounded once to bfloat16, as Keras' layer; within one bfloat16 ulp of it).
    Training mode, other backends, float16, masks and renorm take Keras' own path.

    Grappler fuses no BatchNorm into a depthwise convolution, so in a float32 graph whose input comes straight
    from a `DepthwiseConv2dNative` op this layer folds itself into that op instead: the same convolution with
    the kernel scaled per channel, then a bias add (which oneDNN fuses, with the activation after it, into
    the convolution). The layer's weights stay what they are; the scaled kernel is computed in the graph.
    """

    def call(self, inputs, training=None, mask=None):
        if not self._runs_fused(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        folded = self._folded_into_depthwise_conv(tf, inputs)
        if folded is not None:
            return folded
        outputs, *_ = tf.raw_ops.FusedBatchNormV3(
            x=inputs, scale=self.gamma if self.scale else tf.ones_like(self.moving_mean),
            offset=self.beta if self.center else tf.zeros_like(self.moving_mean),
            mean=self.moving_mean, variance=self.moving_variance, epsilon=self.epsilon, data_format="NHWC",
            is_training=False)
        return outputs

    def _folded_into_depthwise_conv(self, tf, inputs):
        """`DepthwiseConv2dNative(x, kernel * scale) + offset` when `inputs` is that op's output in a float32 graph,
        else None. Not for EXPLICIT padding: oneDNN's graph rewrite of a depthwise conv with explicit padding and
        a bias add aborts the process (TensorFlow 2.21)."""
        if tf.executing_eagerly() or self.compute_dtype != "float32":
            return None
        conv = inputs.op
        if (conv.type != "DepthwiseConv2dNative" or conv.get_attr("padding") == b"EXPLICIT"
                or conv.get_attr("data_format") != b"NHWC"):
            return None
        x, kernel = conv.inputs
        scale = tf.math.rsqrt(self.moving_variance + self.epsilon)
        if self.scale:
            scale *= self.gamma
        offset = -self.moving_mean * scale
        if self.center:
            offset += self.beta
        outputs = tf.raw_ops.DepthwiseConv2dNative(
            input=x, filter=kernel * tf.reshape(scale, kernel.shape[2:]), strides=conv.get_attr("strides"),
            padding=conv.get_attr("padding"), data_format="NHWC", dilations=conv.get_attr("dilations"))
        return tf.nn.bias_add(outputs, offset)

    def _runs_fused(self, inputs, training, mask):
        return (keras.backend.backend() == "tensorflow" and not (training and self.trainable) and mask is None
                and not self.renorm and len(inputs.shape) == 4 and self.axis in (-1, 3)
                and keras.backend.standardize_dtype(inputs.dtype) == self.compute_dtype in FUSED_DTYPES
                and self.variable_dtype == "float32")
