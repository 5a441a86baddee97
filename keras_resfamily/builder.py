"""The one generic builder: spec -> stem -> stages -> head, with keras.applications arguments."""

import dataclasses

import keras

from keras_resfamily import validation
from keras_resfamily.blocks import BLOCKS, BlockConfig
from keras_resfamily.blocks.common import batch_norm, relu
from keras_resfamily.graph_walk import functional_model
from keras_resfamily.layouts import LAYOUTS, block_name
from keras_resfamily.specs import ModelSpec, get_spec
from keras_resfamily.stems import STEMS, stem_stride


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
    return input_tensor, keras.utils.get_source_inputs(input_tensor)


def _stages(x, spec: ModelSpec, drop_path_rate):
    """Residual stages; returns the output and the stage features keyed by stride."""
    layout = LAYOUTS[spec.layout]
    block_fn = BLOCKS[spec.block]
    config = BlockConfig(
        cardinality=spec.cardinality,
        base_width=spec.base_width,
        avg_down=spec.avg_down,
        attention=spec.attention,
        attention_args=spec.attention_args,
        block_args=spec.block_args,
    )
    total = sum(spec.depths)
    index = 0
    stride = stem_stride(spec)
    features = {}
    for stage, (depth, planes, first_stride) in enumerate(zip(spec.depths, spec.widths, spec.strides)):
        for block in range(depth):
            # Linearly increasing drop-path rate over all blocks (timm / Huang et al.).
            rate = drop_path_rate * index / max(total - 1, 1)
            x = block_fn(
                x, planes, first_stride if block == 0 else 1,
                dataclasses.replace(config, stage_index=stage, block_index=block),
                block_name(layout, stage, block), rate,
            )
            index += 1
        stride *= first_stride
        features[f"stride{stride}"] = x
    if layout.final_norm:
        x = relu(batch_norm(x, layout.final_norm), f"{layout.final_norm}-act")
        features[f"stride{stride}"] = x
    return x, features


def build_model(
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
):
    """Build the Keras model for `spec` (a ModelSpec or registered name). See the constructors."""
    from keras_resfamily import hub  # the weights hub imports the builder's specs

    spec = get_spec(spec)
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

    x = STEMS[spec.stem](x, spec)
    x, features = _stages(x, spec, drop_path_rate)
    layout = LAYOUTS[spec.layout]
    name = name or spec.keras_name
    if features_only:
        model = functional_model(inputs, features, name)
    else:
        # Pooling in float32: a float16 mean over a large feature map can overflow.
        if include_top:
            x = keras.layers.GlobalAveragePooling2D(name="global_pool", dtype="float32")(x)
            if dropout_rate:
                x = keras.layers.Dropout(dropout_rate, name=layout.dropout)(x)
            # float32 classifier: logits / probabilities stay float32 under mixed precision.
            x = keras.layers.Dense(classes, activation=classifier_activation, name=layout.classifier,
                                   dtype="float32")(x)
        elif pooling == "avg":
            x = keras.layers.GlobalAveragePooling2D(name="global_pool", dtype="float32")(x)
        elif pooling == "max":
            x = keras.layers.GlobalMaxPooling2D(name="global_pool", dtype="float32")(x)
        model = functional_model(inputs, x, name)
    if weights is not None:
        hub.load_weights(model, spec, weights, include_top=include_top and not features_only)
    return model
