"""Named training recipes: field values applied below a config file and explicit flags.

`baseline`: the classic ImageNet ResNet recipe (He et al. 2016 / Goyal et al. 2017): SGD with
momentum 0.9, lr 0.1 per 256 images, weight decay 1e-4, 90 epochs, cosine (or `--schedule step`
for the x0.1 steps at epochs 30/60/80).

`resnet-rs`: Bello et al. 2021, "Revisiting ResNets", Sec. 4 / appendix: 350 epochs, SGD momentum
0.9, lr 0.1 per 256 images with 5 warmup epochs and cosine decay, weight decay 4e-5, label
smoothing 0.1, RandAugment (2 ops, magnitude 10), dropout 0.25 before the classifier, EMA of the
weights with decay 0.9999. The paper raises RandAugment magnitude, dropout and stochastic depth
for the larger models / resolutions; pass `--randaugment-magnitude`, `--dropout-rate` and
`--drop-path-rate` for those.
"""

RECIPES = {
    "baseline": dict(
        optimizer="sgd", momentum=0.9, base_lr=0.1, weight_decay=1e-4, epochs=90, schedule="cosine",
        warmup_epochs=0.0, label_smoothing=0.0,
    ),
    "resnet-rs": dict(
        optimizer="sgd", momentum=0.9, base_lr=0.1, weight_decay=4e-5, epochs=350, schedule="cosine",
        warmup_epochs=5.0, label_smoothing=0.1, randaugment_ops=2, randaugment_magnitude=10.0,
        dropout_rate=0.25, drop_path_rate=0.0, ema_decay=0.9999,
    ),
}


def recipe_values(name) -> dict:
    if name is None:
        return {}
    if name not in RECIPES:
        raise ValueError(f"Unknown recipe: {name!r}. Allowed: {', '.join(RECIPES)}.")
    return dict(RECIPES[name], recipe=name)
