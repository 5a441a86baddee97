"""Final evaluation report: top-1 / top-5 / loss over the whole validation split."""

import time

from .run_dir import write_json_atomic


def evaluation_report(model, dataset, steps=None, verbose=0):
    start = time.time()
    results = model.evaluate(dataset, steps=steps, verbose=verbose, return_dict=True)
    return {
        "val_loss": float(results["loss"]),
        "val_top1": float(results["top1"]),
        "val_top5": float(results["top5"]),
        "eval_seconds": round(time.time() - start, 2),
    }


def write_report(report, path):
    write_json_atomic(path, report)
