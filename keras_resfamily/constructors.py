"""One public constructor per registered spec, with its docstring, generated from the registry."""

from keras_resfamily.builder import build_model
from keras_resfamily.specs import all_specs, get_spec

_DOC = """Instantiates the {name} architecture ({family}).

{summary}.
Reference: {paper}.
{reference_line}
Args:
    include_top: whether to include the global-pool + fully-connected classifier.
    weights: `None` (random initialization), `"imagenet"` or a weight tag (pretrained weights,
        see `keras_resfamily.list_weights("{name}")`), or a path to a `.weights.h5` /
        `.safetensors` file.
    input_tensor: optional Keras tensor (output of `keras.Input()`) to use as the image input.
    input_shape: optional `(height, width, channels)`; height and width may be `None`. Default
        `(None, None, 3)`; at least {min_size}x{min_size}. Nominal resolution: {size}x{size}.
    pooling: with `include_top=False`: `None` (4D feature map), `"avg"` or `"max"`.
    classes: number of classes of the classifier (default `None`: {classes}).
    classifier_activation: activation of the classifier (`None` returns logits).
    name: model name (default `"{keras_name}"`).
    drop_path_rate: stochastic depth rate of the last block (linear schedule over blocks).
    dropout_rate: dropout before the classifier.
    features_only: return a model whose output is a dict of stage outputs keyed
        `"stride4"` ... `"stride32"`; it has no head, so `pooling`, `classes`,
        `classifier_activation` and `dropout_rate` must stay at their defaults.

Returns:
    A `keras.Model`.
"""


def _make_constructor(spec):
    def constructor(
        include_top=True,
        weights=None,
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=None,
        classifier_activation="softmax",
        name=None,
        drop_path_rate=0.0,
        dropout_rate=0.0,
        features_only=False,
    ):
        return build_model(
            spec, include_top=include_top, weights=weights, input_tensor=input_tensor,
            input_shape=input_shape, pooling=pooling, classes=classes,
            classifier_activation=classifier_activation, name=name, drop_path_rate=drop_path_rate,
            dropout_rate=dropout_rate, features_only=features_only,
        )

    constructor.__name__ = constructor.__qualname__ = spec.name
    constructor.__module__ = "keras_resfamily"
    reference_line = f"Equivalent timm model: `{spec.reference}`.\n" if spec.reference else ""
    constructor.__doc__ = _DOC.format(
        name=spec.name, family=spec.family, summary=spec.summary(), paper=spec.paper or "-",
        reference_line=reference_line, min_size=spec.min_size, size=spec.default_size,
        classes=spec.num_classes, keras_name=spec.keras_name,
    )
    return constructor


def create_model(name, **kwargs):
    """Build a registered model by name (constructor name, case-insensitive, or timm name)."""
    return build_model(get_spec(name), **kwargs)


CONSTRUCTORS = {spec.name: _make_constructor(spec) for spec in all_specs()}
