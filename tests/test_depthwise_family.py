"""The depthwise family (MobileNet V1-V3, EfficientNet, MixNet): block tables, channel rounding, squeeze-excite
variants, heads and features. timm parity of every row is in test_models.py."""

import numpy as np
import pytest

import keras
import keras_resfamily as kr
from keras_resfamily.families.depthwise import arch
from keras_resfamily.families.depthwise.naming import NAMINGS
from keras_resfamily.families.depthwise.spec import DepthwiseSpec
from keras_resfamily.layers import SqueezeExcite, StochasticDepth
from model_cases import trainable_params

RNG = np.random.default_rng(0)
DEPTHWISE_SPECS = [s for s in kr.specs.all_specs() if isinstance(s, DepthwiseSpec)]
TIMM_ACTIVATIONS = {"ReLU": "relu", "ReLU6": "relu6", "Hardswish": "hard_swish", "SiLU": "swish"}


@pytest.mark.parametrize("name,alpha", [("MobileNet_025", 0.25), ("MobileNet_050", 0.5), ("MobileNet_075", 0.75),
                                        ("MobileNet", 1.0)])
def test_mobilenet_width_rows_have_keras_applications_parameter_counts(name, alpha):
    """keras.applications.MobileNet's 1x1-conv classifier has the weights of our Dense classifier."""
    reference = keras.applications.MobileNet(alpha=alpha, weights=None, input_shape=(32, 32, 3))
    assert trainable_params(kr.create_model(name)) == trainable_params(reference)


def test_round_channels_equals_timm_for_the_scaling_multipliers():
    from timm.models._efficientnet_builder import round_channels as timm_round_channels

    widths = {spec.width for spec in DEPTHWISE_SPECS} | {1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0, 2.2, 4.3}
    for width in sorted(widths):
        for channels in (16, 24, 32, 40, 48, 64, 80, 96, 112, 120, 160, 192, 200, 320, 576, 960, 1024, 1280, 1536):
            assert arch.round_channels(channels, width) == timm_round_channels(channels, width), (channels, width)


def test_efficientnet_rows_are_one_table_scaled():
    b7 = kr.get_spec("EfficientNetB7")
    assert b7.arch is kr.get_spec("EfficientNetB0").arch and (b7.width, b7.depth, b7.default_size) == (2.0, 3.1, 600)
    assert b7.plan().stage_depths == (4, 7, 7, 10, 10, 13, 4)  # ceil(repeats * 3.1)
    assert [b.out_channels for b in b7.plan().blocks if b.index == 0] == [32, 48, 80, 160, 224, 384, 640]
    assert (b7.plan().stem_channels, b7.plan().head_channels) == (64, 2560)


def _timm_act(act_layer, default):
    return default if act_layer is None else TIMM_ACTIVATIONS[act_layer.__name__]


@pytest.mark.parametrize("spec", DEPTHWISE_SPECS, ids=lambda s: s.name)
def test_block_table_decodes_and_scales_like_timm(spec):
    """Our decoding of each row's table (kinds, repeats after depth scaling, channels after width
    rounding, strides, kernels, activations) equals timm's `decode_arch_def` of the same strings."""
    from timm.models._efficientnet_builder import decode_arch_def

    stages = decode_arch_def([list(stage) for stage in spec.arch], spec.depth, depth_trunc=spec.depth_trunc,
                             fix_first_last=spec.fix_first_last)
    expected = []
    for stage, stage_args in enumerate(stages):
        for index, args in enumerate(stage_args):
            kernel = args.get("dw_kernel_size", args.get("kernel_size"))
            expected.append((args["block_type"], stage, index, arch.round_channels(args["out_chs"], spec.width),
                             args["stride"] if index == 0 else 1,
                             tuple(kernel) if isinstance(kernel, list) else (kernel,),
                             _timm_act(args["act_layer"], spec.act)))
    actual = [(b.kind, b.stage, b.index, b.out_channels, b.stride, b.kernel, b.act) for b in spec.plan().blocks]
    assert actual == expected


