"""Keras' recursive graph walk: how deep it goes, and room for it at any caller stack depth."""

import sys

import keras
import pytest

from keras_resfamily.graph_walk import _stack_depth, functional_model, walk_depth

LAYERS = 300


def _chain(layers):
    inputs = keras.Input((4,))
    x = inputs
    for i in range(layers):
        x = keras.layers.ReLU(name=f"relu{i}")(x)
    return inputs, x


def _with_limit(limit, call):
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        return call()
    finally:
        sys.setrecursionlimit(previous)


def _residual_chain(blocks, shortcut_first, branch_layers=5):
    inputs = keras.Input((4,))
    x = inputs
    for _ in range(blocks):
        y = x
        for _ in range(branch_layers):
            y = keras.layers.ReLU()(y)
        x = keras.layers.Add()([x, y] if shortcut_first else [y, x])
    return inputs, x


def _keras_walk_frames(inputs, outputs):
    """The deepest nesting of Keras' recursive walk while it builds a Model, measured."""
    from keras.src.ops.function import _build_map_helper

    depth = deepest = 0

    def profile(frame, event, arg):
        nonlocal depth, deepest
        if frame.f_code is _build_map_helper.__code__:
            depth += {"call": 1, "return": -1}.get(event, 0)
            deepest = max(deepest, depth)

    sys.setprofile(profile)
    try:
        keras.Model(inputs, outputs)
    finally:
        sys.setprofile(None)
    return deepest


@pytest.mark.parametrize("shortcut_first, frames", [(False, 301), (True, 56)])
def test_walk_depth_equals_keras_recursion(shortcut_first, frames):
    # Keras follows each add's first input first: residual branch first, the walk goes through every
    # layer (50 blocks x (5 + 1) + input); shortcut first, through the adds, then one branch.
    inputs, x = _residual_chain(50, shortcut_first)
    assert walk_depth([x]) == _keras_walk_frames(inputs, x) == frames


def test_functional_model_makes_room_for_the_walk_and_restores_the_limit():
    inputs, x = _chain(LAYERS)
    tight = _stack_depth() + LAYERS // 2  # room for the caller, not for the walk
    with pytest.raises(RecursionError):  # what keras.Model alone does with this little room
        _with_limit(tight, lambda: keras.Model(inputs, x))
    model = _with_limit(tight, lambda: functional_model(inputs, x, "chain"))
    assert len(model.layers) == LAYERS + 1
    previous = sys.getrecursionlimit()
    functional_model(inputs, x, "chain")
    assert sys.getrecursionlimit() == previous
