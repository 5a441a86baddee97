"""predict_images' decode / resize / crop against timm's eval transform (what the weights expect)."""

import io

import numpy as np
import pytest
from PIL import Image

from keras_resfamily.export.serving_module import decode_rgb, resize_and_center_crop

timm_data = pytest.importorskip("timm.data")


def _pattern(height, width):
    y, x = np.mgrid[0:height, 0:width].astype("float32")
    channels = [127 + 120 * np.sin(x / 7.0 + c) * np.cos(y / 5.0 + 2 * c) for c in range(3)]
    return np.stack(channels, -1).clip(0, 255).astype("uint8")


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
@pytest.mark.parametrize("height, width", [(73, 73), (100, 146), (201, 90), (64, 64), (300, 301), (50, 80)])
def test_crop_matches_timm_eval_transform(height, width, interpolation):
    image = _pattern(height, width)
    transform = timm_data.create_transform(input_size=(3, 64, 64), crop_pct=0.875, interpolation=interpolation,
                                           mean=(0, 0, 0), std=(1, 1, 1))
    expected = transform(Image.fromarray(image)).permute(1, 2, 0).numpy() * 255
    ours = resize_and_center_crop(image, 64, 0.875, interpolation).numpy()
    assert ours.shape == (64, 64, 3)
    difference = np.abs(ours - expected)
    if (height, width) == (73, 73):  # resize target already met: only the crop, exactly
        assert difference.max() == 0
    # PIL and TF resample with the same kernels but round differently: at most one grey level.
    assert difference.max() <= 1.0 + 1e-4 and difference.mean() < 0.3, (difference.max(), difference.mean())


@pytest.mark.parametrize("fmt, options", [("JPEG", {"quality": 90, "subsampling": 2}), ("JPEG", {"quality": 75}),
                                          ("PNG", {}), ("BMP", {})])
def test_decode_is_bit_identical_to_pil(fmt, options):
    buffer = io.BytesIO()
    Image.fromarray(_pattern(48, 80)).save(buffer, fmt, **options)
    expected = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    np.testing.assert_array_equal(decode_rgb(buffer.getvalue()).numpy(), expected)


def test_grayscale_png_becomes_rgb():
    buffer = io.BytesIO()
    Image.fromarray(_pattern(20, 30)[..., 0]).save(buffer, "PNG")
    decoded = decode_rgb(buffer.getvalue()).numpy()
    assert decoded.shape == (20, 30, 3) and (decoded[..., 0] == decoded[..., 2]).all()
