"""RepVGGBlock: timm RepVggBlock parity (training and deploy form), exact re-parameterisation, Keras contract."""

import numpy as np
import pytest

import keras
from keras_resfamily.convert import load_timm_state_dict
from keras_resfamily.layers import RepVGGBlock
from layer_contract import check_layer_contract, strided_slices
from fresh_pytest import run_pytest

RNG = np.random.default_rng(0)
# (in channels, out channels, strides, groups): identity branch, strided / widening, grouped, RGB stem
CASES = [(8, 8, 1, 1), (8, 16, 2, 1), (8, 8, 1, 4), (3, 8, 2, 1)]


def _randomize_batch_norms(layer):
    for bn in (layer.conv_kxk_bn, layer.conv_1x1_bn) + ((layer.identity,) if layer.use_identity else ()):
        bn.set_weights([RNG.uniform(0.5, 1.5, bn.gamma.shape), RNG.normal(0, 0.3, bn.beta.shape),
                        RNG.normal(0, 0.3, bn.moving_mean.shape), RNG.uniform(0.5, 2.0, bn.moving_variance.shape)])


def _wrap(layer, channels):
    inputs = keras.Input((None, None, channels))
    return keras.Model(inputs, layer(inputs))


def _timm_block_and_ours(cin, cout, strides, groups):
    """timm's RepVggBlock with random weights and BN statistics, and ours with its weights loaded."""
    import torch
    from timm.models.byobnet import RepVggBlock

    torch.manual_seed(0)
    reference = RepVggBlock(cin, cout, stride=strides, group_size=cin // groups if groups > 1 else None)
    with torch.no_grad():
        for name, tensor in reference.state_dict().items():
            if tensor.dtype.is_floating_point:
                tensor.uniform_(0.5, 2.0) if "running_var" in name else tensor.normal_(0, 0.3)
    layer = RepVGGBlock(cout, strides=strides, groups=groups, name="block")
    model = _wrap(layer, cin)
    load_timm_state_dict(model, {f"block.{k}": v for k, v in reference.state_dict().items()})
    return reference, layer, model


@pytest.mark.parametrize("cin,cout,strides,groups", CASES)
def test_matches_timm_in_training_and_deploy_form(cin, cout, strides, groups):
    torch = pytest.importorskip("torch")
    reference, layer, model = _timm_block_and_ours(cin, cout, strides, groups)
    reference.eval()
    images = RNG.normal(size=(2, 9, 9, cin)).astype("float32")  # odd size: checks the stride-2 padding
    with torch.no_grad():
        expected = reference(torch.from_numpy(images.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(np.asarray(model(images)), expected, atol=1e-5 * scale)

    deployed = layer.reparameterize()
    assert deployed.deploy and deployed.name == "block" and len(deployed.weights) == 2
    np.testing.assert_allclose(np.asarray(deployed(images)), expected, atol=1e-5 * scale)

    # timm's own re-parameterised weights load by name into the deploy form: same naming.
    reference.reparameterize()
    deployed_model = _wrap(RepVGGBlock(cout, strides=strides, groups=groups, deploy=True, name="block"), cin)
    load_timm_state_dict(deployed_model, {f"block.{k}": v for k, v in reference.state_dict().items()})
    np.testing.assert_allclose(np.asarray(deployed_model(images)), expected, atol=1e-5 * scale)


@pytest.mark.parametrize("cin,cout,strides,groups", CASES)
def test_kernel_gradients_match_timm_in_training_mode(cin, cout, strides, groups):
    """Training-mode backward equals timm's: the strided 1x1 branch on RGB is where oneDNN's AVX2
    kernel goes wrong (see RepVGGBlock._subsample); even sizes, as it needs."""
    torch = pytest.importorskip("torch")
    import tensorflow as tf

    reference, layer, model = _timm_block_and_ours(cin, cout, strides, groups)
    images = RNG.normal(size=(2, 16, 16, cin)).astype("float32")
    upstream = RNG.normal(size=(2, 16 // strides, 16 // strides, cout)).astype("float32")
    reference.train()
    with torch.backends.mkldnn.flags(enabled=False):  # torch's oneDNN has the same bug on AVX2
        (reference(torch.from_numpy(images.transpose(0, 3, 1, 2)))
         * torch.from_numpy(upstream.transpose(0, 3, 1, 2))).sum().backward()
    kernels = [layer.conv_kxk_conv.kernel, layer.conv_1x1_conv.kernel]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(images, training=True) * upstream)
    theirs = [reference.conv_kxk.conv.weight, reference.conv_1x1.conv.weight]
    for ours, theirs in zip(tape.gradient(loss, kernels), theirs):
        expected = theirs.grad.numpy().transpose(2, 3, 1, 0)
        np.testing.assert_allclose(np.asarray(ours), expected, atol=1e-4 * np.abs(expected).max())


def test_kernel_gradients_match_timm_with_onednn_on():
    """The same check with TensorFlow's oneDNN kernels on and one intra-op thread (oneDNN is off by
    default on AVX2 CPUs; before the subsampled 1x1 branch this crashed there)."""
    import os

    stdout = run_pytest([__file__], {"TF_ENABLE_ONEDNN_OPTS": "1",  # conftest.py: one intra-op thread
                                     "PYTEST_XDIST_WORKER_COUNT": str(os.cpu_count() or 1)},
                        "-k", "test_kernel_gradients_match_timm_in_training_mode")
    assert f"{len(CASES)} passed" in stdout, stdout[-2000:]


def test_identity_branch_only_when_shape_is_kept():
    same, strided, widened = RepVGGBlock(8), RepVGGBlock(8, strides=2), RepVGGBlock(16)
    for layer in (same, strided, widened):
        layer.build((None, 8, 8, 8))
    assert same.use_identity and not strided.use_identity and not widened.use_identity
    assert len(same.weights) == 1 + 4 + 1 + 4 + 4 and len(strided.weights) == 10


def test_strided_block_subsamples_without_a_strided_slice():
    """The strided block's 1x1 branch subsamples with a 1x1 pool, not a strided slice (3-10x slower on CPU); timm
    parity at stride 2 (forward, gradients): the tests above."""
    assert not strided_slices(lambda: RepVGGBlock(8, strides=2), (9, 9, 4))


def test_fused_kernel_equals_training_form_with_random_statistics():
    layer = RepVGGBlock(12, groups=3)
    layer.build((None, 10, 10, 12))
    _randomize_batch_norms(layer)
    images = RNG.normal(size=(2, 10, 10, 12)).astype("float32")
    expected = np.asarray(layer(images, training=False))
    np.testing.assert_allclose(np.asarray(layer.reparameterize()(images)), expected,
                               atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("deploy", [False, True])
def test_keras_layer_contract(deploy):
    check_layer_contract(lambda: RepVGGBlock(8, strides=2, groups=2, deploy=deploy, drop_path_rate=0.1),
                         (8, 8, 4), expected_weights=2 if deploy else 10)
    check_layer_contract(lambda: RepVGGBlock(4, deploy=deploy, drop_path_rate=0.1), (8, 8, 4),
                         expected_weights=2 if deploy else 14)


@pytest.mark.parametrize("kwargs,match", [
    (dict(filters=8, groups=3), "groups=3, filters=8"),
    (dict(filters=8, strides=3), "strides=3"),
    (dict(filters=0), "filters=0"),
    (dict(filters=8, groups=1.5), "groups=1.5"),
])
def test_bad_arguments_name_the_received_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RepVGGBlock(**kwargs)


def test_groups_must_divide_input_channels():
    with pytest.raises(ValueError, match=r"groups=4 for input_shape=\(None, 8, 8, 6\)"):
        RepVGGBlock(8, groups=4).build((None, 8, 8, 6))


def test_reparameterize_needs_a_built_block():
    with pytest.raises(ValueError, match="must be built"):
        RepVGGBlock(8).reparameterize()
