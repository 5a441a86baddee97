"""Registry-driven test parametrisation: one case per registered model, grouped per xdist worker."""

import numpy as np
import pytest

import keras_resfamily as kr

ALL_SPECS = kr.specs.all_specs()
REFERENCE_SPECS = [s for s in ALL_SPECS if s.reference]
PAPER_SPECS = [s for s in ALL_SPECS if s.paper_params_millions is not None]


def cases(specs):
    """pytest params named by model, kept on one xdist worker per model (see .ci/run --dist loadgroup)."""
    return [pytest.param(s, id=s.name, marks=pytest.mark.xdist_group(s.name)) for s in specs]


def trainable_params(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


def small_input_size(spec):
    """Smallest cheap square input that keeps every stage >= 2x2."""
    return 32 if spec.default_size <= 32 else 64
