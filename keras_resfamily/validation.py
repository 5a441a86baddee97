"""Argument checks with keras.applications' wording: each error says what was received and what is allowed."""

import keras

POOLING_OPTIONS = (None, "avg", "max")


class UnexpectedArgumentError(TypeError, ValueError):
    """A constructor argument the model does not have (e.g. `alpha` for a ResNet): a TypeError as Python
    raises for any function, and a ValueError as keras.applications raises for bad arguments."""


def check_pooling(pooling):
    if pooling not in POOLING_OPTIONS:
        raise ValueError(
            "The `pooling` argument should be one of None (4D feature map), 'avg' or 'max'. "
            f"Received: pooling={pooling!r}"
        )


def check_classes(classes, include_top, pretrained):
    if not isinstance(classes, int) or isinstance(classes, bool) or classes < 1:
        raise ValueError(f"`classes` must be a positive integer. Received: classes={classes!r}")
    if pretrained and include_top and classes != 1000:
        raise ValueError(
            "If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000. "
            f"Received classes={classes}. Use `include_top=False` to put your own classifier on "
            "the pretrained backbone."
        )


def check_classifier_activation(activation, include_top, pretrained):
    if pretrained and include_top and activation not in (None, "softmax"):
        raise ValueError(
            "Only `None` and `softmax` activations are allowed for the `classifier_activation` "
            "argument when using pretrained weights, with `include_top=True`; Received: "
            f"classifier_activation={activation!r}"
        )
    if activation is not None:
        keras.activations.get(activation)  # raises for unknown names


def check_features_only(pooling, classes, classifier_activation, dropout_rate):
    """`features_only=True` has no head: refuse head arguments instead of ignoring them."""
    given = dict(pooling=pooling, classes=classes, classifier_activation=classifier_activation,
                 dropout_rate=dropout_rate)
    defaults = dict(pooling=None, classes=None, classifier_activation="softmax", dropout_rate=0.0)
    for argument, value in given.items():
        if value != defaults[argument]:
            raise ValueError(
                "With `features_only=True` the model returns the stage feature maps and has no "
                "pooling or classifier; leave `pooling`, `classes`, `classifier_activation` and "
                f"`dropout_rate` at their defaults. Received: {argument}={value!r}"
            )


def check_rate(value, what):
    if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"`{what}` must be a float in [0, 1). Received: {what}={value!r}")


def check_data_format():
    if keras.config.image_data_format() != "channels_last":
        raise ValueError(
            "keras_resfamily models are built for image_data_format='channels_last'. Received: "
            f"keras.config.image_data_format()={keras.config.image_data_format()!r}"
        )


def check_input_shape(input_shape, min_size, pretrained):
    """Validate (height, width, channels); returns it as a tuple. None -> (None, None, 3)."""
    if input_shape is None:
        return (None, None, 3)
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3 or not all(
        d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in input_shape
    ):
        raise ValueError(
            "`input_shape` must be a tuple of three integers (height, width, channels) in "
            f"channels_last format; height and width may be None. Received: input_shape={input_shape!r}"
        )
    height, width, channels = input_shape
    if channels is None or channels < 1:
        raise ValueError(f"The number of input channels must be a positive integer. Received: input_shape={input_shape}")
    if pretrained and channels != 3:
        raise ValueError(
            "When loading pretrained weights the input must have 3 channels; "
            f"Received `input_shape={tuple(input_shape)}`"
        )
    if any(d is not None and d < min_size for d in (height, width)):
        raise ValueError(
            f"Input size must be at least {min_size}x{min_size}; Received: input_shape={tuple(input_shape)}"
        )
    return tuple(input_shape)


# Backends whose `keras.remat` recomputes the forward in the backward pass (numpy has no gradients).
REMAT_BACKENDS = ("tensorflow", "jax", "torch")


def check_remat(remat):
    """`remat=True` (gradient checkpointing) needs keras.remat: Keras >= 3.9 on a differentiable backend."""
    if not isinstance(remat, bool):
        raise ValueError(f"`remat` must be True or False. Received: remat={remat!r}")
    if not remat:
        return
    if not hasattr(keras, "remat"):
        raise ValueError("`remat=True` needs `keras.remat` (Keras 3.9 or newer). "
                         f"Received: remat=True with Keras {keras.__version__}")
    if keras.backend.backend() not in REMAT_BACKENDS:
        raise ValueError(f"`remat=True` needs one of the backends {', '.join(REMAT_BACKENDS)}. "
                         f"Received: remat=True with backend {keras.backend.backend()!r}")
