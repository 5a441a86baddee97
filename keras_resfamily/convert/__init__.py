from keras_resfamily.convert.timm import WeightsMismatchError, load_timm_state_dict, reference_name, torch_key

__all__ = ["WeightsMismatchError", "load_timm_state_dict", "reference_name", "torch_key"]
