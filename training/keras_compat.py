"""Work-around for keras 3 fit/evaluate under MultiWorkerMirroredStrategy (keras-team/keras#20585).

Keras' TF trainer builds metrics by `strategy.reduce("MEAN", batch)` on the first (nested) batch;
CollectiveAllReduceStrategy.reduce rejects nested PerReplica values, so `fit` fails before the
first step. Only the batch's shapes and dtypes are needed there, which this replica's local value
provides without any cross-worker communication. Its multi-worker `reduce_per_replica` also
reduces scalar logs along axis 0 and fails; see `_install_scalar_reduce_fix`.
"""

import types

import tensorflow as tf
from keras import tree


def _first_local(strategy, value):
    if isinstance(value, tf.distribute.DistributedValues):
        return strategy.experimental_local_results(value)[0]
    return value


def _maybe_symbolic_build(self, iterator=None, data_batch=None):
    if self._distribute_strategy is None:
        return
    strategy = self.distribute_strategy
    if iterator is not None:
        for _, _, it in iterator:
            data_batch = tree.map_structure(lambda v: _first_local(strategy, v), next(it))
            break
    with strategy.scope():
        self._symbolic_build(data_batch=data_batch)


def patch_for_multi_worker(model, strategy):
    """Install the local-shape build on `model` when `strategy` spans several workers."""
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        model._maybe_symbolic_build = types.MethodType(_maybe_symbolic_build, model)
        _install_scalar_reduce_fix()
    return model


def _install_scalar_reduce_fix():
    """keras' multi-worker `reduce_per_replica` reduces along axis 0, which scalar logs lack.

    Patched once, process-wide; other strategies and non-scalar values keep keras' behaviour.
    """
    from keras.src.backend.tensorflow import trainer as tf_trainer

    original = tf_trainer.reduce_per_replica
    if getattr(original, "_scalar_fix", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(strategy):
            def reduce(value):
                axis = None if value.shape.rank == 0 else 0
                return strategy.reduce("MEAN", value, axis=axis)

            return tree.map_structure(reduce, values)
        return original(values, strategy, reduction)

    reduce_per_replica._scalar_fix = True
    tf_trainer.reduce_per_replica = reduce_per_replica
