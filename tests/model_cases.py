"""Registry-driven test parametrisation: one case per registered model, grouped per xdist worker."""

import numpy as np
import pytest

import keras_resfamily as kr

ALL_SPECS = kr.specs.all_specs()
REFERENCE_SPECS = [s for s in ALL_SPECS if s.reference]
PAPER_SPECS = [s for s in ALL_SPECS if s.paper_params_millions is not None]

# Float16 training on CPU is slow (TensorFlow computes float16 conv gradients ~14x slower than
# bfloat16 ones): one model per (block, attention) kind, its smallest. CIFAR models (32x32 inputs,
# no stem downsampling) are left out: float16 steps took 83 s (WideResNet28_10) and 143 s
# (ResNeXt29_8x64d) against 12-22 s for the ResNet-50-class models.


def _smallest_per_kind(specs):
    chosen = {}
    for spec in specs:
        kind, size = (spec.block, spec.attention), (sum(spec.depths), sum(spec.widths) * spec.base_width)
        if kind not in chosen or size < chosen[kind][0]:
            chosen[kind] = (size, spec)
    return sorted((spec for _, spec in chosen.values()), key=lambda s: s.name)


FLOAT16_TRAIN_SPECS = _smallest_per_kind([s for s in ALL_SPECS if s.default_size > 32])


def cases(specs):
    """pytest params named by model, kept on one xdist worker per model (see .ci/run --dist loadgroup)."""
    return [pytest.param(s, id=s.name, marks=pytest.mark.xdist_group(s.name)) for s in specs]


def trainable_params(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


def small_input_size(spec):
    """Smallest cheap square input that keeps every stage >= 2x2."""
    return 32 if spec.default_size <= 32 else 64
