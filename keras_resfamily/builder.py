"""The builder every family shares: inputs and argument checks, the family's trunk, the head, weights.

It knows no family: `spec.build_trunk` is the family's own builder (keras_resfamily/families/).
"""

import keras

from keras_resfamily import validation
from keras_resfamily.graph_walk import functional_model
from keras_resfamily.specs import get_spec

PREPROCESSING_LAYER = "preprocessing"  # include_preprocessing=True: export must not normalise again


def _model_inputs(input_tensor, input_shape):
    if input_tensor is None:
        inputs = keras.Input(shape=input_shape)
        return inputs, inputs
    if len(input_tensor.shape) != 4:
        raise ValueError(
            "`input_tensor` must be a 4D image batch (batch, height, width, channels). "
            f"Received: input_tensor with shape {tuple(input_tensor.shape)}"
        )
    if not keras.backend.is_keras_tensor(input_tensor):
        x = keras.Input(tensor=input_tensor, shape=input_shape)
        return x, x
    sources = keras.utils.get_source_inputs(input_tensor)
    # One input: the tensor itself, so that calling the model with one array matches its structure.
    return input_tensor, sources[0] if len(sources) == 1 else sources


def _resolve_variant(spec, weights, include_top, arguments):
    allowed = list(spec.variant_arguments())
    unknown = sorted(set(arguments) - set(allowed))
    if unknown:
        extra = f"; its own arguments are {', '.join(map(repr, allowed))}" if allowed else ""
        raise validation.UnexpectedArgumentError(
            f"{spec.name}() got an unexpected keyword argument {unknown[0]!r}{extra}.")
    return spec.resolve_variant(weights, include_top, **arguments)


def _normalization(x, spec, weights, input_shape):
    """In-model preprocessing: RGB in [0, 255] -> the weights' normalisation (keras.applications'
    `include_preprocessing`), one per-channel scale and offset with no weights."""
    from keras_resfamily.hub.registry import find_entry

    if input_shape[-1] != 3:
        raise ValueError("`include_preprocessing=True` normalises RGB images and needs 3 input channels. "
                         f"Received: input_shape={tuple(input_shape)}")
    # A published tag: its own mean/std, unless a variant argument changed what the row's inputs are
    # (GoogLeNet's transform_input=False takes the (x - 0.5) / 0.5 inputs the transform would make).
    entry = find_entry(spec, weights)
    row = get_spec(spec.name)
    mean, std = (entry.mean, entry.std) if entry and (spec.mean, spec.std) == (row.mean, row.std) else (spec.mean, spec.std)
    return keras.layers.Rescaling(scale=[1.0 / (255.0 * s) for s in std], offset=[-m / s for m, s in zip(mean, std)],
                                  name=PREPROCESSING_LAYER)(x)


def build_model(spec, **arguments):
    """Build the Keras model for `spec` (a spec or registered name). See the constructors."""
    return build_model_and_features(spec, **arguments)[0]


def build_model_and_features(
    spec,
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
    include_preprocessing=False,
    **variant_arguments,
):
    """(model, {"strideN": feature map}): the model and its trunk's feature maps, tensors of its graph
    (`keras.Model(model.input, features)` is its features_only view, sharing its weights)."""
    from keras_resfamily import hub  # the weights hub imports the builder's specs

    spec = get_spec(spec)
    if variant_arguments:
        spec, overrides = _resolve_variant(spec, weights, include_top and not features_only, variant_arguments)
        dropout_rate = overrides.get("dropout_rate", dropout_rate)
    if features_only:
        validation.check_features_only(pooling, classes, classifier_activation, dropout_rate)
    if classes is None:
        classes = spec.num_classes
    validation.check_data_format()
    pretrained = hub.is_pretrained(weights, spec)
    validation.check_classes(classes, include_top, pretrained)
    validation.check_pooling(pooling)
    validation.check_classifier_activation(classifier_activation, include_top, pretrained)
    validation.check_rate(drop_path_rate, "drop_path_rate")
    validation.check_rate(dropout_rate, "dropout_rate")
    if input_tensor is not None and input_shape is None:
        input_shape = tuple(input_tensor.shape[1:])
    input_shape = validation.check_input_shape(input_shape, spec.min_size, pretrained)
    x, inputs = _model_inputs(input_tensor, input_shape)
    if include_preprocessing:
        x = _normalization(x, spec, weights, input_shape)

    x, taps = spec.build_trunk(x, drop_path_rate)
    # Families may pass other maps (auxiliary heads' inputs) to `build_head` in `taps`.
    features = {k: v for k, v in taps.items() if k.startswith("stride")}
    name = name or spec.keras_name
    if features_only:
        model = functional_model(inputs, features, name)
    else:
        if include_top:
            x = spec.build_head(x, taps, classes, classifier_activation, dropout_rate)
        elif pooling == "avg":
            # Pooling in float32: a float16 mean over a large feature map can overflow.
            x = keras.layers.GlobalAveragePooling2D(name="global_pool", dtype="float32")(x)
        elif pooling == "max":
            x = keras.layers.GlobalMaxPooling2D(name="global_pool", dtype="float32")(x)
        model = functional_model(inputs, x, name)
    if weights is not None:
        hub.load_weights(model, spec, weights, include_top=include_top and not features_only)
    return model, features
