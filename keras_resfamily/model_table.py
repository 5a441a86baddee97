"""Markdown table of every registered model (parameters counted from the built model).

    python -m keras_resfamily.model_table > table.md
"""

import numpy as np

import keras_resfamily as kr


def rows():
    for spec in kr.specs.all_specs():
        model = kr.create_model(spec.name)
        params = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
        weights = len(kr.list_weights(spec.name)) if spec.reference else 0
        yield spec, params, weights
        del model


def markdown():
    lines = ["| Model | Family | Reference (computes the same) | Params | Input | Pretrained tags |",
             "|---|---|---|---:|---:|---:|"]
    for spec, params, weights in rows():
        reference = f"timm `{spec.reference}`" if spec.reference else spec.paper.split(",")[0] + " (paper)"
        lines.append(f"| `{spec.name}` | {spec.family} | {reference} | {params / 1e6:.2f}M | "
                     f"{spec.default_size} | {weights} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
