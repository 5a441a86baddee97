"""keras.applications' own constructor arguments (`MobileNet(alpha, depth_multiplier, dropout)`,
`MobileNetV2(alpha)`, `MobileNetV3Large/Small(alpha, minimalistic)`) resolved to rows.

A row that keras.applications can build states its arguments (`DepthwiseSpec.keras_arguments`,
e.g. (("alpha", 0.75), ("minimalistic", False))). Called with other values, a constructor builds the
registered row with those values (it has that row's weights); a combination no row has is built from
its series' factory (the function its rows module registers rows with) and has no pretrained weights.
"""

import os

from keras_resfamily import specs

# series (the rows' family label) -> factory(**keras arguments) -> an unregistered spec
SERIES = {}

DOCS = {
    "alpha": "width multiplier (keras.applications' `alpha`): every layer's channels are scaled by it and "
             "rounded to a multiple of 8; a value no registered row has builds without pretrained weights.",
    "depth_multiplier": "channels per input channel of the depthwise convolutions (keras.applications' "
                        "MobileNet); pretrained weights exist for 1 only.",
    "minimalistic": "MobileNetV3's minimalistic variant (ReLU, 3x3 depthwise kernels, no squeeze-excite).",
    "dropout": "keras.applications' MobileNet name for `dropout_rate` (None: `dropout_rate` applies).",
}
BUILD_ALIASES = {"dropout": "dropout_rate"}  # arguments passed on to the builder, not selecting a row


def register_series(family, factory):
    SERIES[family] = factory


def variant_arguments(spec):
    return {name: (value, DOCS[name]) for name, value in spec.keras_arguments}


def _check(arguments):
    alpha = arguments.get("alpha")
    if alpha is not None and (isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha <= 0):
        raise ValueError(f"`alpha` must be a positive number. Received: alpha={alpha!r}")
    multiplier = arguments.get("depth_multiplier")
    if multiplier is not None and (isinstance(multiplier, bool) or not isinstance(multiplier, int) or multiplier < 1):
        raise ValueError(f"`depth_multiplier` must be a positive integer. Received: depth_multiplier={multiplier!r}")
    minimalistic = arguments.get("minimalistic")
    if minimalistic is not None and not isinstance(minimalistic, bool):
        raise ValueError(f"`minimalistic` must be True or False. Received: minimalistic={minimalistic!r}")


def _selecting(spec_or_arguments):
    items = spec_or_arguments.keras_arguments if hasattr(spec_or_arguments, "keras_arguments") else spec_or_arguments
    return {name: value for name, value in dict(items).items() if name not in BUILD_ALIASES}


def _asks_for_pretrained(weights):
    return isinstance(weights, str) and not os.path.isfile(weights)


def resolve(spec, weights, **arguments):
    """(spec, builder overrides) for `arguments`; see the module docstring."""
    overrides = {BUILD_ALIASES[name]: arguments.pop(name) for name in list(arguments)
                 if name in BUILD_ALIASES and arguments[name] is not None}
    arguments = {name: value for name, value in arguments.items() if name not in BUILD_ALIASES}
    _check(arguments)
    wanted = dict(_selecting(spec), **arguments)
    if wanted == _selecting(spec):
        return spec, overrides
    series = [row for row in specs.all_specs() if row.family == spec.family and getattr(row, "keras_arguments", ())]
    for row in series:
        if _selecting(row) == wanted:
            return row, overrides
    if _asks_for_pretrained(weights):
        changed = next(name for name in wanted if wanted[name] != _selecting(spec)[name])
        published = sorted({_selecting(row)[changed] for row in series if row.reference
                            and all(v == wanted[k] for k, v in _selecting(row).items() if k != changed)})
        allowed = ", ".join(f"`{value}`" for value in published) or "none"
        raise ValueError(
            f"If imagenet weights are being loaded, {changed} can be one of {allowed} only (with "
            f"{', '.join(f'{k}={v!r}' for k, v in wanted.items() if k != changed) or 'these arguments'}). "
            f"Received: {changed}={wanted[changed]!r}"
        )
    return SERIES[spec.family](**wanted), overrides
