"""predict_images bounds the cost of one request; the export CLI turns bad files into an `error:` line."""

import io
import os
import re
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import keras_resfamily as kr
from keras_resfamily.export.__main__ import cli
from keras_resfamily.export.serving_module import DEFAULT_MAX_PIXELS, decode_rgb

pytestmark = pytest.mark.xdist_group("export_limits")  # one worker exports the tiny model once


def _png(height, width, rows=1):
    """A valid PNG header announcing height x width, with `rows` zero rows of data: a few hundred bytes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compress(b"".join(b"\0" + bytes(3 * width) for _ in range(rows)), 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


def _encoded(height, width, fmt="PNG", frames=1):
    images = [Image.fromarray(np.full((height, width, 3), 40 * i % 256, np.uint8)) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, fmt, save_all=frames > 1, append_images=images[1:])
    return buffer.getvalue()


@pytest.fixture(scope="module")
def predict(tiny_model, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("limits") / "1")
    kr.export_serving(tiny_model, path, top_k=1)
    signature = tf.saved_model.load(path).signatures["predict_images"]
    signature(image_bytes=tf.constant([_encoded(8, 8)]))  # the first call builds the graph: not timed
    return lambda blob: signature(image_bytes=tf.constant([blob]))


def _timed(predict, blob):
    """(outputs or the InvalidArgumentError, CPU seconds this process spent on the request).

    CPU time, not wall time: on a loaded machine (the suite's other worker plus anything else on 2
    cores) a cheap request's wall time passed 2 s; the costs these tests guard against are CPU work
    (decoding 400 MP, resizing 1x30000 whole: 7 s), which other processes do not inflate.
    """
    start = time.process_time()
    try:
        return predict(blob), time.process_time() - start
    except tf.errors.InvalidArgumentError as error:
        return error, time.process_time() - start


def test_huge_png_is_refused_before_decoding(predict):
    blob = _png(20000, 20000)  # 400 MP announced in ~150 bytes: decoding would take 1.2 GB
    assert len(blob) < 300
    error, seconds = _timed(predict, blob)
    assert isinstance(error, tf.errors.InvalidArgumentError)
    assert f"20000x20000 = 400000000 pixels, more than the limit of {DEFAULT_MAX_PIXELS}" in error.message
    assert seconds < 2.0


@pytest.mark.parametrize("height, width", [(1, 30000), (30000, 1)])
def test_extreme_aspect_ratio_stays_cheap(predict, height, width):
    # Under the pixel limit; resizing whole before cropping made 1x30000 cost 7 s and 1.6 GB.
    outputs, seconds = _timed(predict, _png(height, width, rows=height))
    assert not isinstance(outputs, Exception), outputs
    assert outputs["class_ids"].shape == (1, 1) and seconds < 2.0


def test_animated_gif_decodes_only_the_first_frame(predict):
    # TF decodes every frame even when only the first is kept (N frames cost N canvases); the stream
    # is cut after the first frame. Same pixels as before; memory is not asserted here.
    blob = _encoded(300, 300, "GIF", frames=20)
    first = tf.io.decode_image(blob, channels=3, expand_animations=False)
    np.testing.assert_array_equal(decode_rgb(blob).numpy(), first.numpy())
    outputs, seconds = _timed(predict, blob)
    assert not isinstance(outputs, Exception), outputs
    assert seconds < 2.0


def test_max_pixels_is_stored_in_the_savedmodel(tiny_model, tmp_path):
    path = str(tmp_path / "1")
    kr.export_serving(tiny_model, path, top_k=1, max_pixels=40 * 40)
    signature = tf.saved_model.load(path).signatures["predict_images"]
    for fmt in ["JPEG", "PNG", "GIF", "BMP", "WEBP"]:  # each format's header gives the size
        assert signature(image_bytes=tf.constant([_encoded(40, 40, fmt)]))["class_ids"].shape == (1, 1)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"the image is 40x41 = 1640 pixels, more than "
                                                                 r"the limit of 1600 pixels \(max_pixels"):
            signature(image_bytes=tf.constant([_encoded(40, 41, fmt)]))


def test_max_pixels_is_checked(tiny_model, tmp_path):
    with pytest.raises(ValueError, match=r"`max_pixels` must be a positive integer. Received: max_pixels=0"):
        kr.export_serving(tiny_model, str(tmp_path / "1"), max_pixels=0)


@pytest.mark.parametrize("option, value, message", [
    ("--labels", "missing.txt", r"--labels: no such file\. Received: --labels '.*missing\.txt'"),
    ("--labels", ".", r"--labels: not a file\. Received: --labels '\.'"),
    ("--labels", "latin1.txt", r"--labels: cannot read '.*latin1\.txt' as UTF-8 text"),
    ("--weights", "missing.weights.h5", r"The weights file does not exist. Received: weights='.*missing"),
    ("--weights", "no_such_tag", r"The `weights` argument should be"),
    ("--max-pixels", "0", r"`max_pixels` must be a positive integer"),
])
def test_cli_bad_file_is_one_error_line(tmp_path, monkeypatch, capsys, option, value, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))

    def no_build(*args, **kwargs):
        raise AssertionError("the CLI built a model before checking its arguments")

    monkeypatch.setattr(kr, "create_model", no_build)
    assert cli(["--model", "ResNet18", "--out", str(tmp_path / "out" / "1"), option, value]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("python -m keras_resfamily.export: error: ") and stderr.count("\n") == 1
    assert re.search(message, stderr), stderr
    assert not (tmp_path / "out").exists()


def test_cli_process_exit_status(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-m", "keras_resfamily.export", "--model", "ResNet18", "--out",
                             str(tmp_path / "1"), "--labels", "missing.txt"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: --labels: no such file" in result.stderr


def test_cli_help_documents_max_pixels(capsys):
    with pytest.raises(SystemExit):
        cli(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--max-pixels MAX_PIXELS predict_images refuses images" in help_text
    assert f"Default: {DEFAULT_MAX_PIXELS}" in help_text
