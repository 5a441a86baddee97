"""Writing benchmark rows: a markdown table, a CSV, the README model-zoo table and a PNG plot."""

import csv

from keras_resfamily.bench.runner import COLUMNS

HEADERS = {
    "model": "Model", "family": "Family", "reference": "Reference", "input": "Input", "params_m": "Params (M)",
    "gmacs": "GMACs", "timm_gmacs": "timm GMACs", "gmacs_vs_timm": "GMACs / timm", "infer_img_s": "Infer img/s",
    "speed_vs_resnet50": "Speed vs ResNet50", "peak_mem_mib": "Peak mem (MiB)", "memory_kind": "Memory measured as",
    "timm_img_s": "timm img/s", "speed_vs_timm": "Speed vs timm", "timm_speed_vs_resnet50": "timm speed vs timm ResNet50",
    "train_img_s": "Train img/s", "train_xla_img_s": "Train img/s (XLA)",
}
DECIMALS = {"params_m": 2, "gmacs": 3, "timm_gmacs": 3, "gmacs_vs_timm": 4, "infer_img_s": 1, "speed_vs_resnet50": 2,
            "peak_mem_mib": 0, "timm_img_s": 1, "speed_vs_timm": 2, "timm_speed_vs_resnet50": 2, "train_img_s": 1,
            "train_xla_img_s": 1}


def _cell(row, column):
    value = row[column]
    if value is None:
        return "-"
    if column in DECIMALS:
        return f"{value:.{DECIMALS[column]}f}"
    return str(value)


def markdown(rows, columns=None):
    """Markdown table of `rows`; columns that no row measured are left out."""
    columns = columns or [c for c in COLUMNS if any(r[c] is not None for r in rows)]
    lines = ["| " + " | ".join(HEADERS[c] for c in columns) + " |",
             "|" + "|".join("---:" if c in DECIMALS or c == "input" else "---" for c in columns) + "|"]
    lines += ["| " + " | ".join(_cell(r, c) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_csv(rows, path):
    """CSV with every column (empty where not measured), full precision."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: ("" if row[c] is None else row[c]) for c in COLUMNS})


def zoo_markdown(rows):
    """The README model-zoo table: params, GMACs, relative speed (when measured), reference top-1, tags."""
    import keras_resfamily as kr

    with_speed = any(row["speed_vs_resnet50"] is not None for row in rows)
    header = ["Model", "Family", "Reference (computes the same)", "Params", "GMACs", "Input"]
    header += ["Speed vs ResNet50"] * with_speed + ["Top-1 (timm, default weights @ size)", "Pretrained tags"]
    lines = ["| " + " | ".join(header) + " |", "|---|---|---|" + "---:|" * (len(header) - 3)]
    for row in rows:
        if row["model"] not in kr.list_models():
            continue  # the keras.applications baseline is no zoo model
        spec = kr.get_spec(row["model"])
        reference = (f"{spec.reference_source} `{spec.reference}`" if spec.reference
                     else spec.paper.split(",")[0] + " (paper)")
        weights = kr.list_weights(spec.name)
        top1 = f"{weights[0]['top1']:.2f} @ {weights[0]['eval_size']}" if weights and weights[0]["top1"] else "-"
        gmacs = "-" if row["gmacs"] is None else f"{row['gmacs']:.2f}"
        speed = "-" if row["speed_vs_resnet50"] is None else f"{row['speed_vs_resnet50']:.2f}x"
        cells = [f"`{spec.name}`", spec.family, reference, f"{row['params_m']:.2f}M", gmacs, str(row["input"])]
        cells += [speed] * with_speed + [top1, str(len(weights))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


Y_LABELS = {"infer_img_s": "inference images / second",
            "speed_vs_resnet50": "inference speed / ResNet50's in the same pass"}


def plot(rows, path, title, y="infer_img_s"):
    """Column `y` (img/s, or speed relative to ResNet50) against parameters, log-log, one colour per
    family; returns False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    measured = [r for r in rows if r[y]]
    if not measured:
        raise ValueError("Nothing to plot: no row has a measured inference speed (was --no-speed given?).")
    figure, axes = plt.subplots(figsize=(11, 8))
    families = sorted({r["family"] for r in measured})
    cmap = plt.get_cmap("tab20", max(len(families), 1))
    markers = "osD^v<>"
    for index, family in enumerate(families):
        points = [r for r in measured if r["family"] == family]
        axes.scatter([r["params_m"] for r in points], [r[y] for r in points], label=family,
                     color=cmap(index), marker=markers[index % len(markers)], s=25)
        for r in points:
            axes.annotate(r["model"], (r["params_m"], r[y]), fontsize=5, alpha=0.7)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("parameters (millions)")
    axes.set_ylabel(Y_LABELS[y])
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=6, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True
