"""BatchNormalization whose float32 inference runs as one TensorFlow FusedBatchNormV3 op: the same outputs
as Keras' layer, in a form TensorFlow's graph optimizer fuses with the convolution before it."""

import keras


@keras.saving.register_keras_serializable(package="keras_resfamily")
class BatchNorm(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` (same arguments, variables and training behaviour) with a faster
    inference path on the TensorFlow backend.

    Keras 3 normalises with elementwise ops (`tf.nn.batch_normalization`), which TensorFlow's graph
    optimizer leaves as separate passes over the feature map. In inference mode, on 4-D float32 inputs
    with channels last, this layer runs `FusedBatchNormV3(is_training=False)` instead: the same
    per-channel scale and shift (outputs bit-equal in the tests), which grappler's remapper fuses into
    the preceding Conv2D (and the ReLU after it). Training mode, other backends, other dtypes (mixed
    precision), masks and renorm take Keras' own path.
    """

    def call(self, inputs, training=None, mask=None):
        if not self._runs_fused(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        outputs, *_ = tf.raw_ops.FusedBatchNormV3(
            x=inputs, scale=self.gamma if self.scale else tf.ones_like(self.moving_mean),
            offset=self.beta if self.center else tf.zeros_like(self.moving_mean),
            mean=self.moving_mean, variance=self.moving_variance, epsilon=self.epsilon, data_format="NHWC",
            is_training=False)
        return outputs

    def _runs_fused(self, inputs, training, mask):
        return (keras.backend.backend() == "tensorflow" and not (training and self.trainable) and mask is None
                and not self.renorm and len(inputs.shape) == 4 and self.axis in (-1, 3)
                and keras.backend.standardize_dtype(inputs.dtype) == "float32" and self.compute_dtype == "float32"
                and self.variable_dtype == "float32")
