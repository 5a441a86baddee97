"""curves.png: loss and top-1 per epoch, train and validation, drawn from metrics.csv (so a resumed
run plots every epoch, not only those of its last process)."""

import csv
import os

PANELS = (("Loss", "loss", "val_loss", 1.0), ("Top-1 accuracy (%)", "top1", "val_top1", 100.0))


def read_history(metrics_path) -> dict:
    """{column: [value per epoch]} of metrics.csv, epochs 1-based under "epoch"; empty cells are NaN."""
    with open(metrics_path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{metrics_path!r} logs no epoch")
    history = {name: [float(row[name]) if row[name] not in (None, "") else float("nan") for row in rows]
               for name in rows[0]}
    history["epoch"] = [int(e) + 1 for e in history["epoch"]]
    return history


def plot_curves(metrics_path, out_path):
    """Two panels (loss, top-1) of train and validation values; written atomically to out_path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # Agg: no display, no global pyplot state
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    history = read_history(metrics_path)
    figure = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(figure)
    for axes, (title, train_key, val_key, scale) in zip(figure.subplots(1, 2), PANELS):
        for key, label in ((train_key, "train"), (val_key, "validation")):
            if key in history:
                axes.plot(history["epoch"], [v * scale for v in history[key]], marker="o", label=label)
        axes.set(title=title, xlabel="epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        axes.legend()
    temp = os.path.join(os.path.dirname(out_path), ".tmp-" + os.path.basename(out_path))
    figure.savefig(temp, format="png", dpi=100)
    os.replace(temp, out_path)
    return out_path


def draw_curves(metrics_path, out_path):
    """-> (path, None) when drawn, else (None, why not): plotting never fails a finished run."""
    try:
        return plot_curves(metrics_path, out_path), None
    except ImportError:
        return None, "matplotlib is not installed (pip install matplotlib)"
    except Exception as error:  # any plotting fault: the run's results are already saved
        return None, f"{type(error).__name__}: {error}"
