"""The Keras-layer contract every custom layer must honour (used by the tests/test_layers_*.py modules)."""

import numpy as np

import keras


def strided_slices(make_layer, input_shape):
    """The StridedSlice ops of the layer's inference graph that skip elements (a stride > 1): TensorFlow's CPU
    kernel for them is 3-10x slower than the 1x1 pooling `layers.utils.subsample` uses."""
    import tensorflow as tf

    layer = make_layer()
    graph = tf.function(lambda x: layer(x, training=False)).get_concrete_function(
        tf.TensorSpec((2,) + tuple(input_shape))).graph
    return [op for op in graph.get_operations()
            if op.type == "StridedSlice" and (tf.get_static_value(op.inputs[3]) > 1).any()]


def check_layer_contract(make_layer, input_shape, expected_weights, rng=np.random.default_rng(0)):
    """Config round trip, weights after build, symbolic shape, one fit step, mixed_float16 behaviour.

    Args:
        make_layer: callable returning a fresh, unbuilt layer.
        input_shape: per-sample input shape (H, W, C).
        expected_weights: number of variables the built layer owns.
    """
    layer = make_layer()
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer) and restored.get_config() == config

    layer.build((None,) + input_shape)
    assert len(layer.weights) == expected_weights, [w.path for w in layer.weights]

    inputs = keras.Input(input_shape)
    symbolic = make_layer()(inputs)
    assert tuple(symbolic.shape) == tuple(layer.compute_output_shape((None,) + input_shape))

    images = rng.normal(size=(2,) + input_shape).astype("float32")
    _one_fit_step(make_layer, input_shape, images, own_weights=expected_weights > 0)

    keras.config.set_dtype_policy("mixed_float16")
    try:
        mixed = make_layer()
        outputs = mixed(images, training=True)
        assert keras.backend.standardize_dtype(outputs.dtype) == "float16"
        assert all(keras.backend.standardize_dtype(v.dtype) == "float32" for v in mixed.weights)
        assert np.all(np.isfinite(np.asarray(keras.ops.cast(outputs, "float32"))))
        _check_finite_gradients(mixed, images)
    finally:
        keras.config.set_dtype_policy("float32")


def _one_fit_step(make_layer, input_shape, images, own_weights=True):
    inputs = keras.Input(input_shape)
    x = make_layer()(inputs)
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    before = [np.array(w) for w in model.trainable_weights]
    history = model.fit(images, np.array([0, 2]), epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    changed = [not np.array_equal(b, np.array(w)) for b, w in zip(before, model.trainable_weights)]
    assert not own_weights or any(changed[:-2]), "the layer's own weights did not train"


def _check_finite_gradients(layer, images):
    import tensorflow as tf  # gradients through the TensorFlow backend the suite runs on

    x = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(tf.cast(layer(x, training=True), "float32") ** 2)
    # A weightless layer (ChannelShuffle): the gradient with respect to its input.
    grads = tape.gradient(loss, [v.value for v in layer.trainable_weights] or [x])
    assert grads and all(g is not None and np.all(np.isfinite(np.asarray(g))) for g in grads)
