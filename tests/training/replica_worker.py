"""Subprocess for the distribution tests: train a few steps, dump every replica's weights to .npz.

usage: python replica_worker.py OUT.npz STRATEGY CPU_DEVICES STEPS [PRECISION]
Run as a separate process because logical CPU devices / TF_CONFIG must be set before TF starts.
"""

import sys

import numpy as np

import keras

from keras_resfamily.training import make_config, prepare

keras.config.disable_traceback_filtering()


def main(out, strategy, cpu_devices, steps, precision="float32"):
    cfg = make_config(model="ResNet18", data="digits", strategy=strategy, cpu_devices=int(cpu_devices),
                      batch_size=16, precision=precision, verbose=0, sync_batchnorm=True)
    run = prepare(cfg)
    run.model.fit(run.train_data, epochs=1, steps_per_epoch=int(steps), verbose=0)
    arrays = {"replicas": np.array(run.strategy.num_replicas_in_sync),
              "iterations": np.array(int(run.model.optimizer.iterations.numpy()))}
    for index, variable in enumerate(run.model.weights):
        values = run.strategy.experimental_local_results(variable.value)
        for replica, value in enumerate(values):
            arrays[f"w{index}_r{replica}"] = np.asarray(value)
    np.savez(out, **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:])
