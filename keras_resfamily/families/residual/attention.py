"""Attention modules by key: the `attention` field of a spec names one of these factories.

Each factory takes the channel count of the tensor it gates, the layer name and the spec's
`attention_args`, and returns a Keras layer mapping (B, H, W, C) -> (B, H, W, C).
"""

from keras_resfamily.layers import EfficientChannelAttention, GatherExcite, GlobalContext, SqueezeExcite

ATTENTION = {
    "se": lambda channels, name, **args: SqueezeExcite(name=name, **args),
    "eca": lambda channels, name, **args: EfficientChannelAttention(name=name, **args),
    # GCNet global context, add fusion by default (== timm "gca").
    "gc": lambda channels, name, **args: GlobalContext(name=name, **args),
    "ge": lambda channels, name, **args: GatherExcite(name=name, **args),
}


def make_attention(key, channels, name, args=()):
    """The attention layer for `key` (None -> None)."""
    if key is None:
        return None
    if key not in ATTENTION:
        raise ValueError(f"Unknown attention key {key!r}; allowed: {sorted(ATTENTION)}")
    return ATTENTION[key](channels, name, **dict(args))
