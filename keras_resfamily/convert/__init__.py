from keras_resfamily.convert.keras_h5 import read_keras_h5, reference_entry
from keras_resfamily.convert.timm import WeightsMismatchError, load_timm_state_dict, reference_name, torch_key

__all__ = ["WeightsMismatchError", "load_timm_state_dict", "read_keras_h5", "reference_entry", "reference_name",
           "torch_key"]
