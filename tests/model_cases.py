"""Registry-driven test parametrisation: one case per registered model, grouped per xdist worker."""

import numpy as np
import pytest

import keras_resfamily as kr

ALL_SPECS = kr.specs.all_specs()
REFERENCE_SPECS = [s for s in ALL_SPECS if s.reference]
PAPER_SPECS = [s for s in ALL_SPECS if s.paper_params_millions is not None]

# Every registered model is built once (under mixed_float16: its feature maps run in float16, then
# it is switched to float32), run forward and backward, saved, reloaded and checked against its
# reference. What depends only on the code a model runs (mixed-precision training, input channels,
# non-square inputs, drop path) runs on the smallest model of each code path: each distinct
# `spec.code_path()` of each family (the residual family: block, attention, grouped, stem, stem
# pool, avg-down, layout, CIFAR-size).
# Training every model for two bfloat16 steps took ~25 of the suite's 49 minutes on a 2-core AVX2 VM
# (ResNetRS420: 53 s of steps after a 15 s build) and exercised no code the smallest one does not.


def _code_path(spec):
    return (type(spec).__name__,) + spec.code_path()


def _block_kind(spec):
    return (type(spec).__name__,) + spec.block_kind()


def _smallest_per(key, specs):
    chosen = {}
    for spec in specs:
        if key(spec) not in chosen or spec.size_rank() < chosen[key(spec)].size_rank():
            chosen[key(spec)] = spec
    return sorted(chosen.values(), key=lambda s: s.name)


CODE_PATH_SPECS = _smallest_per(_code_path, ALL_SPECS)

# The shared builder's own paths (input tensor, pooling, no head, features_only): one model per family.
FAMILY_SPECS = _smallest_per(lambda spec: (type(spec).__name__,), ALL_SPECS)

# Float16 training on CPU is slower still (TensorFlow computes float16 conv gradients ~14x slower
# than bfloat16 ones): one model per (block, attention) kind. CIFAR models (32x32 inputs, no stem
# downsampling) are left out: float16 steps took 83 s (WideResNet28_10) and 143 s (ResNeXt29_8x64d)
# against 12-22 s for the ResNet-50-class models.
FLOAT16_TRAIN_SPECS = _smallest_per(_block_kind, [s for s in ALL_SPECS if s.default_size > 32])


def cases(specs):
    """pytest params named by model, kept on one xdist worker per model (see .ci/run --dist loadgroup)."""
    return [pytest.param(s, id=s.name, marks=pytest.mark.xdist_group(s.name)) for s in specs]


def trainable_params(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


def small_input_size(spec):
    """Smallest cheap square input that keeps every stage >= 2x2."""
    return max(32 if spec.default_size <= 32 else 64, spec.min_size)
