"""timm (PyTorch) side of the comparisons, run as a separate process.

TensorFlow and torch in one process segfault unless torch is imported first, and importing
keras_resfamily imports TensorFlow; so this file imports neither keras nor the package and is run
by path: `python timm_worker.py '{"references": [...], "size": 224, ...}'`, printing one JSON line
per model: {"reference", "gmacs", "img_s"}.

GMACs: torch.utils.flop_counter FLOPs / 2 (convolutions and matrix products only, the
convention of keras_resfamily.bench.macs). Speed: float32, eval mode, inference_mode, NCHW,
`threads` intra-op threads, median of `runs` batches after `warmup`, on the same synthetic images.
"""

import json
import sys

import numpy as np

from stopwatch import median_seconds  # a sibling file: this worker is run by path


def measure(reference, size, batch, warmup, runs, speed):
    import timm
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model = timm.create_model(reference, pretrained=False).eval()
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, size, size))
    result = {"reference": reference, "gmacs": counter.get_total_flops() / 2 / 1e9, "img_s": None}
    if speed:
        # The same images as the Keras side (timing.synthetic_batch, seed 0), channels first.
        images = np.random.default_rng(0).uniform(0, 1, size=(batch, size, size, 3)).astype("float32")
        tensor = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))

        def run():
            with torch.inference_mode():
                model(tensor)

        result["img_s"] = batch / median_seconds(run, warmup, runs)
    return result


def main(argv):
    if len(argv) != 2:
        raise ValueError(f"usage: timm_worker.py JSON_ARGUMENTS; received {argv[1:]!r}")
    args = json.loads(argv[1])
    import torch

    torch.set_num_threads(args["threads"])
    for reference, size in args["references"]:
        result = measure(reference, size, args["batch"], args["warmup"], args["runs"], args["speed"])
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv)
