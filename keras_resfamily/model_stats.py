"""Parameter and GMAC counts of every registered model, shipped as data so listing the zoo builds nothing.

    python -m keras_resfamily.model_stats [--models GLOB ...]

recomputes the counts (each model built with its defaults: ImageNet head, default input size) and
writes keras_resfamily/data/model_stats.json, keeping the entries of models not named. The registry
tests compare every model's trainable parameter count with this file, so it cannot go stale unseen.
"""

import argparse
import fnmatch
import functools
import json
import os

STATS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "model_stats.json")


@functools.lru_cache(maxsize=1)
def model_stats():
    """{model name: {"params": trainable parameters, "gmacs": GMACs at "input_size"}}."""
    with open(STATS_PATH, encoding="utf-8") as handle:
        return json.load(handle)


def measure(name):
    """The counts of one registered model, built with its defaults (TensorFlow backend)."""
    import keras

    from keras_resfamily.bench.macs import count_macs
    from keras_resfamily.bench.runner import trainable_parameters
    from keras_resfamily import create_model, get_spec

    spec = get_spec(name)
    model = create_model(spec.name)
    gmacs = count_macs(model, spec.default_size) / 1e9
    params = trainable_parameters(model)
    keras.backend.clear_session()
    return {"params": params, "gmacs": round(gmacs, 3), "input_size": spec.default_size}


def main(argv=None):
    from keras_resfamily import list_models

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["*"], metavar="GLOB",
                        help="Models to recompute, as names or shell-style patterns (default: every model).")
    args = parser.parse_args(argv)
    names = [name for name in list_models() if any(fnmatch.fnmatchcase(name, glob) for glob in args.models)]
    if not names:
        parser.error(f"--models {' '.join(args.models)} matches no registered model.")
    stats = model_stats() if os.path.exists(STATS_PATH) else {}
    stats = dict(stats)
    for name in names:
        stats[name] = measure(name)
        print(name, stats[name], flush=True)
    stats = {name: stats[name] for name in list_models() if name in stats}  # registry order; drops removed models
    tmp = STATS_PATH + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write("{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in stats.items()) + "\n}\n")
    os.replace(tmp, STATS_PATH)
    print(f"Wrote {STATS_PATH} ({len(stats)} models)")


if __name__ == "__main__":
    main()
