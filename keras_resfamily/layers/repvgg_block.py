"""RepVGG block (Ding et al., 2021): 3x3-BN + 1x1-BN + identity-BN while training, one 3x3 conv deployed."""

import numpy as np

import keras
from keras import ops

from keras_resfamily.layers.batch_norm import BatchNorm
from keras_resfamily.layers.grouped_conv2d import GroupedConv2D
from keras_resfamily.layers.stochastic_depth import StochasticDepth
from keras_resfamily.layers.utils import kaiming_fan_out, subsample

# PyTorch BatchNorm defaults (momentum 0.1 of the new value == Keras 0.9, eps 1e-5).
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5


def fold_batch_norm(kernel, bn, bias=None):
    """Kernel and bias of a conv (bias `bias`, or none) followed by inference-mode `bn`, as one conv.

    `kernel` has the output channels last (Conv2D layout). Computed in float64 for exactness:
    kernel * gamma / std, beta + (bias - mean) * gamma / std.
    """
    mean = np.asarray(bn.moving_mean, "float64")
    gamma = np.asarray(bn.gamma, "float64") if bn.scale else 1.0
    beta = np.asarray(bn.beta, "float64") if bn.center else 0.0
    scale = gamma / np.sqrt(np.asarray(bn.moving_variance, "float64") + bn.epsilon)
    bias = 0.0 if bias is None else np.asarray(bias, "float64")
    return kernel * scale, beta + (bias - mean) * scale


