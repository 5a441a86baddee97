"""Reference models (timm, torchvision, keras.applications) with every weight and BN statistic randomised, for
parity tests."""

import numpy as np


def randomized_timm_model(reference, seed=0, num_classes=1000, **arguments):
    """A timm model in eval mode whose parameters and BN running stats are all random."""
    import timm

    return _randomized(lambda: timm.create_model(reference, pretrained=False, num_classes=num_classes, **arguments),
                       seed)


def randomized_reference_model(spec, seed=0):
    """The spec's reference model (timm, torchvision or keras.applications), randomised like
    `randomized_timm_model`."""
    arguments = dict(spec.reference_arguments)
    if spec.reference_source == "timm":
        return randomized_timm_model(spec.reference, seed, **arguments)
    if spec.reference_source == "keras.applications":
        return KerasApplicationsReference.randomized(spec.reference, seed, **arguments)
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


class KerasApplicationsReference:
    """A keras.applications model (logits, weights randomised by the same rules) behind the torch references'
    interface here: `state_dict()` in PyTorch's layouts under the layer names, as its published .h5 reads."""

    def __init__(self, model, make_model):
        self.model, self._make_model = model, make_model

    @classmethod
    def randomized(cls, name, seed, **arguments):
        import keras

        def make_model(**shape):
            return getattr(keras.applications, name)(weights=None, classifier_activation=None, **arguments, **shape)

        model = make_model()
        rng = np.random.default_rng(seed)
        for variable in model.weights:
            kind, shape = variable.path.rsplit("/", 1)[-1], tuple(variable.shape)
            if kind == "moving_variance":
                value = rng.uniform(0.5, 2.0, shape)
            elif kind == "moving_mean":
                value = rng.normal(0.0, 0.2, shape)
            elif kind == "gamma":
                value = rng.uniform(0.5, 1.5, shape)
            elif len(shape) == 1:
                value = rng.normal(0.0, 0.2, shape)
            else:  # Keras kernels are (..., fan_in, out)
                value = rng.normal(0.0, (1.0 / max(int(np.prod(shape[:-1])), 1)) ** 0.5, shape)
            variable.assign(value.astype("float32"))
        return cls(model, make_model)

    def __call__(self, images):
        """Logits on `images`; with the top, keras.applications fixes the input shape, so another one gets a
        model of that shape with these weights."""
        model = self.model
        if tuple(model.input_shape[1:]) != images.shape[1:]:
            model = self._make_model(input_shape=images.shape[1:])
            model.set_weights(self.model.get_weights())
        return np.asarray(model(images, training=False))

    def state_dict(self):
        from keras_resfamily.convert import reference_entry

        return dict(reference_entry(layer.name, variable.path, np.asarray(variable))
                    for layer in self.model.layers for variable in layer.weights)


def timm_forward(model, images_nhwc):
    if isinstance(model, KerasApplicationsReference):
        return model(images_nhwc)
    import torch

    with torch.no_grad():
        out = model(torch.from_numpy(np.ascontiguousarray(images_nhwc.transpose(0, 3, 1, 2))))
    return out.numpy()


def timm_trainable_params(model):
    if isinstance(model, KerasApplicationsReference):
        return sum(int(np.prod(w.shape)) for w in model.model.trainable_weights)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
