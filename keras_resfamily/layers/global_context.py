"""Global context block (Cao et al., GCNet: Non-local Networks Meet Squeeze-Excitation Networks, 2019)."""

import keras
from keras import ops

from keras_resfamily.layers.utils import float32_spatial_mean, make_divisible


@keras.saving.register_keras_serializable(package="keras_resfamily")
class GlobalContext(keras.layers.Layer):
    """Attention-pooled global context, transformed by a bottleneck MLP and fused into every position.

    Matches timm's `GlobalContext`: the context is the softmax(`conv_attn`(x))-weighted sum of the
    positions (or their mean when `use_attn=False`); each fusion MLP is fc1 -> LayerNorm -> ReLU
    -> fc2 (`mlp_add.*`, `mlp_scale.*`); `fuse_add` adds its output to every position,
    `fuse_scale` gates the channels with its sigmoid. The softmax and the pooled sums are computed
    in float32 (a float16 sum over a feature map overflows).

    Args:
        use_attn: attention pooling (GCNet) instead of average pooling.
        fuse_add: add the transformed context (the paper's default fusion).
        fuse_scale: multiply by the sigmoid of the transformed context (SE-like fusion).
        rd_ratio: hidden width of the MLPs relative to the channels.
        rd_channels: explicit hidden width; overrides `rd_ratio`.
        rd_divisor: hidden width is rounded to a multiple of this.
        epsilon: LayerNorm epsilon (timm's LayerNorm2d: 1e-6).
    """

    def __init__(self, use_attn=True, fuse_add=True, fuse_scale=False, rd_ratio=1.0 / 8, rd_channels=None,
                 rd_divisor=1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        if not (fuse_add or fuse_scale):
            raise ValueError("GlobalContext needs at least one fusion; received fuse_add=False, fuse_scale=False")
        if rd_channels is None and not 0.0 < rd_ratio <= 1.0:
            raise ValueError(f"`rd_ratio` must be in (0, 1]; received rd_ratio={rd_ratio}")
        if rd_channels is not None and (not isinstance(rd_channels, int) or rd_channels < 1):
            raise ValueError(f"`rd_channels` must be a positive integer or None; received rd_channels={rd_channels!r}")
        self.use_attn = use_attn
        self.fuse_add = fuse_add
        self.fuse_scale = fuse_scale
        self.rd_ratio = rd_ratio
        self.rd_channels = rd_channels
        self.rd_divisor = rd_divisor
        self.epsilon = epsilon

    def _mlp(self, prefix, channels, hidden, zero_last):
        fc1 = keras.layers.Dense(hidden, name=f"{prefix}-fc1", dtype=self.dtype_policy)
        norm = keras.layers.LayerNormalization(epsilon=self.epsilon, name=f"{prefix}-norm", dtype=self.dtype_policy)
        fc2 = keras.layers.Dense(channels, kernel_initializer="zeros" if zero_last else "glorot_uniform",
                                 name=f"{prefix}-fc2", dtype=self.dtype_policy)
        fc1.build((None, channels))
        norm.build((None, hidden))
        fc2.build((None, hidden))
        return fc1, norm, fc2

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"GlobalContext needs a known channel count; received input_shape={tuple(input_shape)}")
        hidden = self.rd_channels or make_divisible(channels * self.rd_ratio, self.rd_divisor, round_limit=0.0)
        self.conv_attn = None
        if self.use_attn:  # a 1x1 conv to one channel == a Dense on the channel axis
            self.conv_attn = keras.layers.Dense(
                1, kernel_initializer=keras.initializers.VarianceScaling(2.0, mode="fan_in"),
                name="conv_attn", dtype=self.dtype_policy)
            self.conv_attn.build(tuple(input_shape))
        # timm zero-initialises the additive MLP's last layer: the block starts as the identity.
        self.mlp_add = self._mlp("mlp_add", channels, hidden, zero_last=True) if self.fuse_add else None
        self.mlp_scale = self._mlp("mlp_scale", channels, hidden, zero_last=False) if self.fuse_scale else None

    def _context(self, inputs):
        if self.conv_attn is None:
            return float32_spatial_mean(inputs)
        logits = ops.cast(self.conv_attn(inputs), "float32")  # (B, H, W, 1)
        batch = ops.shape(inputs)[0]
        weights = ops.softmax(ops.reshape(logits, (batch, -1)), axis=-1)  # over all H * W positions
        values = ops.reshape(ops.cast(inputs, "float32"), (batch, -1, inputs.shape[-1]))
        return ops.einsum("bn,bnc->bc", weights, values)

    @staticmethod
    def _run_mlp(mlp, context):
        fc1, norm, fc2 = mlp
        return fc2(ops.relu(norm(fc1(context))))

    def call(self, inputs):
        context = ops.cast(self._context(inputs), self.compute_dtype)
        outputs = inputs
        if self.mlp_scale is not None:
            outputs = outputs * ops.sigmoid(self._run_mlp(self.mlp_scale, context))[:, None, None, :]
        if self.mlp_add is not None:
            outputs = outputs + self._run_mlp(self.mlp_add, context)[:, None, None, :]
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(use_attn=self.use_attn, fuse_add=self.fuse_add, fuse_scale=self.fuse_scale,
                      rd_ratio=self.rd_ratio, rd_channels=self.rd_channels, rd_divisor=self.rd_divisor,
                      epsilon=self.epsilon)
        return config
