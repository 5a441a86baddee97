"""Pipelines on tfds mock data, generated JPEG folders (one corrupt) and generated TFRecords."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import keras_resfamily
from keras_resfamily.training import make_config
from keras_resfamily.training.data import load_source, make_pipelines

SPEC = keras_resfamily.get_spec("ResNet18")


def _batch(cfg, batch_size=4, input_context=None):
    source = load_source(cfg)
    pipelines = make_pipelines(cfg, source, SPEC)
    images, labels = next(iter(pipelines.train_dataset(batch_size, input_context)))
    return source, pipelines, images.numpy(), labels.numpy()


def test_tfds_pipeline_on_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=12):
        cfg = make_config(data="cifar10", image_size=40, augment="inception", randaugment_magnitude=5)
        source, pipelines, images, labels = _batch(cfg)
        evaluated = sum(int(x.shape[0]) for x, _ in pipelines.eval_dataset(5))
    assert source.num_classes == 10 and images.shape == (4, 40, 40, 3) and labels.shape == (4, 10)
    np.testing.assert_allclose(labels.sum(axis=1), 1.0)
    assert evaluated == 12  # the mocked test split, every example once


def _write_jpeg(path, value):
    Image.fromarray(np.full((20, 28, 3), value, np.uint8)).save(path)


def test_image_folder_pipeline_skips_a_corrupt_jpeg(tmp_path):
    for split, count in (("train", 3), ("val", 2)):
        for label, name in enumerate(("cat", "dog")):
            folder = tmp_path / split / name
            folder.mkdir(parents=True)
            for index in range(count):
                _write_jpeg(folder / f"{index}.jpg", 40 + 100 * label)
    (tmp_path / "val" / "dog" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    cfg = make_config(data=str(tmp_path), image_size=32, crop_pct=1.0)
    source, pipelines, images, labels = _batch(cfg)
    assert source.num_classes == 2 and source.train.num_examples == 6 and images.shape == (4, 32, 32, 3)
    seen = [(x.numpy(), y.numpy()) for x, y in pipelines.eval_dataset(10).unbatch()]
    assert len(seen) == 4  # 5 files listed, the corrupt one skipped
    # Uniform images keep their class's colour: normalised value sign separates cat (40) from dog (140).
    for image, label in seen:
        assert (image.mean() > 0) == bool(label.argmax())


def _write_records(path, labels):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for label in labels:
            encoded = tf.io.encode_jpeg(np.full((24, 24, 3), 10 * label, np.uint8)).numpy()
            feature = {
                "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[encoded])),
                "image/class/label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
            }
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())


def test_tfrecord_pipeline_in_imagenet_layout(tmp_path):
    _write_records(tmp_path / "train-00000-of-00002", [1, 2, 3])
    _write_records(tmp_path / "train-00001-of-00002", [3, 2])
    _write_records(tmp_path / "validation-00000-of-00001", [1, 3])
    cfg = make_config(data=f"tfrecord:{tmp_path}", num_classes=3, image_size=32)
    source, pipelines, images, labels = _batch(cfg)
    assert source.train.num_examples == 5 and source.validation.num_examples == 2
    assert images.shape == (4, 32, 32, 3)
    assert not cfg.deterministic and pipelines.eval_dataset(2).options().deterministic  # file order, always
    evaluated = [y.numpy().argmax() for _, y in pipelines.eval_dataset(2).unbatch()]
    assert evaluated == [0, 2]  # stored labels 1..3 map to 0..2


def test_per_replica_shards_split_the_data_and_mixed_labels_stay_distributions():
    cfg = make_config(data="digits", shuffle_buffer=1, mixup_alpha=0.4, cutmix_alpha=1.0)
    source = load_source(cfg)
    pipelines = make_pipelines(cfg, source, SPEC)
    for pipeline_id in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline_id, num_replicas_in_sync=2)
        images, labels = next(iter(pipelines.train_dataset(8, context)))
        assert images.shape == (8, 32, 32, 3)
        np.testing.assert_allclose(labels.numpy().sum(axis=1), 1.0, rtol=1e-5)
    counts = [sum(1 for _ in source.train.read(
        tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=i))) for i in range(2)]
    assert sum(counts) == source.train.num_examples and abs(counts[0] - counts[1]) <= 1


def test_missing_data_directory_and_unknown_dataset_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="Data directory not found"):
        load_source(make_config(data=str(tmp_path / "nowhere")))
    with pytest.raises(ValueError, match="Unknown dataset: 'no_such_dataset_xyz'"):
        load_source(make_config(data="no_such_dataset_xyz"))
    (tmp_path / "train").mkdir()
    with pytest.raises(ValueError, match="no val / validation / test sub-folder"):
        load_source(make_config(data=f"folder:{tmp_path}"))


@pytest.mark.parametrize("name, image_size, smallest", [("ResNet18", 31, 32), ("InceptionV3", 100, 139)])
def test_image_size_below_what_the_model_trains_on_is_refused(name, image_size, smallest):
    """Below `min_size` the model cannot run; below `min_train_size` its last maps are 1-2 pixels and
    training-mode batch statistics blow the gradients up: refused before any data is read."""
    cfg = make_config(data="digits", image_size=image_size)
    with pytest.raises(ValueError, match=rf"image_size={image_size} is below {name}'s minimum .*{smallest}\b"):
        make_pipelines(cfg, load_source(cfg), keras_resfamily.get_spec(name))
