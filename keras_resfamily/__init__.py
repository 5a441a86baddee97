"""keras_resfamily: the ResNet family for Keras 3, computing exactly what the reference models compute."""

from keras_resfamily import families  # noqa: F401  (registers the model rows)
from keras_resfamily import layers
from keras_resfamily.builder import build_model
from keras_resfamily.constructors import CONSTRUCTORS, create_model
from keras_resfamily.convert import WeightsMismatchError, load_timm_state_dict
from keras_resfamily.deploy import reparameterize
from keras_resfamily.hub import list_weights
from keras_resfamily.images import load_images
from keras_resfamily.preprocessing import decode_predictions, preprocess_input
from keras_resfamily.families.residual.spec import ResidualSpec
from keras_resfamily.specs import ArchSpec, get_spec, list_models, register_model

__version__ = "0.1.0"

globals().update(CONSTRUCTORS)


def __getattr__(name):
    # export_serving imports TensorFlow: loaded on first use, so JAX / torch users don't pay for it.
    if name == "export_serving":
        from keras_resfamily.export import export_serving

        return export_serving
    raise AttributeError(f"module 'keras_resfamily' has no attribute {name!r}")


__all__ = [
    "ArchSpec", "ResidualSpec", "WeightsMismatchError", "build_model", "create_model", "decode_predictions", "export_serving",
    "get_spec", "layers", "list_models", "list_weights", "load_images", "load_timm_state_dict", "preprocess_input",
    "register_model", "reparameterize",
    *CONSTRUCTORS,
]
