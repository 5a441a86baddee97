from keras_resfamily.convert.timm import WeightsMismatchError, load_timm_state_dict, torch_key

__all__ = ["WeightsMismatchError", "load_timm_state_dict", "torch_key"]
