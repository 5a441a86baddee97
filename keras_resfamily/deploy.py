"""Inference ("deploy") form of a model: RepVGG blocks re-parameterised, BatchNorm folded into convs.

Both rewrites are exact in inference mode: a BatchNormalization with frozen statistics is an affine
map per channel, so `BN(conv(x))` is one convolution with a bias, and a RepVGG block's three
branches sum to a single 3x3 convolution. The deploy model is for inference and export (it has no
BatchNormalization left to train); keep the training model for fine-tuning.
"""

import numpy as np

import keras

from keras_resfamily.layers.batch_norm import BatchNorm
from keras_resfamily.layers.cpu_kernels import runs_on_eigen_cpu_kernels
from keras_resfamily.layers.repvgg_block import RepVGGBlock, fold_batch_norm

FOLDABLE_CONVS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)


def _producer(tensor):
    return tensor._keras_history.operation


def _consumers(model):
    """id(tensor) -> number of times the graph uses it (as a layer input or a model output)."""
    uses = {}
    for nodes in model._nodes_by_depth.values():
        for node in nodes:
            for tensor in node.input_tensors:
                uses[id(tensor)] = uses.get(id(tensor), 0) + 1
    for tensor in model.outputs:
        uses[id(tensor)] = uses.get(id(tensor), 0) + 1
    return uses


def _foldable_pairs(model):
    """{batch-norm layer: conv layer} for every BN whose input is the un-activated output of a conv used nowhere else."""
    uses = _consumers(model)
    pairs = {}
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization) or len(layer._inbound_nodes) != 1:
            continue
        inputs = layer._inbound_nodes[0].input_tensors
        if len(inputs) != 1 or layer.axis not in (-1, len(inputs[0].shape) - 1):
            continue
        conv = _producer(inputs[0])
        if (
            isinstance(conv, FOLDABLE_CONVS)
            and len(conv._inbound_nodes) == 1
            and conv.activation is keras.activations.linear
            and uses.get(id(inputs[0])) == 1
        ):
            pairs[layer] = conv
    return pairs


def _folded_conv_weights(conv, bn):
    kernel = np.asarray(conv.kernel, "float64")
    bias = np.asarray(conv.bias, "float64") if conv.use_bias else None
    if isinstance(conv, keras.layers.DepthwiseConv2D):  # (H, W, C, M): output channel c * M + m
        h, w, channels, multiplier = kernel.shape
        kernel, bias = fold_batch_norm(kernel.reshape(h, w, channels * multiplier), bn, bias)
        return [kernel.reshape(h, w, channels, multiplier).astype("float32"), bias.astype("float32")]
    kernel, bias = fold_batch_norm(kernel, bn, bias)
    return [kernel.astype("float32"), bias.astype("float32")]


def fold(model):
    """The inference form of any registered model: `reparameterize` where it has something to fold.

    The one call for every family (export's `--fold` uses it): a model with no RepVGG block and no
    Conv2D / DepthwiseConv2D -> BatchNormalization pair (SqueezeNet has no BatchNormalization) is
    returned as it is, so folding is idempotent. BatchNormalizations that follow no plain convolution
    stay (pre-activation BNs, and those inside DenseNet / DPN / selective-kernel / split-attention
    layers and after MixNet's mixed convolutions); their outputs are unchanged either way. Without oneDNN,
    BatchNorms after a zero-padded depthwise conv stay too: they run the pair faster (see `BatchNorm`).

    Raises:
        ValueError: if `model` is not a functional Keras model.
    """
    _check_functional(model, "fold")
    pairs = {bn: conv for bn, conv in _foldable_pairs(model).items() if not _pads_inside_the_conv(bn, conv)}
    if not pairs and not _repvgg_blocks(model):
        return model
    return _deploy_form(model, pairs)


def _pads_inside_the_conv(bn, conv):
    """True for a pair `BatchNorm` runs faster than a folded conv would: without oneDNN it moves the zero pad
    before a depthwise conv into the conv, which a conv with a bias cannot take (oneDNN aborts on that form)."""
    return (keras.backend.backend() == "tensorflow" and runs_on_eigen_cpu_kernels()
            and isinstance(bn, BatchNorm) and isinstance(conv, keras.layers.DepthwiseConv2D)
            and isinstance(_producer(conv._inbound_nodes[0].input_tensors[0]), keras.layers.ZeroPadding2D))


def _check_functional(model, function):
    if not isinstance(model, keras.Model) or not hasattr(model, "_nodes_by_depth"):
        raise ValueError(
            f"{function} expects a functional keras.Model (such as a keras_resfamily model); "
            f"received {type(model).__name__}"
        )


def _repvgg_blocks(model):
    return [layer for layer in model.layers if isinstance(layer, RepVGGBlock) and not layer.deploy]


def reparameterize(model):
    """The deploy form of a functional `model`: same inference outputs, fewer layers and parameters.

    Every `RepVGGBlock` becomes one 3x3 conv with bias (`<block>/reparam_conv`, timm's deploy
    name), and every BatchNormalization that directly follows a Conv2D / DepthwiseConv2D (whose
    output feeds nothing else) is folded into that conv, which keeps its name and gains a bias.
    All other layers are copied with their weights; the input model is not modified.

    Raises:
        ValueError: if `model` is not a functional Keras model, or has nothing to fold.
    """
    _check_functional(model, "reparameterize")
    pairs = _foldable_pairs(model)
    if not pairs and not _repvgg_blocks(model):
        raise ValueError(
            f"Nothing to re-parameterise in model {model.name!r}: it has no training-form RepVGGBlock "
            "and no Conv2D / DepthwiseConv2D directly followed by BatchNormalization (is it already "
            "in deploy form?)."
        )
    return _deploy_form(model, pairs)


def _deploy_form(model, pairs):
    """`model` cloned with RepVGG blocks re-parameterised and each {BN: conv} of `pairs` folded into the conv."""
    folded_convs = {id(conv): bn for bn, conv in pairs.items()}
    folded_norms = {id(bn) for bn in pairs}
    clones, prepared = {}, set()  # clones by id of the original layer; names whose weights are set

    def clone_layer(layer):
        if id(layer) in clones:
            return clones[id(layer)]
        if id(layer) in folded_norms:
            clone = layer  # never called: `call_layer` passes the folded conv's output through
        elif isinstance(layer, RepVGGBlock) and not layer.deploy:
            clone = layer.reparameterize()
            prepared.add(layer.name)
        elif id(layer) in folded_convs:
            config = layer.get_config()
            config["use_bias"] = True
            clone = type(layer).from_config(config)
            clone.build(layer._inbound_nodes[0].input_tensors[0].shape)
            clone.set_weights(_folded_conv_weights(layer, folded_convs[id(layer)]))
            prepared.add(layer.name)
        else:
            clone = layer.__class__.from_config(layer.get_config())
        clones[id(layer)] = clone
        return clone

    def call_layer(layer, *args, **kwargs):
        if id(layer) in folded_norms:
            return args[0]
        return layer(*args, **kwargs)

    # New inputs named like the original input layers (clone_model would name them after the tensors).
    inputs = keras.tree.map_structure(
        lambda t: keras.Input(batch_shape=t.shape, dtype=t.dtype, name=_producer(t).name), model.input)
    deployed = keras.models.clone_model(model, input_tensors=inputs, clone_function=clone_layer,
                                        call_function=call_layer)
    originals = {layer.name: layer for layer in model.layers}
    for layer in deployed.layers:
        if layer.name not in prepared and layer.weights:
            layer.set_weights(originals[layer.name].get_weights())
    return deployed
