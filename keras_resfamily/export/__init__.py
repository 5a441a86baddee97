"""Deployment exports: TF Serving SavedModels (`export_serving`, CLI `python -m keras_resfamily.export`)."""

from keras_resfamily.export.serving import export_serving

__all__ = ["export_serving"]
