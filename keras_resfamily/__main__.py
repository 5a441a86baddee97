"""Demo: build a model, classify a generated image, print its model-zoo line.

    python -m keras_resfamily [--model ResNet50] [--weights imagenet|PATH] [--size 224]

Runs offline with random weights by default (no download); `--weights imagenet` fetches the
reference checkpoint through the weights hub.
"""

import argparse
import time

import numpy as np

import keras_resfamily as kr


def generated_image(size):
    """A deterministic RGB test pattern (a red disc on a blue-green gradient), values in [0, 255]."""
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    image = np.stack([40 + 60 * xx, 80 + 120 * yy, 160 - 60 * xx], axis=-1)
    disc = (xx - 0.5) ** 2 + (yy - 0.5) ** 2 < 0.08
    image[disc] = (220, 30, 30)
    return image.astype("float32")


def zoo_line(spec, model):
    params = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    reference = spec.reference_label if spec.reference else "paper model"
    return f"{spec.name} | {spec.family} | {params / 1e6:.2f}M params | {reference} | {spec.summary()}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ResNet50", help="registered model name (see --list)")
    parser.add_argument("--weights", default=None, help="None (random), 'imagenet', a tag or a file")
    parser.add_argument("--size", type=int, default=None, help="input resolution (default: the model's)")
    parser.add_argument("--list", action="store_true", help="list the registered models and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(kr.list_models()))
        return
    spec = kr.get_spec(args.model)
    size = args.size or spec.default_size
    model = kr.create_model(spec.name, weights=args.weights, input_shape=(size, size, 3))
    image = kr.preprocess_input(generated_image(size)[None], model=spec.name)
    model(image, training=False)  # first call traces the graph: keep it out of the timing
    start = time.perf_counter()
    probs = np.asarray(model(image, training=False))
    elapsed = time.perf_counter() - start
    print(zoo_line(spec, model))
    print(f"forward pass on a generated {size}x{size} image: {elapsed * 1000:.0f} ms")
    if probs.shape[-1] == 1000:
        note = "" if args.weights else " (random weights: pass --weights imagenet for real predictions)"
        print(f"top-3{note}:")
        for wnid, label, score in kr.decode_predictions(probs, top=3)[0]:
            print(f"  {label:<24} {wnid}  {score:.4f}")
    else:
        print(f"top class: {int(probs.argmax())} of {probs.shape[-1]}")


if __name__ == "__main__":
    main()