def test_parse_block():
    block = arch.parse_block("ir_r3_k3.5_a1.1_p1.1_s2_e6_c40_se0.5_nsw_noskip")
    assert block == arch.BlockDef(kind="ir", repeats=3, out=40, stride=2, kernel=(3, 5), expansion=6.0, se=0.5,
                                  act="swish", skip=False, exp_kernel=(1, 1), pw_kernel=(1, 1))
    assert arch.parse_block("dsa_r2_k3_s2_c128") == arch.BlockDef(kind="dsa", repeats=2, out=128, stride=2)
    assert arch.parse_block("cn_r1_k1_s1_c960").kernel == (1,)
    assert arch.parse_block("ir_r1_k3_s1_e2.3_c80_nhs").act == "hard_swish"


@pytest.mark.parametrize("entry,match", [
    ("xx_r1_k3_s1_c16", "Unknown block kind 'xx'"),
    ("ir_r1_k3_s1_e6", r"lacks \['out'\]"),
    ("ir_r1_k3_s3_e6_c16", "stride must be 1 or 2"),
    ("ir_r1_k3_s1_e6_c16_nzz", "Unknown activation 'nzz'"),
    ("ir_r1_kx_s1_e6_c16", "Bad kernel size"),
    ("ir_r1_k3_s1_e6_c16_q4", "Unknown option 'q4'"),
])
def test_parse_block_rejects_bad_definitions(entry, match):
    with pytest.raises(ValueError, match=match):
        arch.parse_block(entry)


def test_bad_rows_fail_at_registration_time():
    with pytest.raises(ValueError, match="Unknown block kind"):
        DepthwiseSpec(name="Bad", family="test", arch=(("zz_r1_k3_s1_c16",),))
    with pytest.raises(ValueError, match="`padding` must be one of"):
        DepthwiseSpec(name="Bad", family="test", arch=(("ds_r1_k3_s1_c16",),), padding="valid")


def test_scale_depth_distributes_from_the_last_definition():
    assert arch.scale_depth([1], 3.1) == [4]
    assert arch.scale_depth([1, 3], 1.2, "round") == [1, 4]  # MixNet-XL: round(4 * 1.2) = 5
    assert arch.scale_depth([1, 1, 2], 1.4) == [1, 2, 3]


def _timm_se(channels, **kwargs):
    torch = pytest.importorskip("torch")
    from timm.models._efficientnet_blocks import SqueezeExcite as TimmSqueezeExcite

    torch.manual_seed(0)
    reference = TimmSqueezeExcite(channels, **kwargs).eval()
    with torch.no_grad():
        for tensor in reference.state_dict().values():
            tensor.normal_(0.0, 0.5)
    return reference


