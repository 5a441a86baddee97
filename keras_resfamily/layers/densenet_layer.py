"""DenseNet's dense layer (Huang et al., 2017) as one layer, optionally rematerialised (gradient checkpointing)."""

import keras
from keras import ops

from keras_resfamily import validation
from keras_resfamily.layers.batch_norm import BatchNorm
from keras_resfamily.layers.pure_batch_norm import normalize, update_moving_statistics, uses_batch_statistics
from keras_resfamily.layers.utils import kaiming_fan_in

# PyTorch BatchNorm defaults (momentum 0.1 of the new value == Keras 0.9, eps 1e-5).
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5


@keras.saving.register_keras_serializable(package="keras_resfamily")
class DenseNetLayer(keras.layers.Layer):
    """conv2(relu(norm2(conv1(relu(norm1(concat(features))))))): timm's / torchvision's `DenseLayer`.

    Takes the list of all earlier feature maps of its dense block (or one map) and returns its
    `growth_rate` new channels; the block concatenates them. Sublayers are named like the
    reference's submodules (`norm1`, `conv1`, `norm2`, `conv2`; the ReLUs have no weights), so the
    variable "features-denseblock1-denselayer1/norm1/gamma" is the reference's
    "features.denseblock1.denselayer1.norm1.weight" and checkpoints load by name. `remat` changes
    no variable: models built with and without it exchange weights.

    `remat=True` (gradient checkpointing): in training-mode calls the whole layer is one
    `keras.remat` unit. A plain training step stores, for each layer, the concatenated input and
    its BN + ReLU output (both as wide as all earlier features: quadratic in the block's depth) and
    the bottleneck's three 4k-channel maps; with remat only the unit's inputs (the earlier layers'
    outputs, kept anyway) and its k-channel output are stored, and the backward pass recomputes the
    rest, one layer at a time. Inference calls are never rematerialised (there is no backward).
    The recomputed forward must not update the BN moving statistics a second time, so the unit is
    pure: it returns the batch moments beside its output and the moving averages are updated from
    them once, outside it (with Keras BatchNormalization's own formula and arithmetic).

    Dense concatenation without quadratic copies: the memory-efficient PyTorch implementation
    (Pleiss et al., 2017) preallocates one shared buffer per block and writes every layer's
    concatenation and BN output into it. Keras and TensorFlow tensors are immutable and no Keras op
    writes into a preallocated buffer, so every concatenation is a new tensor. What is possible is
    not to keep them: each layer concatenates inside its own call (and, with `remat`, inside the
    recomputed unit), so a concatenation lives only until its BN has read it, and without `remat`
    the stored copies are the ones its backward pass needs. Splitting `conv1` into one 1x1 conv per
    earlier map and summing would avoid the concatenation itself, but not the per-layer BN + ReLU
    outputs that dominate the memory (every layer has its own `norm1`), at the cost of many small convs.

    Args:
        growth_rate: new channels (k).
        bn_size: bottleneck width multiplier (conv1 has bn_size * k channels).
        bn_epsilon, bn_momentum: of both BatchNormalizations (torch's 1e-5 and 0.1 == Keras 0.9).
        remat: recompute the layer in the backward pass instead of storing its activations (needs
            `keras.remat`: Keras 3.9+ with the TensorFlow, JAX or torch backend).
    """

    def __init__(self, growth_rate, bn_size=4, bn_epsilon=BN_EPSILON, bn_momentum=BN_MOMENTUM, remat=False,
                 **kwargs):
        super().__init__(**kwargs)
        for what, value in (("growth_rate", growth_rate), ("bn_size", bn_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{what}` must be a positive integer. Received: {what}={value!r}")
        validation.check_remat(remat)
        self.growth_rate = growth_rate
        self.bn_size = bn_size
        self.bn_epsilon = bn_epsilon
        self.bn_momentum = bn_momentum
        self.remat = remat
        self.norm1 = self._batch_norm("norm1")
        self.conv1 = self._conv(bn_size * growth_rate, 1, "conv1")
        self.norm2 = self._batch_norm("norm2")
        # 3x3, stride 1, padding 1 == Keras 'same'.
        self.conv2 = self._conv(growth_rate, 3, "conv2")

    def _batch_norm(self, name):
        return BatchNorm(momentum=self.bn_momentum, epsilon=self.bn_epsilon, name=name, dtype=self.dtype_policy)

    def _conv(self, filters, kernel_size, name):
        return keras.layers.Conv2D(filters, kernel_size, padding="same", use_bias=False,
                                   kernel_initializer=kaiming_fan_in(), name=name, dtype=self.dtype_policy)

    @staticmethod
    def _shapes(input_shape):
        """A list of (N, H, W, C) shapes, whether one map or a list of maps was given."""
        if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)):
            return [tuple(s) for s in input_shape]
        return [tuple(input_shape)]

    def build(self, input_shape):
        shapes = self._shapes(input_shape)
        channels = [s[-1] for s in shapes]
        if any(c is None for c in channels):
            raise ValueError(f"DenseNetLayer {self.name!r} needs known input channels. Received: input_shape={shapes}")
        concatenated = shapes[0][:3] + (sum(channels),)
        bottleneck = concatenated[:3] + (self.bn_size * self.growth_rate,)
        self.norm1.build(concatenated)
        self.conv1.build(concatenated)
        self.norm2.build(bottleneck)
        self.conv2.build(bottleneck)

    def call(self, inputs, training=None):
        features = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        norms = (self.norm1, self.norm2)
        batch_stats = uses_batch_statistics(norms, training)

        def unit(*features):
            """The layer's computation, free of side effects: (new features, *batch moments)."""
            x = ops.concatenate(features, axis=-1) if len(features) > 1 else features[0]
            x, moments1 = normalize(self.norm1, x, batch_stats[0])
            x = self.conv1(ops.relu(x))
            x, moments2 = normalize(self.norm2, x, batch_stats[1])
            x = self.conv2(ops.relu(x))
            return (x,) + moments1 + moments2

        if self.remat and training:  # inference has no backward pass: nothing to recompute
            unit = keras.remat(unit)
        outputs = unit(*features)
        update_moving_statistics(norms, batch_stats, outputs[1:])
        return outputs[0]

    def compute_output_shape(self, input_shape):
        return self._shapes(input_shape)[0][:3] + (self.growth_rate,)

    def get_config(self):
        config = super().get_config()
        config.update(growth_rate=self.growth_rate, bn_size=self.bn_size, bn_epsilon=self.bn_epsilon,
                      bn_momentum=self.bn_momentum, remat=self.remat)
        return config
