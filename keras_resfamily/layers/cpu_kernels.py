"""Which TensorFlow CPU kernels the ops being created will run on: oneDNN's or TensorFlow's own (Eigen), and at
which ISA. Layers pick a graph form by it where one form is much faster on some kernels; every form they pick is
exact and safe to run under any setting (a SavedModel traced on one machine may be served on another).
"""

import functools
import os
import platform


@functools.lru_cache(maxsize=None)
def tensorflow_onednn_enabled():
    """Whether TensorFlow runs its oneDNN kernels and graph rewrites in this process (TF_ENABLE_ONEDNN_OPTS, else
    on by default only on x86 CPUs with AVX512_VNNI / AVX512_BF16 / AMX); None where TensorFlow does not say."""
    try:  # private, and stable since TensorFlow 2.5
        from tensorflow.python.util import _pywrap_util_port

        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        return None


def runs_on_eigen_cpu_kernels():
    """Whether the TensorFlow ops created now will run one by one on TensorFlow's own (Eigen) CPU kernels: oneDNN
    off, no GPU visible, and not inside an XLA-compiled function. Layers pick graph forms only those kernels run
    faster by it (a pad moved into the op, which XLA cannot compile for pooling); both forms are exact.
    """
    return tensorflow_onednn_enabled() is False and _runs_op_by_op_on_cpu()


def runs_on_onednn_avx2_kernels():
    """Whether the TensorFlow ops created now will run one by one (no GPU, not XLA) on oneDNN's x86 kernels below
    AVX-512: an AVX2 CPU with TF_ENABLE_ONEDNN_OPTS=1, or ONEDNN_MAX_CPU_ISA capping them. There a Conv2D fused
    with a FusedBatchNorm runs 7-14x slower at batch 1 than one with a bias (TensorFlow 2.21)."""
    return onednn_below_avx512() and _runs_op_by_op_on_cpu()


def _runs_op_by_op_on_cpu():
    import tensorflow as tf
    from tensorflow.python.framework import ops
    from tensorflow.python.ops import control_flow_util

    return not tf.config.list_logical_devices("GPU") and not control_flow_util.GraphOrParentsInXlaContext(
        ops.get_default_graph())


@functools.lru_cache(maxsize=None)
def onednn_below_avx512():
    """True where TensorFlow's oneDNN kernels run on x86 below AVX-512: oneDNN on, and the CPU lacks AVX-512
    (avx512f/bw/vl/dq, oneDNN's AVX512_CORE) or ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA caps oneDNN lower. False
    elsewhere, and where the CPU's flags cannot be read."""
    if tensorflow_onednn_enabled() is not True or platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    cap = (os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "").upper()
    if cap.startswith(("SSE", "AVX2")) or cap == "AVX":
        return True
    flags = cpu_flags()
    return flags is not None and not {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags


def cpu_flags():
    """The CPU's feature flags from /proc/cpuinfo (Linux), or None."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None
