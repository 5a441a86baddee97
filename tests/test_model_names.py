"""Model-name lookup: constructor and timm / torchvision names, case-insensitive; typos get close suggestions."""

import re

import pytest

import keras_resfamily as kr


def _suggestions(name):
    with pytest.raises(ValueError) as error:
        kr.get_spec(name)
    message = str(error.value)
    assert f"Unknown model name: {name!r}" in message  # says what was received
    match = re.search(r"Similar names: (.*?)\.(?: |$)", message)
    assert match, message
    return [s.strip() for s in match.group(1).split(",")]


@pytest.mark.parametrize("typo, expected", [
    ("resnt50", "ResNet50"),  # a dropped letter
    ("resent50", "ResNet50"),  # swapped letters
    ("resnet50dd", "ResNet50D"),  # a doubled letter
    ("ResNet51", "ResNet50"),
    ("se-resnext50_32x4", "SEResNeXt50_32x4d"),
    ("resnetv2_05", "ResNet50V2"),  # close to the timm name resnetv2_50 only
    ("resnest50e", "ResNeSt50"),  # close to the timm name resnest50d
])
def test_typos_suggest_the_intended_model(typo, expected):
    assert expected in _suggestions(typo)


def test_unknown_name_error_from_create_model():
    with pytest.raises(ValueError, match=r"Unknown model name: 'resnt50'\. Similar names: ResNet50\b"):
        kr.create_model("resnt50")


def test_nothing_close_gives_no_suggestions():
    with pytest.raises(ValueError, match=r"Unknown model name: 'vit_base_patch16'\. Call keras_resfamily\.list_models"):
        kr.get_spec("vit_base_patch16")


@pytest.mark.parametrize("name, expected", [
    ("resnet50", "ResNet50"), ("RESNET50D", "ResNet50D"), ("resnetv2_50", "ResNet50V2"),
    ("ResNetV2_50", "ResNet50V2"), ("wide_resnet50_2", "WideResNet50_2"), ("resnest50d", "ResNeSt50"),
])
def test_reference_names_are_case_insensitive(name, expected):
    assert kr.get_spec(name).name == expected