def _assert_se_equal(layer, reference, channels):
    import torch

    inputs = keras.Input((None, None, channels))
    model = keras.Model(inputs, layer(inputs))
    kr.load_timm_state_dict(model, {f"se.{k}": v for k, v in reference.state_dict().items()})
    images = RNG.normal(size=(2, 5, 7, channels)).astype("float32") * 3
    with torch.no_grad():
        expected = reference(torch.from_numpy(images.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(np.asarray(model(images)), expected, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("mid,expansion,ratio", [(144, 6.0, 0.25), (120, 1.0, 0.25), (252, 6.0, 0.5)])
def test_efficientnet_squeeze_excite_equals_timm(mid, expansion, ratio):
    """EfficientNet / MixNet: width round(mid * ratio / expansion) (of the block input), SiLU, sigmoid."""
    import torch

    reference = _timm_se(mid, rd_ratio=ratio / expansion, act_layer=torch.nn.SiLU)
    spec = kr.get_spec("EfficientNetB0")
    hidden = arch.se_channels(spec, "ir" if expansion != 1.0 else "ds", mid, expansion, ratio)
    assert hidden == reference.conv_reduce.out_channels
    layer = SqueezeExcite(rd_channels=hidden, activation="silu", reduce_name="conv_reduce",
                          expand_name="conv_expand", name="se")
    _assert_se_equal(layer, reference, mid)


@pytest.mark.parametrize("mid", [16, 72, 120, 184, 480])
def test_mobilenetv3_squeeze_excite_equals_timm(mid):
    """MobileNetV3: width make_divisible(mid * 0.25, 8) of the expanded width, ReLU, hard-sigmoid gate."""
    import torch
    from timm.models._efficientnet_builder import round_channels as timm_round_channels

    reference = _timm_se(mid, rd_ratio=0.25, gate_layer="hard_sigmoid", force_act_layer=torch.nn.ReLU,
                         rd_round_fn=timm_round_channels)
    hidden = arch.se_channels(kr.get_spec("MobileNetV3Large"), "ir", mid, 6.0, 0.25)
    assert hidden == reference.conv_reduce.out_channels
    layer = SqueezeExcite(rd_channels=hidden, gate="hard_sigmoid", reduce_name="conv_reduce",
                          expand_name="conv_expand", name="se")
    _assert_se_equal(layer, reference, mid)


def test_squeeze_excite_defaults_are_unchanged():
    """The residual family's SE (timm SEModule): ReLU, sigmoid, fc1 / fc2; configs saved before still load."""
    config = SqueezeExcite().get_config()
    assert (config["activation"], config["gate"], config["reduce_name"], config["expand_name"]) == (
        "relu", "sigmoid", "fc1", "fc2")
    old = {k: v for k, v in config.items() if k not in ("activation", "gate", "reduce_name", "expand_name")}
    assert SqueezeExcite.from_config(old).get_config() == config
    with pytest.raises(ValueError, match="no_such_gate"):
        SqueezeExcite(gate="no_such_gate")


def test_naming_tables():
    v2 = kr.get_spec("MobileNetV2").plan().blocks
    assert NAMINGS["timm"].name(v2[1], "conv_dw") == "blocks-1-0-conv_dw"
    torchvision = NAMINGS["torchvision_mobilenet_v2"]
    # First block (no expansion): dw conv-BN-act, then the projection's conv and BN as two items.
    assert [torchvision.name(v2[0], p) for p in ("conv_dw", "bn1", "conv_pw", "bn2", "add")] == [
        "features-1-conv-0-0", "features-1-conv-0-1", "features-1-conv-1", "features-1-conv-2", "features-1-add"]
    assert torchvision.name(v2[1], "conv_pwl") == "features-2-conv-2"
    b0 = kr.get_spec("EfficientNetB0").plan()
    efficientnet = NAMINGS["torchvision_efficientnet"]
    assert [efficientnet.name(b0.blocks[2], p) for p in ("conv_pw", "bn2", "se", "bn3")] == [
        "features-2-1-block-0-0", "features-2-1-block-1-1", "features-2-1-block-2", "features-2-1-block-3-1"]
    assert efficientnet.head_names(b0) == ("features-8-0", "features-8-1")


def test_features_are_the_last_map_of_every_stride_and_match_the_pooled_head():
    features = kr.EfficientNetB0(features_only=True, input_shape=(64, 96, 3))
    images = RNG.normal(size=(1, 64, 96, 3)).astype("float32")
    out = features(images)
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "stride2": (1, 32, 48, 16), "stride4": (1, 16, 24, 24), "stride8": (1, 8, 12, 40),
        "stride16": (1, 4, 6, 112), "stride32": (1, 2, 3, 1280),  # conv_head + bn2: what the head pools
    }
    pooled = kr.EfficientNetB0(include_top=False, pooling="avg", input_shape=(64, 96, 3))
    pooled.set_weights(features.get_weights())
    np.testing.assert_allclose(np.asarray(out["stride32"]).mean(axis=(1, 2)), np.asarray(pooled(images)),
                               rtol=1e-5, atol=1e-6)
    # MobileNetV3-Small strides at its first block: the stride-2 map is the stem's.
    small = kr.MobileNetV3Small(features_only=True, input_shape=(64, 64, 3))
    assert {k: tuple(v.shape[1:]) for k, v in small.output.items()} == {
        "stride2": (32, 32, 16), "stride4": (16, 16, 16), "stride8": (8, 8, 24), "stride16": (4, 4, 48),
        "stride32": (2, 2, 576)}


@pytest.mark.parametrize("name", ["MobileNetV2", "MobileNetV3Small", "EfficientNetB0"])  # padding: symmetric, both
@pytest.mark.parametrize("kernels", ["onednn", "eigen", "onednn_avx2"])  # which forms BatchNorm picks
def test_graph_forward_folds_the_norms_after_convs_and_equals_eager(monkeypatch, name, kernels):
    """In a graph, every BN after a depthwise conv runs inside it (`BatchNorm`), except, on Eigen's kernels,
    after a zero-padded one, whose pad moves into the conv instead; on oneDNN below AVX-512 BNs after Conv2Ds fold
    too. Eager runs each layer as it is. All agree with random BN statistics."""
    import tensorflow as tf

    from keras_resfamily.layers import batch_norm

    monkeypatch.setattr(batch_norm, "runs_on_eigen_cpu_kernels", lambda: kernels == "eigen")
    monkeypatch.setattr(batch_norm, "runs_on_onednn_avx2_kernels", lambda: kernels == "onednn_avx2")
    model = kr.create_model(name, input_shape=(64, 64, 3), classifier_activation=None)
    for variable in model.weights:
        kind = variable.path.rsplit("/", 1)[-1]
        if kind in ("gamma", "moving_variance"):
            variable.assign(RNG.uniform(0.5, 1.5, variable.shape))
        elif kind in ("beta", "moving_mean"):
            variable.assign(RNG.normal(0.0, 0.2, variable.shape))
    images = RNG.normal(size=(2, 64, 64, 3)).astype("float32")
    forward = tf.function(lambda x: model(x, training=False))
    graph = forward.get_concrete_function(tf.TensorSpec(images.shape, "float32")).graph
    producers = [layer._inbound_nodes[0].input_tensors[0]._keras_history.operation for layer in model.layers
                 if isinstance(layer, keras.layers.BatchNormalization)]
    depthwise = [layer.name for layer in producers if isinstance(layer, keras.layers.DepthwiseConv2D)]
    after_conv2d = sum(isinstance(layer, keras.layers.Conv2D) for layer in producers)
    padded = [name for name in depthwise if any(layer.name == f"{name}-pad" for layer in model.layers)]
    assert (len(padded) > 0) == (name == "MobileNetV2") and after_conv2d > 0
    fused = len(producers) - len(depthwise) + {"onednn": 0, "eigen": len(padded), "onednn_avx2": -after_conv2d}[kernels]
    assert sum(op.type == "FusedBatchNormV3" for op in graph.get_operations()) == fused
    explicit = sum(op.type == "DepthwiseConv2dNative" and op.get_attr("padding") == b"EXPLICIT"
                   for op in graph.get_operations())
    assert explicit == (len(padded) if kernels == "eigen" else 0)
    expected = np.asarray(model(images, training=False))
    np.testing.assert_allclose(np.asarray(forward(images)), expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_mobilenetv3_head_runs_after_the_pool():
    model = kr.MobileNetV3Small(input_shape=(32, 32, 3))
    head = model.get_layer("conv_head")
    assert isinstance(head, keras.layers.Dense) and head.units == 1024 and head.use_bias
    assert model.get_layer("act2").activation.__name__ == "hard_silu"
    assert model.get_layer("classifier").kernel.shape == (1024, 1000)
    assert kr.MobileNetV3Small(include_top=False, pooling="avg", input_shape=(32, 32, 3)).output.shape == (None, 576)


def test_drop_path_on_the_residual_blocks_with_a_linear_schedule():
    model = kr.EfficientNetB0(input_shape=(32, 32, 3), drop_path_rate=0.2, dropout_rate=0.3)
    rates = {layer.name: layer.rate for layer in model.layers if isinstance(layer, StochasticDepth)}
    skips = [b for b in kr.get_spec("EfficientNetB0").plan().blocks if b.skip]
    assert len(rates) == len(skips) == 9
    assert rates["blocks-5-3-drop_path"] == pytest.approx(0.2 * 14 / 15)  # block 14 of 0..15
    assert "blocks-0-0-drop_path" not in rates  # 32 -> 16 channels: no skip
    assert model.get_layer("drop").rate == 0.3


def test_summaries():
    assert kr.get_spec("EfficientNetB0").summary() == (
        "inverted residual blocks [1, 2, 2, 3, 3, 4, 1], width 1.0, depth 1.0, SE 0.25, swish, TF 'same' padding")
    assert kr.get_spec("MobileNet").summary() == (
        "depthwise-separable blocks [1, 2, 2, 6, 2], width 1.0, depth 1.0, relu6")
    assert "mixed depthwise kernels" in kr.get_spec("MixNetS").summary()
