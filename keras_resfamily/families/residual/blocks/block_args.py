"""Family-specific block options (a spec's `block_args`) and the reference's 3x3 average pool."""

import keras


def block_options(block_args, allowed, defaults):
    """`block_args` ((key, value) pairs) over `defaults` as a dict; unknown keys are an error."""
    options = dict(defaults)
    for key, value in block_args:
        if key not in allowed:
            raise ValueError(f"Unknown block argument {key!r}; allowed: {sorted(allowed)}.")
        options[key] = value
    return options


def avg_pool_3x3(x, stride, name):
    """PyTorch AvgPool2d(3, stride, padding=1): the zero padding counts in the average."""
    x = keras.layers.ZeroPadding2D(1, name=f"{name}-pad")(x)
    return keras.layers.AveragePooling2D(3, stride, padding="valid", name=name)(x)
