"""Room on the Python stack for Keras' recursive walk of a functional graph.

`keras.Model(inputs, outputs)` (and `load_model`, `clone_model`) sort the graph with a recursive
depth-first search that takes one Python frame per node along the path it follows (each node's first
input first). Blocks put the shortcut first in their adds, which keeps that path about two nodes a
block; `build_model` still measures it and raises the recursion limit around the walk when the
caller's stack plus the walk would not fit, then restores it.
"""

import contextlib
import sys

import keras
from keras import tree

# Frames Keras' own calls need around the walk (Model construction, tree utilities, tracing).
_MARGIN = 200


def walk_depth(outputs):
    """Deepest recursion of Keras' depth-first graph walk from these output tensors.

    Follows the same order as `keras.src.ops.function._build_map_helper` (inputs in order, finished
    nodes not revisited), without recursing itself.
    """
    finished = set()
    deepest = 0
    for output in outputs:
        stack = [(output, 1, 0)]  # (tensor, depth of its frame, index of the next input to visit)
        while stack:
            tensor, depth, next_input = stack.pop()
            deepest = max(deepest, depth)  # every visit is a frame, even one that returns at once
            operation, node_index, _ = tensor._keras_history
            if not operation:
                continue
            node = operation._inbound_nodes[node_index]
            if next_input == 0 and node in finished:
                continue
            inputs = () if node.is_input else node.input_tensors
            if next_input < len(inputs):
                stack.append((tensor, depth, next_input + 1))
                stack.append((inputs[next_input], depth + 1, 0))
            else:
                finished.add(node)
    return deepest


def _stack_depth():
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


@contextlib.contextmanager
def recursion_room(frames):
    """Make sure `frames` more nested calls (plus a margin) fit under the recursion limit; restore it."""
    previous = sys.getrecursionlimit()
    needed = _stack_depth() + frames + _MARGIN
    if needed <= previous:
        yield
        return
    sys.setrecursionlimit(needed)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def functional_model(inputs, outputs, name):
    """`keras.Model(inputs, outputs)` with room for its graph walk at any caller stack depth."""
    with recursion_room(walk_depth(tree.flatten(outputs))):
        return keras.Model(inputs, outputs, name=name)
