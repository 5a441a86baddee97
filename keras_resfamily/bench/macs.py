"""Multiply-accumulates counted from the traced TensorFlow graph of a model's forward pass.

Only convolutions and matrix products are counted, the convention of torchvision, timm and
torch.utils.flop_counter (FLOPs = 2 x MACs); BN, activations, pooling and adds are not. Counting
graph ops rather than layers sees every convolution inside nested custom layers (split
attention, selective kernel, grouped convs run per group) and the einsum of global context.
"""

import numpy as np

# Function-call ops hide a sub-graph; their bodies are walked too (tf.function inside a layer).
CALL_OPS = ("PartitionedCall", "StatefulPartitionedCall")


def _static_shape(tensor, op):
    shape = tensor.shape
    if shape.rank is None or any(d is None for d in shape.as_list()):
        raise ValueError(f"Cannot count MACs of {op.type} op {op.name!r}: its shape {shape} is not static.")
    return shape.as_list()


def _einsum_macs(op):
    """MACs of an einsum: the product of the sizes of every distinct index letter."""
    equation = op.get_attr("equation").decode()
    inputs, _ = equation.split("->")
    sizes = {}
    for letters, tensor in zip(inputs.split(","), op.inputs):
        if "." in letters:
            raise ValueError(f"Einsum with ellipsis is not counted; received equation {equation!r}.")
        for letter, size in zip(letters, _static_shape(tensor, op)):
            sizes[letter] = size
    return int(np.prod(list(sizes.values()), dtype=np.int64))


def _conv_outputs(op):
    """Output elements of a convolution as the architecture defines them.

    TensorFlow runs a dilated convolution as SpaceToBatchND -> Conv2D -> BatchToSpaceND, padding
    the blocks up to a multiple of the dilation; the padded positions are cropped away again, so
    the cropped BatchToSpaceND output is what the architecture computes (and what timm counts).
    """
    consumers = op.outputs[0].consumers()
    if len(consumers) == 1 and consumers[0].type == "BatchToSpaceND":
        return int(np.prod(_static_shape(consumers[0].outputs[0], op), dtype=np.int64))
    return int(np.prod(_static_shape(op.outputs[0], op), dtype=np.int64))


def op_macs(op):
    """MACs of one graph op (0 for ops that are not convolutions or matrix products)."""
    if op.type == "Conv2D":
        # Filter (kh, kw, in / groups, out): each output element sums kh * kw * in / groups products.
        kh, kw, cin, _ = _static_shape(op.inputs[1], op)
        return _conv_outputs(op) * kh * kw * cin
    if op.type == "DepthwiseConv2dNative":
        kh, kw, _, _ = _static_shape(op.inputs[1], op)
        return _conv_outputs(op) * kh * kw
    if op.type == "MatMul":
        a_shape = _static_shape(op.inputs[0], op)
        inner = a_shape[0] if op.get_attr("transpose_a") else a_shape[1]
        return int(np.prod(_static_shape(op.outputs[0], op), dtype=np.int64)) * inner
    if op.type.startswith("BatchMatMul"):
        a_shape = _static_shape(op.inputs[0], op)
        inner = a_shape[-2] if op.get_attr("adj_x") else a_shape[-1]
        return int(np.prod(_static_shape(op.outputs[0], op), dtype=np.int64)) * inner
    if op.type == "Einsum":
        return _einsum_macs(op)
    return 0


def _ops_the_outputs_use(graph):
    """The graph's ops that its outputs depend on, in graph order. An op whose result nothing uses costs
    nothing once grappler prunes it: `BatchNorm` re-runs the depthwise conv before it with a folded kernel
    and leaves the original op unused."""
    used, pending = set(), [tensor.op for tensor in graph.outputs]
    while pending:
        op = pending.pop()
        if op not in used:
            used.add(op)
            pending.extend(tensor.op for tensor in op.inputs)
            pending.extend(op.control_inputs)
    return [op for op in graph.get_operations() if op in used]


def _graph_macs(graph):
    total = 0
    for op in _ops_the_outputs_use(graph):
        if op.type in CALL_OPS:
            raise ValueError(
                f"Op {op.name!r} calls a nested function; trace the model with a Keras backend that inlines "
                "layers (TensorFlow) so every convolution is visible."
            )
        if op.type in ("While", "StatelessWhile", "If", "StatelessIf"):
            raise ValueError(f"Control-flow op {op.name!r} ({op.type}) has a data-dependent cost; cannot count it.")
        total += op_macs(op)
    return total


def count_macs(model, input_size, batch=1):
    """MACs of one inference forward pass of `model` on a (batch, H, W, C) input.

    `input_size` is (height, width) or an int. Uses the TensorFlow backend's graph tracing; raises
    ValueError for other backends or for graphs whose cost depends on data.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ValueError(f"MAC counting traces a TensorFlow graph; received Keras backend {keras.backend.backend()!r}.")
    import tensorflow as tf

    if isinstance(input_size, int):
        input_size = (input_size, input_size)
    if len(input_size) != 2 or any(not isinstance(s, int) or s < 1 for s in input_size):
        raise ValueError(f"input_size must be an int or (height, width) of positive ints; received {input_size!r}.")
    channels = model.inputs[0].shape[-1] if model.inputs else 3
    spec = tf.TensorSpec((batch, *input_size, channels), tf.float32)
    forward = tf.function(lambda x: model(x, training=False), autograph=False)
    graph = forward.get_concrete_function(spec).graph
    return _graph_macs(graph)
