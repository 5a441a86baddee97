"""Channel shuffle (Zhang et al., ShuffleNet, 2017): lets grouped convolutions exchange information."""

import keras
from keras import ops

# The two permutations of the references, each the inverse of the other (C = groups * n channels):
INTERLEAVE = "interleave"  # reshape (groups, n), transpose, flatten: output k * groups + j = input j * n + k
DEINTERLEAVE = "deinterleave"  # reshape (n, groups), transpose, flatten: output j * n + k = input k * groups + j
ORDERS = (INTERLEAVE, DEINTERLEAVE)


def shuffle_permutation(channels, groups, order=INTERLEAVE):
    """The input channel each output channel takes: `outputs[..., i] = inputs[..., permutation[i]]`."""
    n = channels // groups
    if order == INTERLEAVE:
        return [j * n + k for k in range(n) for j in range(groups)]
    return [k * groups + j for j in range(groups) for k in range(n)]


@keras.saving.register_keras_serializable(package="keras_resfamily")
class ChannelShuffle(keras.layers.Layer):
    """Permutes the channels of an NHWC tensor so that each of `groups` groups of the next grouped
    convolution sees channels from every group of the previous one. No weights.

    Args:
        groups: number of channel groups; must divide the channels.
        order: "interleave" (the paper's Fig. 1 and torchvision's ShuffleNet V2 `channel_shuffle`:
            view the channels as (groups, n), transpose: the output takes one channel from each group
            in turn) or "deinterleave" (Megvii's ShuffleNet V1 release: view them as (n, groups),
            transpose: input channel c goes to output group c mod groups). Each is the other's inverse;
            a model must use its reference's, or its weights compute something else.
    """

    def __init__(self, groups, order=INTERLEAVE, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
            raise ValueError(f"`groups` must be a positive integer. Received: groups={groups!r}")
        if order not in ORDERS:
            raise ValueError(f"`order` must be one of {', '.join(map(repr, ORDERS))}. Received: order={order!r}")
        self.groups = groups
        self.order = order

    def _check_channels(self, input_shape):
        channels = input_shape[-1]
        if channels is None or channels % self.groups:
            raise ValueError(f"ChannelShuffle needs a known number of channels divisible by `groups`={self.groups}. "
                             f"Received: input with shape {tuple(input_shape)} ({channels} channels)")

    def build(self, input_shape):
        self._check_channels(input_shape)
        self.built = True

    def call(self, inputs):
        if self.groups == 1:
            return inputs
        channels = inputs.shape[-1]
        n = channels // self.groups
        # Flatten batch and space into one axis: unknown sizes stay unknown only there.
        split = (self.groups, n) if self.order == INTERLEAVE else (n, self.groups)
        x = ops.reshape(inputs, (-1,) + split)
        x = ops.transpose(x, (0, 2, 1))
        return ops.reshape(x, ops.shape(inputs))

    def compute_output_shape(self, input_shape):
        self._check_channels(input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(groups=self.groups, order=self.order)
        return config
