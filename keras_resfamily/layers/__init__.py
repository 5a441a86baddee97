"""Custom Keras 3 layers (backend-agnostic, serializable)."""

from keras_resfamily.layers.efficient_channel_attention import EfficientChannelAttention
from keras_resfamily.layers.padded_max_pooling import PaddedMaxPooling2D
from keras_resfamily.layers.squeeze_excite import SqueezeExcite
from keras_resfamily.layers.stochastic_depth import StochasticDepth

__all__ = [
    "EfficientChannelAttention",
    "PaddedMaxPooling2D",
    "SqueezeExcite",
    "StochasticDepth",
]
