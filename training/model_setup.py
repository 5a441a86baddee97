"""Model, optimizer, loss and metrics; call inside strategy.scope()."""

import keras

import keras_resfamily
from keras_resfamily.graph_walk import functional_model
from .schedules import make_schedule


def add_weight_decay(model, weight_decay):
    """Coupled L2 on conv / dense kernels (not BN, not biases): the PyTorch-SGD / TF-TPU convention.

    loss += weight_decay / 2 * sum(w ** 2), i.e. gradient += weight_decay * w.
    """
    if not weight_decay:
        return 0
    regularizer = keras.regularizers.L2(weight_decay / 2.0)
    count = 0
    for layer in model._flatten_layers(include_self=False):
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and not isinstance(layer, keras.layers.BatchNormalization):
            kernel.regularizer = regularizer
            count += 1
    return count


def synchronize_batchnorm(model):
    """Cross-replica batch statistics: BN reads `synchronized` at call time, so set it before fit."""
    layers = [l for l in model._flatten_layers(include_self=False) if isinstance(l, keras.layers.BatchNormalization)]
    for layer in layers:
        layer.synchronized = True
    return len(layers)


def build_model(cfg, num_classes, image_size):
    """keras_resfamily model returning float32 logits (the softmax lives in the loss)."""
    shape = (image_size, image_size, 3)
    if cfg.pretrained is None or num_classes == 1000:
        return keras_resfamily.create_model(
            cfg.model, weights=cfg.pretrained, input_shape=shape, classes=num_classes, classifier_activation=None,
            drop_path_rate=cfg.drop_path_rate, dropout_rate=cfg.dropout_rate)
    # Pretrained backbone with a new classifier for a different number of classes.
    backbone = keras_resfamily.create_model(cfg.model, weights=cfg.pretrained, include_top=False, pooling="avg",
                                            input_shape=shape, drop_path_rate=cfg.drop_path_rate)
    x = keras.layers.Dropout(cfg.dropout_rate)(backbone.output) if cfg.dropout_rate else backbone.output
    logits = keras.layers.Dense(num_classes, dtype="float32", name="fc")(x)
    return functional_model(backbone.input, logits, backbone.name)


def make_optimizer(cfg, steps_per_epoch):
    schedule = make_schedule(cfg, steps_per_epoch)
    ema = dict(use_ema=True, ema_momentum=cfg.ema_decay) if cfg.ema_decay else {}
    if cfg.optimizer == "sgd":
        return keras.optimizers.SGD(schedule, momentum=cfg.momentum, **ema)
    return keras.optimizers.AdamW(schedule, weight_decay=cfg.weight_decay, **ema)


def compile_model(model, cfg, steps_per_epoch):
    """Compile with label-smoothed cross-entropy on one-hot labels, top-1 / top-5 accuracy.

    Under mixed_float16, keras wraps the optimizer in a LossScaleOptimizer (dynamic loss scaling).
    """
    if cfg.optimizer == "sgd":
        add_weight_decay(model, cfg.weight_decay)  # AdamW applies decoupled decay itself
    if cfg.sync_batchnorm:
        synchronize_batchnorm(model)
    model.compile(
        optimizer=make_optimizer(cfg, steps_per_epoch),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=cfg.label_smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="top1"),
                 keras.metrics.TopKCategoricalAccuracy(k=5, name="top5")],
        jit_compile=cfg.jit_compile,
    )
    return model
