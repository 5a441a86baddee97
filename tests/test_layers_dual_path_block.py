"""DualPathBlock: timm DualPathBlock parity in inference and training mode (outputs, input gradients, BN
moving statistics) for every block type, 'b' or not, with and without remat; Keras contract; bad input."""

import numpy as np
import pytest
import tensorflow as tf

import keras
from keras_resfamily.convert import load_timm_state_dict
from keras_resfamily.layers import DualPathBlock
from layer_contract import check_layer_contract

RNG = np.random.default_rng(0)
# (in channels, block type, b): a projection at stride 1 and 2, and the normal blocks that follow.
CASES = [(24, "proj", False), (40, "down", True), (40, "normal", False), (40, "normal", True)]
BLOCK = dict(num_1x1_a=16, num_3x3_b=16, num_1x1_c=24, inc=8, groups=4)
MOMENTUM = 0.1  # PyTorch's


def _randomized_timm_block(cin, block_type, b):
    torch = pytest.importorskip("torch")
    from timm.models.dpn import DualPathBlock as TimmDualPathBlock

    torch.manual_seed(0)
    block = TimmDualPathBlock(cin, *BLOCK.values(), block_type=block_type, b=b)
    with torch.no_grad():
        for name, tensor in block.state_dict().items():
            if tensor.dtype.is_floating_point:
                tensor.uniform_(0.5, 2.0) if "running_var" in name else tensor.normal_(0, 0.3)
    return block


def _nchw(images):
    import torch

    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))


@pytest.mark.parametrize("remat", [False, True])
@pytest.mark.parametrize("cin,block_type,b", CASES)
def test_matches_timm_dual_path_block(cin, block_type, b, remat):
    """Inference: outputs. Training: outputs, input gradients and the moving statistics after one call
    (PyTorch updates running_var with the unbiased batch variance, Keras with the biased one: compared
    after converting). An odd input size checks the stride-2 padding.

    Catches: a wrong slice order (residual sum / dense concat), a 'b' split mapped to the wrong slices,
    stride-2 padding on one side only, training-mode BN arithmetic that differs from batch statistics,
    moving statistics updated twice (remat recomputation) or not at all.
    """
    import torch

    reference = _randomized_timm_block(cin, block_type, b)
    initial = {k: v.clone() for k, v in reference.state_dict().items()}
    inputs = keras.Input((None, None, cin))
    model = keras.Model(inputs, DualPathBlock(**BLOCK, block_type=block_type, b=b, remat=remat, name="blk")(inputs))
    load_timm_state_dict(model, {f"blk.{k}": v for k, v in initial.items()})
    images = RNG.normal(size=(3, 9, 11, cin)).astype("float32")

    with torch.no_grad():
        expected = reference.eval()(_nchw(images)).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(np.asarray(model(images, training=False)), expected, atol=1e-5 * np.abs(expected).max())

    x = _nchw(images).requires_grad_(True)
    expected = reference.train()(x)
    upstream = RNG.normal(size=expected.shape).astype("float32")
    (expected * torch.from_numpy(upstream)).sum().backward()
    images_tf = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(images_tf)
        actual = model(images_tf, training=True)
        loss = tf.reduce_sum(actual * upstream.transpose(0, 2, 3, 1))
    expected = expected.detach().numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(np.asarray(actual), expected, atol=1e-5 * np.abs(expected).max())
    expected_grad = x.grad.numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(np.asarray(tape.gradient(loss, images_tf)), expected_grad,
                               atol=1e-5 * np.abs(expected_grad).max())

    updated = reference.state_dict()
    for variable in model.non_trainable_weights:
        key = variable.path.replace("/", ".").replace("-", ".")[len("blk."):]
        if key.endswith("moving_mean"):
            expected = updated[key.replace("moving_mean", "running_mean")].numpy()
        else:
            key = key.replace("moving_variance", "running_var")
            bn = reference.get_submodule(key.rpartition(".")[0])
            count = bn.last_count  # pixels x batch the BN normalised
            before, after = initial[key].numpy(), updated[key].numpy()
            biased = (after - (1 - MOMENTUM) * before) / MOMENTUM * (count - 1) / count
            expected = (1 - MOMENTUM) * before + MOMENTUM * biased
        np.testing.assert_allclose(np.asarray(variable), expected, rtol=1e-5, atol=1e-6, err_msg=variable.path)


@pytest.fixture(autouse=True)
def _count_bn_inputs(monkeypatch):
    """Record on each timm BN the number of values per channel it last normalised (for running_var)."""
    try:
        from timm.layers import BatchNormAct2d
    except ImportError:  # the parity tests skip themselves
        return

    original = BatchNormAct2d.forward

    def forward(self, x):
        self.last_count = x.shape[0] * x.shape[2] * x.shape[3]
        return original(self, x)

    monkeypatch.setattr(BatchNormAct2d, "forward", forward)


@pytest.mark.parametrize("remat", [False, True])
def test_keras_layer_contract(remat):
    """Config round trip, weights, shapes, a compiled fit step (remat: inside a traced train step) and
    float16. Weights: 4 BN (4 variables each) + projection, c1x1_a, c3x3_b convs + c1x1_c1, c1x1_c2."""
    check_layer_contract(lambda: DualPathBlock(8, 8, 8, 4, 2, block_type="down", b=True, remat=remat), (7, 7, 6),
                         expected_weights=21)


@pytest.mark.parametrize("kwargs,match", [
    (dict(block_type="up"), r"received block_type='up'"),
    (dict(groups=3), "received groups=3, num_1x1_a=16, num_3x3_b=16"),
    (dict(inc=0), "received inc=0"),
    (dict(b=1), "received b=1"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DualPathBlock(**dict(BLOCK, **kwargs))


def test_normal_block_needs_the_residual_channels():
    """A 'normal' block sums the input's first num_1x1_c channels: fewer input channels are refused."""
    with pytest.raises(ValueError, match=r"at least num_1x1_c=24; received input shape \(None, 5, 5, 16\)"):
        DualPathBlock(**BLOCK)(keras.Input((5, 5, 16)))
