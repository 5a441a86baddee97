"""One public constructor per registered spec, with its docstring, generated from the registry."""

import inspect
import textwrap

from keras_resfamily.builder import build_model
from keras_resfamily.validation import UnexpectedArgumentError
from keras_resfamily.specs import all_specs, get_spec

_DOC = """Instantiates the {name} architecture ({family}).

{summary}.
Reference: {paper}.
{reference_line}{note_line}
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
    include_preprocessing: the model takes RGB images in [0, 255] and normalises them itself with
        the weights' mean and std (default: it takes inputs already normalised by `preprocess_input`).
{variant_docs}
Returns:
    A `keras.Model`.
"""

COMMON_ARGUMENTS = dict(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=None,
    classifier_activation="softmax", name=None, drop_path_rate=0.0, dropout_rate=0.0, features_only=False,
    include_preprocessing=False,
)


def _signature(spec):
    base = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default)
            for name, default in COMMON_ARGUMENTS.items()]
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
             for name, (default, _) in spec.variant_arguments().items()]
    return inspect.Signature(base + extra)


def _make_constructor(spec):
    signature = _signature(spec)

    def constructor(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:  # unknown or repeated arguments, named like Python does
            raise UnexpectedArgumentError(f"{spec.name}() {error}") from None
        bound.apply_defaults()
        return build_model(spec, **bound.arguments)

    constructor.__name__ = constructor.__qualname__ = spec.name
    constructor.__module__ = "keras_resfamily"
    constructor.__signature__ = signature
    reference_line = f"Equivalent {spec.reference_source} model: `{spec.reference}`.\n" if spec.reference else ""
    variant_docs = "".join(f"    {name}: {doc} Default {default!r}.\n"
                           for name, (default, doc) in spec.variant_arguments().items())
    note_line = textwrap.fill(spec.note, 100) + "\n" if spec.note else ""
    constructor.__doc__ = _DOC.format(
        name=spec.name, family=spec.family, summary=spec.summary(), paper=spec.paper or "-",
        reference_line=reference_line, note_line=note_line, min_size=spec.min_size, size=spec.default_size,
        classes=spec.num_classes, keras_name=spec.keras_name, variant_docs=variant_docs,
    )
    return constructor


def create_model(name, **kwargs):
    """Build a registered model by name: its constructor name or reference name (case-insensitive), see `get_spec`."""
    return build_model(get_spec(name), **kwargs)


CONSTRUCTORS = {spec.name: _make_constructor(spec) for spec in all_specs()}
