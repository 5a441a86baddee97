"""BatchNormalization whose float32 / bfloat16 inference runs as one TensorFlow FusedBatchNormV3 op (or, after a
depthwise convolution, inside it): the same outputs as Keras' layer, in a form TensorFlow's graph optimizer fuses
with the convolution before it."""

import keras

from keras_resfamily.layers.cpu_kernels import runs_on_eigen_cpu_kernels, runs_on_onednn_avx2_kernels

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
    Without oneDNN (TF_ENABLE_ONEDNN_OPTS=0, the default on AVX2 CPUs) a zero `Pad` before that conv moves into
    the conv instead; with oneDNN below AVX-512 a Conv2D + BN folds too (see `_after_conv`).
    """

    def call(self, inputs, training=None, mask=None):
        if not self._runs_fused(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        after_conv = self._after_conv(tf, inputs)
        return self._fused_op(tf, inputs) if after_conv is None else after_conv

    def _fused_op(self, tf, inputs):
        outputs, *_ = tf.raw_ops.FusedBatchNormV3(
            x=inputs, scale=self.gamma if self.scale else tf.ones_like(self.moving_mean),
            offset=self.beta if self.center else tf.zeros_like(self.moving_mean),
            mean=self.moving_mean, variance=self.moving_variance, epsilon=self.epsilon, data_format="NHWC",
            is_training=False)
        return outputs

    def _after_conv(self, tf, inputs):
        """When `inputs` is a convolution op's output in a float32 graph, this layer and that op as one faster form
        (None otherwise: the fused op, which grappler fuses into a Conv2D before it):
        - after a DepthwiseConv2dNative, oneDNN on: `DepthwiseConv2dNative(x, kernel * scale) + offset`, which
          oneDNN fuses with the activation; grappler fuses no BN into a depthwise conv.
        - after a DepthwiseConv2dNative whose input a `Pad` op zero-pads, Eigen's kernels (oneDNN off): the conv
          pads inside (EXPLICIT), then the fused op. Eigen's Pad is a slow pass of its own (MobileNetV2 batch 8:
          1.23-1.28x with it gone).
        - after a Conv2D, oneDNN below AVX-512: `Conv2D(x, kernel * scale) + offset`. There oneDNN's Conv2D fused
          with a FusedBatchNorm runs 7-14x slower at batch 1 (ResNet50 1.3 against 10.1 img/s); with AVX-512
          the fold is slower than that fusion (0.81-0.91x at batch 1), so it stays.
        Never EXPLICIT padding with a bias add: oneDNN's rewrite of that pair aborts the process (TensorFlow
        2.21), and a graph traced here may be served where oneDNN is on.
        """
        if tf.executing_eagerly() or self.compute_dtype != "float32":
            return None
        conv = inputs.op
        if (conv.type not in ("DepthwiseConv2dNative", "Conv2D") or conv.get_attr("padding") == b"EXPLICIT"
                or conv.get_attr("data_format") != b"NHWC"):
            return None
        x, kernel = conv.inputs
        attributes = dict(strides=conv.get_attr("strides"), data_format="NHWC", dilations=conv.get_attr("dilations"))
        depthwise = conv.type == "DepthwiseConv2dNative"
        if depthwise and runs_on_eigen_cpu_kernels():
            explicit_paddings = _zero_paddings(tf, x.op)
            if explicit_paddings:
                return self._fused_op(tf, tf.raw_ops.DepthwiseConv2dNative(
                    input=x.op.inputs[0], filter=kernel, padding="EXPLICIT", explicit_paddings=explicit_paddings,
                    **attributes))
        elif not depthwise and not runs_on_onednn_avx2_kernels():
            return None
        # Folded: the same op with the kernel scaled per output channel ((kh, kw, C, M) depthwise, (kh, kw, in, out)
        # Conv2D), then the offset as a bias.
        scale = tf.math.rsqrt(self.moving_variance + self.epsilon)
        if self.scale:
            scale *= self.gamma
        offset = -self.moving_mean * scale
        if self.center:
            offset += self.beta
        per_channel = tf.reshape(scale, kernel.shape[2:] if depthwise else kernel.shape[3:])
        outputs = getattr(tf.raw_ops, conv.type)(input=x, filter=kernel * per_channel, padding=conv.get_attr("padding"),
                                                 **attributes)
        return tf.nn.bias_add(outputs, offset)

    def _runs_fused(self, inputs, training, mask):
        return (keras.backend.backend() == "tensorflow" and not (training and self.trainable) and mask is None
                and not self.renorm and len(inputs.shape) == 4 and self.axis in (-1, 3)
                and keras.backend.standardize_dtype(inputs.dtype) == self.compute_dtype in FUSED_DTYPES
                and self.variable_dtype == "float32")


def _zero_paddings(tf, op):
    """DepthwiseConv2dNative's `explicit_paddings` for `op` when it is a `Pad` (zeros) of height and width only
    with constant paddings, else None."""
    if op.type != "Pad":
        return None
    paddings = tf.get_static_value(op.inputs[1])
    if paddings is None or paddings.shape != (4, 2) or paddings[0].any() or paddings[3].any():
        return None
    return [int(p) for p in paddings.reshape(-1)]
