"""The dual-path block of DPN (Chen et al., 2017), one layer, optionally rematerialized."""

import keras
from keras import ops

from keras_resfamily.layers.batch_norm import BatchNorm
from keras_resfamily.layers.grouped_conv2d import GroupedConv2D
from keras_resfamily.layers.mixed_depthwise_conv2d import padded
from keras_resfamily.layers.pure_batch_norm import normalize, update_moving_statistics, uses_batch_statistics
from keras_resfamily.layers.utils import kaiming_fan_out
from keras_resfamily.validation import check_remat

BLOCK_TYPES = ("proj", "down", "normal")


@keras.saving.register_keras_serializable(package="keras_resfamily")
class DualPathBlock(keras.layers.Layer):
    """timm's `DualPathBlock`: pre-activation (BN-ReLU-conv) units whose output is split into a
    residual slice, summed with the input's first `num_1x1_c` channels, and a dense slice of `inc`
    channels, concatenated after the input's other channels.

        x_s   = x, or (`proj` / `down` blocks) BN-ReLU-1x1 conv of x to num_1x1_c + 2 * inc channels
        y     = BN-ReLU-1x1 conv (num_1x1_a) -> BN-ReLU-3x3 grouped conv (num_3x3_b) -> BN-ReLU
        out1, out2 = 1x1 conv of y split at num_1x1_c (or, with `b`, two 1x1 convs c1x1_c1, c1x1_c2)
        output = concat([x_s[:num_1x1_c] + out1, x_s[num_1x1_c:], out2])

    A `down` block strides its projection and its 3x3 conv by 2 (PyTorch padding 1 on every side).
    Sublayers keep timm's names with '-' for '.' (`c1x1_a-bn`, `c3x3_b-conv`, `c1x1_c1`, ...), so
    `load_timm_state_dict` loads the block's tensors by name. BN epsilon is timm's 1e-3.

    With `remat=True` the block's forward is wrapped in `keras.remat` (gradient checkpointing): its
    activations are recomputed in the backward pass instead of kept (training calls only: inference
    has no backward pass). The recomputed function must not update the BN moving statistics a
    second time, so it is pure: it returns the batch moments beside its output and the moving
    averages are updated from them once, outside it, with Keras BatchNormalization's formula. Both
    settings run this same code and have the same variables.
    """

    def __init__(self, num_1x1_a, num_3x3_b, num_1x1_c, inc, groups, block_type="normal", b=False, remat=False,
                 bn_epsilon=1e-3, bn_momentum=0.9, **kwargs):
        super().__init__(**kwargs)
        for value, what in ((num_1x1_a, "num_1x1_a"), (num_3x3_b, "num_3x3_b"), (num_1x1_c, "num_1x1_c"),
                            (inc, "inc"), (groups, "groups")):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{what}` must be a positive integer; received {what}={value!r}.")
        if block_type not in BLOCK_TYPES:
            raise ValueError(f"`block_type` must be one of {BLOCK_TYPES}; received block_type={block_type!r}.")
        if num_1x1_a % groups or num_3x3_b % groups:
            raise ValueError("`groups` must divide `num_1x1_a` and `num_3x3_b`; received "
                             f"groups={groups}, num_1x1_a={num_1x1_a}, num_3x3_b={num_3x3_b}.")
        if not isinstance(b, bool):
            raise ValueError(f"`b` must be True or False; received b={b!r}.")
        check_remat(remat)
        self.num_1x1_a = num_1x1_a
        self.num_3x3_b = num_3x3_b
        self.num_1x1_c = num_1x1_c
        self.inc = inc
        self.groups = groups
        self.block_type = block_type
        self.b = b
        self.remat = remat
        self.bn_epsilon = bn_epsilon
        self.bn_momentum = bn_momentum

    @property
    def strides(self):
        return 2 if self.block_type == "down" else 1

    @property
    def projection_name(self):
        """timm keeps one attribute per projection stride (pretrained-weight compatibility)."""
        return None if self.block_type == "normal" else f"c1x1_w_s{self.strides}"

    def output_channels(self, in_channels):
        if self.block_type == "normal":
            return in_channels + self.inc
        return self.num_1x1_c + 3 * self.inc

    def _bn(self, name, channels):
        bn = BatchNorm(momentum=self.bn_momentum, epsilon=self.bn_epsilon, name=name, dtype=self.dtype_policy)
        bn.build((None, None, None, channels))
        return bn

    def _conv(self, name, filters, in_channels, kernel_size=1, strides=1, groups=1):
        # Stride-1 3x3: 'same' is PyTorch's padding 1; stride 2 pads explicitly in `_forward`.
        padding = "same" if kernel_size > 1 and strides == 1 else "valid"
        conv_type = GroupedConv2D if groups > 1 else keras.layers.Conv2D
        conv = conv_type(filters, kernel_size, strides=strides, padding=padding, groups=groups, use_bias=False,
                         kernel_initializer=kaiming_fan_out(), name=name, dtype=self.dtype_policy)
        conv.build((None, None, None, in_channels))
        return conv

    def build(self, input_shape):
        in_channels = input_shape[-1]
        if in_channels is None or (self.block_type == "normal" and in_channels < self.num_1x1_c):
            raise ValueError(f"A '{self.block_type}' dual-path block needs a known channel count"
                             + (f" of at least num_1x1_c={self.num_1x1_c}" if self.block_type == "normal" else "")
                             + f"; received input shape {tuple(input_shape)}.")
        self.projection = None
        if self.projection_name:
            self.projection_bn = self._bn(f"{self.projection_name}-bn", in_channels)
            self.projection = self._conv(f"{self.projection_name}-conv", self.num_1x1_c + 2 * self.inc, in_channels,
                                         strides=self.strides)
        self.a_bn = self._bn("c1x1_a-bn", in_channels)
        self.a_conv = self._conv("c1x1_a-conv", self.num_1x1_a, in_channels)
        self.b_bn = self._bn("c3x3_b-bn", self.num_1x1_a)
        self.b_conv = self._conv("c3x3_b-conv", self.num_3x3_b, self.num_1x1_a, 3, self.strides, self.groups)
        self.c_bn = self._bn("c1x1_c-bn", self.num_3x3_b)
        if self.b:
            self.c_convs = [self._conv("c1x1_c1", self.num_1x1_c, self.num_3x3_b),
                            self._conv("c1x1_c2", self.inc, self.num_3x3_b)]
        else:
            self.c_convs = [self._conv("c1x1_c-conv", self.num_1x1_c + self.inc, self.num_3x3_b)]

    def _batch_norms(self):
        return ([self.projection_bn] if self.projection is not None else []) + [self.a_bn, self.b_bn, self.c_bn]

    @staticmethod
    def _bn_relu(bn, batch_stats, x, moments):
        """ReLU(`bn(x)`) without its moving-average update; batch moments are appended to `moments`."""
        y, batch_moments = normalize(bn, x, batch_stats)
        moments += batch_moments
        return ops.relu(y)

    def _forward(self, inputs, batch_stats):
        """The block, free of side effects: [output, batch mean and variance of each BN in `batch_stats`]."""
        moments = []
        norms = iter(zip(self._batch_norms(), batch_stats))
        shortcut = inputs
        if self.projection is not None:
            shortcut = self.projection(self._bn_relu(*next(norms), inputs, moments))
        y = self.a_conv(self._bn_relu(*next(norms), inputs, moments))
        y = self._bn_relu(*next(norms), y, moments)
        if self.strides > 1:  # PyTorch's padding 1 on every side ('same' pads bottom / right only)
            y = padded(y, 1)
        y = self._bn_relu(*next(norms), self.b_conv(y), moments)
        outputs = [conv(y) for conv in self.c_convs]
        if not self.b:
            outputs = [outputs[0][..., :self.num_1x1_c], outputs[0][..., self.num_1x1_c:]]
        residual, dense = outputs
        output = ops.concatenate([shortcut[..., :self.num_1x1_c] + residual, shortcut[..., self.num_1x1_c:], dense],
                                 axis=-1)
        return [output] + moments

    def call(self, inputs, training=None):
        norms = self._batch_norms()
        batch_stats = uses_batch_statistics(norms, training)

        def forward(x):
            return self._forward(x, batch_stats)

        # Inference has no backward pass: nothing to recompute.
        output, *moments = (keras.remat(forward) if self.remat and training else forward)(inputs)
        update_moving_statistics(norms, batch_stats, moments)
        return output

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        if self.strides > 1:
            height, width = [None if n is None else -(-n // 2) for n in (height, width)]
        return (batch, height, width, self.output_channels(channels))

    def get_config(self):
        config = super().get_config()
        config.update(num_1x1_a=self.num_1x1_a, num_3x3_b=self.num_3x3_b, num_1x1_c=self.num_1x1_c, inc=self.inc,
                      groups=self.groups, block_type=self.block_type, b=self.b, remat=self.remat,
                      bn_epsilon=self.bn_epsilon, bn_momentum=self.bn_momentum)
        return config
