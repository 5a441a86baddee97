"""The block a finished run prints: its accuracy, wall time and where its files are."""

import os

from .run_dir import RunPaths, best_logged


def format_duration(seconds):
    """92.4 -> "1 min 32 s"; 3725 -> "1 h 2 min 5 s"."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min {secs} s"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _percent(fraction):
    return f"{100 * fraction:.1f}%"


def format_summary(report, paths: RunPaths):
    """One readable block; `report` is what train() returns."""
    replicas = report["replicas"]
    best = best_logged(paths)
    best_note = f" (epoch {best[0] + 1}, top-1 {_percent(best[1])})" if best else ""
    has_logs = os.path.isdir(paths.logs) and os.listdir(paths.logs)
    logs = paths.logs if has_logs else "none (pip install tensorboard to get them)"
    curves = report.get("curves") or f"not drawn: {report.get('curves_error', 'this process writes no files')}"
    rows = [
        ("report", paths.report),
        ("best checkpoint", paths.best + best_note),
        ("last checkpoint", paths.last),
        ("metrics", paths.metrics),
        ("curves", curves),
        ("TensorBoard logs", logs),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join([
        f"Finished: {report['model']} on {report['data']}, {report['epochs']} epochs ({report['epochs_run_now']} "
        f"in this run), {replicas} replica{'s' if replicas != 1 else ''}, {report['precision']}",
        f"  validation (final weights): top-1 {_percent(report['val_top1'])}, top-5 {_percent(report['val_top5'])}, "
        f"loss {report['val_loss']:.4f}",
        f"  wall time: {format_duration(report['wall_seconds'])}",
        *(f"  {name + ':':<{width + 1}} {value}" for name, value in rows),
    ])
