"""Reference timm models with every weight and BN statistic randomised, for parity tests."""

import numpy as np


def randomized_timm_model(reference, seed=0, num_classes=1000, **arguments):
    """A timm model in eval mode whose parameters and BN running stats are all random."""
    import timm

    return _randomized(lambda: timm.create_model(reference, pretrained=False, num_classes=num_classes, **arguments),
                       seed)


def randomized_reference_model(spec, seed=0):
    """The spec's reference model (timm or torchvision), randomised like `randomized_timm_model`."""
    arguments = dict(spec.reference_arguments)
    if spec.reference_source == "timm":
        return randomized_timm_model(spec.reference, seed, **arguments)
    assert spec.reference_source == "torchvision", spec.reference_source
    import torchvision

    return _randomized(lambda: getattr(torchvision.models, spec.reference)(weights=None, **arguments), seed)


def _randomized(make_model, seed):
    import torch

    torch.manual_seed(seed)
    model = make_model().eval()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.dtype.is_floating_point:
                continue
            if name.endswith("running_var"):
                tensor.uniform_(0.5, 2.0)
            elif name.endswith("running_mean"):
                tensor.normal_(0.0, 0.2)
            elif name.endswith(".weight") and tensor.ndim == 1:  # norm scale: keep the signal alive
                tensor.uniform_(0.5, 1.5)
            elif tensor.ndim == 1:
                tensor.normal_(0.0, 0.2)
            else:  # conv / linear weights: variance-preserving random values
                fan_in = int(np.prod(tensor.shape[1:]))
                tensor.normal_(0.0, (1.0 / max(fan_in, 1)) ** 0.5)
    return model


def timm_forward(model, images_nhwc):
    import torch

    with torch.no_grad():
        out = model(torch.from_numpy(np.ascontiguousarray(images_nhwc.transpose(0, 3, 1, 2))))
    return out.numpy()


def timm_trainable_params(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
