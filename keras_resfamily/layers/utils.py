"""Small numeric helpers shared by the layers."""

from keras import ops


def make_divisible(value, divisor=8, min_value=None, round_limit=0.9):
    """Round `value` to a multiple of `divisor`, never dropping below `round_limit * value`.

    The rounding rule of the reference implementations (timm / TF MobileNet), so that channel
    counts equal theirs.
    """
    min_value = min_value or divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < round_limit * value:
        rounded += divisor
    return rounded


def float32_spatial_mean(x):
    """Mean over H, W (NHWC) accumulated in float32: a float16 sum over a feature map overflows."""
    return ops.mean(ops.cast(x, "float32"), axis=(1, 2))
