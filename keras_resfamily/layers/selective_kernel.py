"""Selective Kernel convolution of SKNet (Li et al., 2019)."""

from typing import NamedTuple

import keras
from keras import ops

from keras_resfamily.layers.batch_norm import BatchNorm
from keras_resfamily.layers.grouped_conv2d import GroupedConv2D
from keras_resfamily.layers.utils import float32_spatial_mean, kaiming_fan_out, make_divisible, subsample


class _PathForm(NamedTuple):
    conv_strides: int
    conv_dilation: int
    conv_padding: str
    pad: int  # zeros on each side of height and width, before the conv
    subsample_input: int  # stride of the subsampling before the conv (1: none)
    subsample_output: int  # ... and after it


# timm's ResNet init for every conv / FC here: kaiming normal, fan_out, ReLU gain.
@keras.saving.register_keras_serializable(package="keras_resfamily")
class SelectiveKernel(keras.layers.Layer):
    """Split into kernel paths, fuse them, select per channel with a softmax over the paths.

    Equals timm's `SelectiveKernel` with `keep_3x3=True` (sublayers `paths-{i}-conv`,
    `paths-{i}-bn`, `attn-fc_reduce`, `attn-bn`, `attn-fc_select`: timm's names with '-' for '.'):

    * split: one conv-BN-ReLU path per entry of `kernel_size`; a k x k kernel is a 3x3 kernel
      with dilation (k - 1) / 2 (the paper's 5x5 -> dilated 3x3). With `split_input` each path
      sees its own 1/num_paths slice of the input channels (timm's parameter-saving variant);
      otherwise every path sees the whole input (the paper).
    * fuse: sum of the paths -> global average pool (float32) -> FC (no bias) -> BN -> ReLU.
    * select: FC (no bias) to `num_paths * filters` logits, softmax over the paths (float32),
      weighted sum of the paths.

    The attention width is `rd_channels` if given; else, with `min_rd_channels` set, the paper's
    `max(int(filters * rd_ratio), min_rd_channels)` (d = max(C / r, L)); else timm's
    `make_divisible(filters * rd_ratio, rd_divisor)`.

    Args:
        filters: output channels of every path and of the layer.
        kernel_size: list of odd kernel sizes >= 3, one per path (at least two).
        strides: of every path.
        dilation_rate: base dilation, multiplied by each path's (k - 1) / 2.
        groups: groups of every path's convolution (capped at `filters`, as in timm).
        split_input: divide the input channels among the paths.
        rd_ratio, rd_channels, rd_divisor, min_rd_channels: attention width (see above).
    """

    def __init__(self, filters, kernel_size=(3, 5), strides=1, dilation_rate=1, groups=1, split_input=True,
                 rd_ratio=1.0 / 16, rd_channels=None, rd_divisor=8, min_rd_channels=None, **kwargs):
        super().__init__(**kwargs)
        kernel_size = list(kernel_size) if isinstance(kernel_size, (list, tuple)) else kernel_size
        if not isinstance(kernel_size, list) or len(kernel_size) < 2 or any(
                not isinstance(k, int) or k < 3 or k % 2 == 0 for k in kernel_size):
            raise ValueError(
                "`kernel_size` must be a list of at least two odd integers >= 3 (one per path); "
                f"received kernel_size={kernel_size!r}."
            )
        for value, what in ((filters, "filters"), (strides, "strides"), (dilation_rate, "dilation_rate"),
                            (groups, "groups"), (rd_divisor, "rd_divisor")):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{what}` must be a positive integer; received {what}={value!r}.")
        if rd_channels is None and not 0.0 < rd_ratio <= 1.0:
            raise ValueError(f"`rd_ratio` must be in (0, 1]; received rd_ratio={rd_ratio}.")
        groups_used = min(filters, groups)
        if filters % groups_used:
            raise ValueError(f"`groups` must divide `filters`; received groups={groups}, filters={filters}.")
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.dilation_rate = dilation_rate
        self.groups = groups
        self.split_input = split_input
        self.rd_ratio = rd_ratio
        self.rd_channels = rd_channels
        self.rd_divisor = rd_divisor
        self.min_rd_channels = min_rd_channels

    @property
    def num_paths(self):
        return len(self.kernel_size)

    def _dilations(self):
        return [self.dilation_rate * (k - 1) // 2 for k in self.kernel_size]

    def attention_channels(self):
        if self.rd_channels is not None:
            return self.rd_channels
        if self.min_rd_channels is not None:
            return max(int(self.filters * self.rd_ratio), self.min_rd_channels)
        return make_divisible(self.filters * self.rd_ratio, self.rd_divisor)

    def build(self, input_shape):
        in_channels = input_shape[-1]
        path_in = in_channels // self.num_paths if self.split_input else in_channels
        groups = min(self.filters, self.groups)
        if in_channels is None or (self.split_input and in_channels % self.num_paths) or path_in % groups:
            raise ValueError(
                f"The input channels must split evenly into {self.num_paths} paths (split_input="
                f"{self.split_input}) and then into groups={groups}; received input shape {tuple(input_shape)}."
            )
        bn_args = dict(momentum=0.9, epsilon=1e-5, dtype=self.dtype_policy)
        self.path_convs, self.path_bns = [], []
        for i, dilation in enumerate(self._dilations()):
            form = self._path_form(dilation)
            conv = GroupedConv2D(self.filters, 3, strides=form.conv_strides, dilation_rate=form.conv_dilation,
                                 groups=groups, padding=form.conv_padding,
                                 use_bias=False, kernel_initializer=kaiming_fan_out(), name=f"paths-{i}-conv",
                                 dtype=self.dtype_policy)
            bn = BatchNorm(name=f"paths-{i}-bn", **bn_args)
            conv.build((None, None, None, path_in))
            bn.build((None, None, None, self.filters))
            self.path_convs.append(conv)
            self.path_bns.append(bn)
        attn = self.attention_channels()
        self.fc_reduce = keras.layers.Dense(attn, use_bias=False, kernel_initializer=kaiming_fan_out(),
                                            name="attn-fc_reduce", dtype=self.dtype_policy)
        self.attn_bn = BatchNorm(name="attn-bn", **bn_args)
        self.fc_select = keras.layers.Dense(self.filters * self.num_paths, use_bias=False,
                                            kernel_initializer=kaiming_fan_out(), name="attn-fc_select",
                                            dtype=self.dtype_policy)
        self.fc_reduce.build((None, self.filters))
        self.attn_bn.build((None, attn))
        self.fc_select.build((None, attn))

    def _path_form(self, dilation):
        """How the path of this dilation runs PyTorch's 3x3 conv (stride s, dilation d, padding
        ((s - 1) + 2d) // 2 per side) with Keras convs, which cannot be both strided and dilated. Exactly:
        - s == 1: the conv with 'same' padding (that padding is 'same').
        - d == 1: pad, then the strided conv.
        - s == 2 dividing d: the strided taps only read every other pixel, and the padding (d) puts them on the
          even pixels: subsample first, then the stride-1 conv with dilation d / 2 and 'same' padding (no padded
          copy of the full-size map).
        - s > 2 dividing d: pad, subsample, then the stride-1 conv with dilation d / s.
        - otherwise: pad, the stride-1 conv, then subsample its output.
        """
        s = self.strides
        if s == 1:
            return _PathForm(1, dilation, "same", pad=0, subsample_input=1, subsample_output=1)
        pad = ((s - 1) + 2 * dilation) // 2
        if dilation == 1:
            return _PathForm(s, 1, "valid", pad, subsample_input=1, subsample_output=1)
        if dilation % s == 0:
            if s == 2:
                return _PathForm(1, dilation // 2, "same", pad=0, subsample_input=2, subsample_output=1)
            return _PathForm(1, dilation // s, "valid", pad, subsample_input=s, subsample_output=1)
        return _PathForm(1, dilation, "valid", pad, subsample_input=1, subsample_output=s)

    def _run_path(self, x, dilation, conv, bn, training):
        form = self._path_form(dilation)
        if form.pad:
            x = ops.pad(x, ((0, 0), (form.pad, form.pad), (form.pad, form.pad), (0, 0)))
        x = subsample(conv(subsample(x, form.subsample_input)), form.subsample_output)
        return ops.relu(bn(x, training=training))

    def call(self, inputs, training=None):
        dilations = self._dilations()
        if self.split_input:
            path_inputs = ops.split(inputs, self.num_paths, axis=-1)
        else:
            path_inputs = [inputs] * self.num_paths
        paths = [
            self._run_path(x, d, conv, bn, training)
            for x, d, conv, bn in zip(path_inputs, dilations, self.path_convs, self.path_bns)
        ]
        # Pooling of each path (in float32: a float16 sum over a feature map overflows), then their sum: the mean
        # is linear, and summing the small pooled vectors saves a pass over the feature map.
        pooled = [float32_spatial_mean(path) for path in paths]
        fused = ops.cast(sum(pooled[1:], pooled[0]), self.compute_dtype)
        hidden = ops.relu(self.attn_bn(self.fc_reduce(fused), training=training))
        logits = ops.reshape(ops.cast(self.fc_select(hidden), "float32"), (-1, self.num_paths, self.filters))
        weights = ops.cast(ops.softmax(logits, axis=1), self.compute_dtype)
        outputs = paths[0] * weights[:, 0, None, None, :]
        for i, path in enumerate(paths[1:], start=1):
            outputs = outputs + path * weights[:, i, None, None, :]
        return outputs

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        # Every path keeps the same spatial size: pad = (stride - 1 + 2d) // 2, effective kernel 2d + 1.
        d = self._dilations()[0]
        pad = ((self.strides - 1) + 2 * d) // 2

        def out(size):
            return None if size is None else (size + 2 * pad - (2 * d + 1)) // self.strides + 1

        return (batch, out(height), out(width), self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=list(self.kernel_size), strides=self.strides,
                      dilation_rate=self.dilation_rate, groups=self.groups, split_input=self.split_input,
                      rd_ratio=self.rd_ratio, rd_channels=self.rd_channels, rd_divisor=self.rd_divisor,
                      min_rd_channels=self.min_rd_channels)
        return config
