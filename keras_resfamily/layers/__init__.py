"""Custom Keras 3 layers (backend-agnostic, serializable)."""

from keras_resfamily.layers.adaptive_average_pooling import AdaptiveAveragePooling2D
from keras_resfamily.layers.batch_norm import BatchNorm
from keras_resfamily.layers.channel_shuffle import ChannelShuffle
from keras_resfamily.layers.densenet_layer import DenseNetLayer
from keras_resfamily.layers.dual_path_block import DualPathBlock
from keras_resfamily.layers.efficient_channel_attention import EfficientChannelAttention
from keras_resfamily.layers.gather_excite import GatherExcite
from keras_resfamily.layers.global_context import GlobalContext
from keras_resfamily.layers.grouped_conv2d import GroupedConv2D
from keras_resfamily.layers.mixed_conv2d import MixedConv2D
from keras_resfamily.layers.mixed_depthwise_conv2d import MixedDepthwiseConv2D
from keras_resfamily.layers.padded_max_pooling import PaddedMaxPooling2D
from keras_resfamily.layers.repvgg_block import RepVGGBlock
from keras_resfamily.layers.selective_kernel import SelectiveKernel
from keras_resfamily.layers.split_attention import SplitAttention
from keras_resfamily.layers.squeeze_excite import SqueezeExcite
from keras_resfamily.layers.stochastic_depth import StochasticDepth

__all__ = [
    "AdaptiveAveragePooling2D",
    "BatchNorm",
    "ChannelShuffle",
    "DenseNetLayer",
    "DualPathBlock",
    "EfficientChannelAttention",
    "GatherExcite",
    "GlobalContext",
    "GroupedConv2D",
    "MixedConv2D",
    "MixedDepthwiseConv2D",
    "PaddedMaxPooling2D",
    "RepVGGBlock",
    "SelectiveKernel",
    "SplitAttention",
    "SqueezeExcite",
    "StochasticDepth",
]