@keras.saving.register_keras_serializable(package="keras_resfamily")
class RepVGGBlock(keras.layers.Layer):
    """ReLU(BN(conv3x3(x)) + BN(conv1x1(x)) [+ BN(x)]), or ReLU(conv3x3(x) + b) once deployed.

    Matches timm's `RepVggBlock`: the identity BN branch exists only when the input and output
    channels are equal and `strides == 1`; drop path (stochastic depth) applies to the summed conv
    branches of such blocks only. Sublayers are named like timm's submodules (`conv_kxk.conv`,
    `conv_kxk.bn`, `conv_1x1.conv`, `conv_1x1.bn`, `identity`; deployed: `reparam_conv`) so
    checkpoints of both forms load by name.

    Args:
        filters: output channels.
        strides: 1 or 2 (PyTorch-style symmetric padding of the 3x3 conv).
        groups: groups of both convolutions; must divide the input and output channels.
        deploy: single 3x3 conv with bias (the inference form, see `reparameterize`).
        drop_path_rate: stochastic depth rate of the conv branches (identity blocks only).
    """

    def __init__(self, filters, strides=1, groups=1, deploy=False, drop_path_rate=0.0, **kwargs):
        super().__init__(**kwargs)
        for what, value in (("filters", filters), ("groups", groups)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{what}` must be a positive integer; received {what}={value!r}")
        if strides not in (1, 2):
            raise ValueError(f"`strides` must be 1 or 2; received strides={strides!r}")
        if filters % groups:
            raise ValueError(f"`groups` must divide `filters`; received groups={groups}, filters={filters}")
        self.filters = filters
        self.strides = strides
        self.groups = groups
        self.deploy = bool(deploy)
        self.drop_path_rate = drop_path_rate
        self.drop_path = StochasticDepth(drop_path_rate, name="drop_path", dtype=self.dtype_policy)

    def _conv(self, kernel_size, use_bias, name, strides):
        # stride-2 3x3 convs are padded explicitly in `call`; 'same' is symmetric at stride 1.
        padding = "same" if strides == 1 else "valid"
        return GroupedConv2D(
            self.filters, kernel_size, strides=strides, padding=padding, groups=self.groups,
            use_bias=use_bias, kernel_initializer=kaiming_fan_out(), name=name, dtype=self.dtype_policy,
        )

    def _bn(self, name):
        # timm's RepVggBlock init: small random BN scales keep the un-normalised branch sum from
        # growing block after block (with gamma=1 a deep RepVGG overflows float16 at init).
        return BatchNorm(
            momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name, dtype=self.dtype_policy,
            gamma_initializer=keras.initializers.RandomNormal(0.1, 0.1),
            beta_initializer=keras.initializers.RandomNormal(0.0, 0.1),
        )

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None or channels % self.groups:
            raise ValueError(
                f"`groups` must divide the input channels of RepVGGBlock {self.name!r}; received "
                f"groups={self.groups} for input_shape={tuple(input_shape)}"
            )
        self.use_identity = channels == self.filters and self.strides == 1
        padded = self._padded_shape(input_shape)
        if self.deploy:
            self.reparam_conv = self._conv(3, True, "reparam_conv", self.strides)
            self.reparam_conv.build(padded)
        else:
            self.conv_kxk_conv = self._conv(3, False, "conv_kxk-conv", self.strides)
            self.conv_kxk_bn = self._bn("conv_kxk-bn")
            self.conv_1x1_conv = self._conv(1, False, "conv_1x1-conv", 1)  # strided in `_subsample`
            self.conv_1x1_bn = self._bn("conv_1x1-bn")
            self.conv_kxk_conv.build(padded)
            self.conv_1x1_conv.build(self._subsample_shape(input_shape))
            out_shape = self.compute_output_shape(input_shape)
            self.conv_kxk_bn.build(out_shape)
            self.conv_1x1_bn.build(out_shape)
            if self.use_identity:
                self.identity = self._bn("identity")
                self.identity.build(input_shape)
        self.drop_path.build(self.compute_output_shape(input_shape))

    def _padded_shape(self, input_shape):
        if self.strides == 1:
            return tuple(input_shape)
        return (input_shape[0],) + tuple(None if d is None else d + 2 for d in input_shape[1:3]) + (input_shape[3],)

    def _pad(self, x):
        return x if self.strides == 1 else ops.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])

    def _subsample_shape(self, input_shape):
        return self.compute_output_shape(input_shape)[:3] + (input_shape[3],)

    def call(self, inputs, training=None):
        if self.deploy:
            return ops.relu(self.reparam_conv(self._pad(inputs)))
        y = self.conv_kxk_bn(self.conv_kxk_conv(self._pad(inputs)), training=training)
        # A strided 1x1 conv reads every `strides`-th pixel: subsampling first and convolving at stride 1 is the
        # same sum. Done explicitly because oneDNN's AVX2 1x1 backward-weights kernel, at stride > 1 with fewer
        # input channels than its block of 8 (the RGB stem), writes past its workspace (oneDNN issue 6035):
        # TensorFlow with TF_ENABLE_ONEDNN_OPTS=1 crashed or computed wrong gradients.
        y = y + self.conv_1x1_bn(self.conv_1x1_conv(subsample(inputs, self.strides)), training=training)
        if self.use_identity:
            y = self.drop_path(y, training=training) + self.identity(inputs, training=training)
        return ops.relu(y)

    def compute_output_shape(self, input_shape):
        spatial = tuple(None if d is None else (d - 1) // self.strides + 1 for d in input_shape[1:3])
        return (input_shape[0],) + spatial + (self.filters,)

    def fused_kernel_and_bias(self):
        """The (3, 3, C / groups, filters) kernel and bias computing this block's inference output."""
        if self.deploy:
            kernel, bias = self.reparam_conv.get_weights()
            return kernel, bias
        kernel, bias = fold_batch_norm(np.asarray(self.conv_kxk_conv.kernel, "float64"), self.conv_kxk_bn)
        kernel_1x1, bias_1x1 = fold_batch_norm(np.asarray(self.conv_1x1_conv.kernel, "float64"), self.conv_1x1_bn)
        kernel[1:2, 1:2] += kernel_1x1  # a 1x1 kernel is a 3x3 kernel that is zero off-centre
        bias += bias_1x1
        if self.use_identity:
            # identity == a 3x3 kernel with a one at the centre linking channel i to itself.
            in_per_group = kernel.shape[2]
            identity = np.zeros_like(kernel)
            channels = np.arange(self.filters)
            identity[1, 1, channels % in_per_group, channels] = 1.0
            identity_kernel, identity_bias = fold_batch_norm(identity, self.identity)
            kernel += identity_kernel
            bias += identity_bias
        return kernel.astype("float32"), bias.astype("float32")

    def reparameterize(self):
        """A new, built deploy-form block (same name and config) computing the same inference output."""
        if not self.built:
            raise ValueError(f"RepVGGBlock {self.name!r} must be built before it can be re-parameterised.")
        kernel, bias = self.fused_kernel_and_bias()
        config = self.get_config()
        config["deploy"] = True
        deployed = type(self).from_config(config)
        deployed.build(self._input_shape_for_deploy())
        deployed.reparam_conv.set_weights([kernel, bias])
        return deployed

    def _input_shape_for_deploy(self):
        in_per_group = self.reparam_conv.kernel.shape[2] if self.deploy else self.conv_kxk_conv.kernel.shape[2]
        return (None, None, None, in_per_group * self.groups)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, strides=self.strides, groups=self.groups, deploy=self.deploy,
                      drop_path_rate=self.drop_path_rate)
        return config
