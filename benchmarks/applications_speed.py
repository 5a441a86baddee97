"""Models keras.applications also ships, on CPU: ours vs keras.applications vs timm; depthwise conv forms.

Float32 (or `--precision bfloat16`: mixed_bfloat16 against timm's torch.autocast with channels_last), CPU,
synthetic inputs, the same intra-op thread count for TensorFlow and torch.

1. Models: inference img/s of keras_resfamily's ResNet50/101/152 and ResNet50V2/101V2/152V2 (timm resnet*,
   resnetv2_*), MobileNetV2, MobileNetV3Large, EfficientNetB0,
   InceptionV3, InceptionResNetV2 and Xception (weights=None), keras.applications' models of the same
   names (weights=None; MobileNetV3Large with include_preprocessing=False; EfficientNetB0's built-in
   Rescaling + Normalization cannot be switched off), and the timm models ours compute the same as
   (spec.reference: mobilenetv2_100, tf_mobilenetv3_large_100, tf_efficientnet_b0, inception_v3,
   inception_resnet_v2, legacy_xception; eval mode, torch.inference_mode, NCHW); also DenseNet121 (timm densenet121,
   keras.applications' DenseNet121), DPN68b (timm only) and ShuffleNetV2_x1_0 (torchvision only); ours also in
   the inference form `keras_resfamily.deploy.fold(model)` gives. KerasResNet50V2/101V2/152V2 compute
   keras.applications' ResNet50V2/101V2/152V2 (its network, not timm's resnetv2_*): timed against those, no
   timm. Keras models run as a warmed-up tf.function(jit_compile=False) of model(x, training=False); timm runs
   in a child process (torch cannot be imported where TensorFlow already is) that stays alive and times
   --calls calls per request.
2. Depthwise forms: the depthwise layers of MobileNetV2 / EfficientNetB0 (shapes at 224, scaled to
   --size), as keras.layers.DepthwiseConv2D, Conv2D(groups=channels), tf.nn.depthwise_conv2d, each as
   a graph and under XLA (jit_compile=True), checked equal (max abs diff <= 1e-4 x max |output|) to
   tf.nn.depthwise_conv2d; and our whole models as graph vs XLA.

Timing drifts on a shared machine, so every table comes from interleaved rounds: each round times
every row once, and a table reports the median over rounds. Ratios are img/s ratios (>1: ours faster).
Interleaving evens out drift, not oversubscription: with more runnable threads than cores (see the
load average printed), torch's OpenMP threads spin at each barrier for a descheduled peer (timm
MobileNetV2 at 64 px, 2 threads, load 5 on 2 cores: 1.3 s per batch instead of 28 ms).

    python3 benchmarks/applications_speed.py [--rounds 10] [--batches 8 1] [--size 224] [--threads N]
        [--models MobileNetV2 ...] [--shapes 112x112x32:3:1 ...] [--calls 1] [--settle 0.1]
        [--precision float32|bfloat16] [--emulate-avx2] [--skip-timm]
        [--skip-forms] [--out FILE.md]

--emulate-avx2 runs both sides with the kernels an AVX2 machine (AMD before Zen 4) would run, on a newer CPU: torch's
ATen kernels, oneDNN (torch's, and TensorFlow's where on) and MKL capped at AVX2, and TensorFlow's oneDNN off unless
TF_ENABLE_ONEDNN_OPTS says otherwise, as TensorFlow decides on such a machine. TensorFlow's own (Eigen) kernels
need no cap: the wheel is built without AVX2. Cache sizes and clocks stay this machine's.

Not a test: numbers depend on the machine and its load.
"""

import argparse
import json
import os
import platform
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "keras_resfamily", "bench")
MODELS = ("ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
          "MobileNet", "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small",
          *(f"EfficientNetB{i}" for i in range(8)), "InceptionV3", "InceptionResNetV2", "Xception",
          "DenseNet121", "DenseNet169", "DenseNet201",
          "DPN68b", "ShuffleNetV2_x1_0",  # these two: no keras.applications model
          "KerasResNet50V2", "KerasResNet101V2", "KerasResNet152V2")  # keras.applications' ResNetV2 network
# Ours takes normalised input too.
APPLICATION_OPTIONS = {name: {"include_preprocessing": False} for name in ("MobileNetV3Large", "MobileNetV3Small")}
# Depthwise layers of MobileNetV2 / EfficientNetB0 at 224: "HxWxC:kernel:stride".
SHAPES = ("112x112x32:3:1", "112x112x96:3:2", "56x56x144:3:1", "28x28x240:5:1", "14x14x480:3:1",
          "14x14x672:5:2", "7x7x1152:5:1")
TOLERANCE = 1e-4  # max abs diff relative to max |reference output|
WARMUP = 2  # untimed calls per row before the rounds: tracing, XLA compilation
# What an AVX2-only machine would run (see --emulate-avx2); read by torch, oneDNN and MKL when they load.
AVX2_KERNELS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
PRECISIONS = {  # --precision: how each side computes
    "float32": "float32",
    "bfloat16": "bfloat16: Keras models under the mixed_bfloat16 policy, the reference under "
                "torch.autocast('cpu', bfloat16) with channels_last",
}


class TimmWorker:
    """This script in --timm-worker mode, in a child process: JSON lines in and out, one timed call per request.

    Started before the parent imports TensorFlow, so torch's import in the child overlaps it.
    """

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--timm-worker"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.info = None

    def load(self, references, size, batches, threads, precision):
        """Loads the models; raises RuntimeError with the reason when torch or timm cannot be imported."""
        imported = self._reply()
        if "error" in imported:
            raise RuntimeError(f"The timm comparison needs torch and timm in this Python (pip install torch timm): "
                               f"{imported['error']}. Pass --skip-timm to run without it.")
        self.info = self._ask(dict(references=list(references), size=size, batches=list(batches), threads=threads,
                                   precision=precision))

    def _reply(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"The timm worker exited with code {self.process.wait()}; its error is above.")
        return json.loads(line)

    def _ask(self, message):
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        return self._reply()

    def seconds(self, reference, batch, calls=1):
        return self._ask(dict(reference=reference, batch=batch, calls=calls))["seconds"]

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def reference_model(key):
    """A spec's `reference_key` as an eval-mode torch model: "torchvision.NAME" or a timm name."""
    import timm
    import torchvision

    source, _, name = key.rpartition(".")
    if source == "torchvision":
        return getattr(torchvision.models, name)(weights=None).eval()
    return timm.create_model(key, pretrained=False).eval()


def timm_worker():
    """--timm-worker: no TensorFlow here. Reads the setup line, loads the models, then times one call per line."""
    reply, sys.stdout = sys.stdout, sys.stderr  # only replies go to the parent
    sys.path.insert(0, BENCH)
    from stopwatch import median_seconds  # by path: importing the package would import TensorFlow

    try:
        import timm
        import torch
    except ImportError as error:
        print(json.dumps(dict(error=f"{type(error).__name__}: {error}")), file=reply, flush=True)
        return
    print(json.dumps(dict(imported=True)), file=reply, flush=True)
    setup = json.loads(sys.stdin.readline())
    torch.set_num_threads(setup["threads"])
    bfloat16 = setup["precision"] == "bfloat16"  # autocast + channels_last, as timm's CPU bf16 recipe
    layout = torch.channels_last if bfloat16 else torch.contiguous_format
    models = {name: reference_model(name).to(memory_format=layout) for name in setup["references"]}
    size = setup["size"]
    # timing.synthetic_batch's images (seed 0), channels first
    images = {b: torch.from_numpy(np.random.default_rng(0).uniform(0, 1, size=(b, size, size, 3))
                                  .astype("float32").transpose(0, 3, 1, 2).copy()).to(memory_format=layout)
              for b in setup["batches"]}
    print(json.dumps(dict(torch=torch.__version__, timm=timm.__version__, threads=torch.get_num_threads(),
                          capability=torch.backends.cpu.get_cpu_capability())), file=reply, flush=True)
    with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=bfloat16):
        for line in sys.stdin:
            request = json.loads(line)
            model, batch = models[request["reference"]], images[request["batch"]]
            seconds = median_seconds(lambda: model(batch), 0, request.get("calls", 1))
            print(json.dumps(dict(seconds=seconds)), file=reply, flush=True)


def parse_shape(text):
    dims, kernel, stride = text.split(":")
    return (*map(int, dims.split("x")), int(kernel), int(stride))


def rel_diff(output, reference):
    output, reference = np.asarray(output), np.asarray(reference)
    return float(np.max(np.abs(output - reference)) / max(np.max(np.abs(reference)), 1e-30))


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|"]
    return lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows] + [""]


def setup_lines(args, threads, worker):
    import keras
    import tensorflow as tf

    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    machine = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name")),
                   platform.processor())
    from keras_resfamily.layers.cpu_kernels import cpu_flags, tensorflow_onednn_enabled

    flags = cpu_flags() or set()
    isa = ", ".join(flag for flag in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if flag in flags) or "unknown"

    onednn = {True: "on", False: "off", None: "unknown"}[tensorflow_onednn_enabled()]
    versions = f"TensorFlow {tf.__version__}, Keras {keras.__version__}"
    if worker:
        versions += f", torch {worker.info['torch']}, timm {worker.info['timm']}"
    return [
        "# Ours vs keras.applications vs timm on CPU (and depthwise convolution forms)",
        "",
        f"- Machine: {machine} ({isa}), {len(os.sched_getaffinity(0))} cores available, {load_average()}",
        f"- Threads: {threads} intra-op for TensorFlow (inter-op 1) and torch "
        f"({worker.info['threads'] if worker else '-'} reported by torch)",
        f"- oneDNN in TensorFlow: {onednn} (TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'unset')})",
        f"- torch's CPU kernels: {worker.info['capability'] if worker else '-'}"
        + (" (--emulate-avx2: " + ", ".join(f"{key}={value}" for key, value in AVX2_KERNELS.items()) + ")"
           if args.emulate_avx2 else ""),
        f"- Versions: {versions}",
        f"- {PRECISIONS[args.precision]}, {args.size}x{args.size}, median of {args.rounds} interleaved rounds after "
        f"{WARMUP} warm-up calls (models: {args.settle:g} s pause, then the median of {args.calls} back-to-back "
        "call(s) per timing)",
        "- Keras models: tf.function(jit_compile=False) of model(x, training=False); timm: eval(), "
        "torch.inference_mode(), NCHW, in a child process",
        "",
    ]


def load_average():
    return "load average {:.1f} (1 min)".format(os.getloadavg()[0])


def keras_timer(fn, x, calls=1):
    from keras_resfamily.bench.stopwatch import median_seconds

    return lambda: median_seconds(lambda: fn(x), 0, calls)


def forward(model, jit_compile=False):
    import tensorflow as tf

    return tf.function(lambda x: model(x, training=False), jit_compile=jit_compile)


def applications_name(spec):
    """The name of keras.applications' model of the same architecture: the row's reference where that is
    keras.applications' (KerasResNet50V2 -> ResNet50V2), else the row's own name."""
    return spec.reference if spec.reference_source == "keras.applications" else spec.name


def torch_reference(spec):
    """The reference_key the torch worker times, or None (no reference, or a keras.applications one)."""
    return spec.reference_key if spec.reference and spec.reference_source != "keras.applications" else None


def model_speed(args, ours, worker):
    import keras
    import tensorflow as tf

    import keras_resfamily as kr
    from keras_resfamily.bench.stopwatch import interleaved
    from keras_resfamily.bench.timing import synthetic_batch

    shape = (args.size, args.size, 3)
    images = {b: tf.constant(synthetic_batch(b, args.size)) for b in args.batches}
    timers = {}
    for name in args.models:
        applications, spec = None, kr.get_spec(name)
        if hasattr(keras.applications, applications_name(spec)):
            applications = forward(getattr(keras.applications, applications_name(spec))(
                weights=None, input_shape=shape, **APPLICATION_OPTIONS.get(name, {})))
        for b in args.batches:
            timers[name, b, "ours"] = keras_timer(ours[name][0], images[b], args.calls)
            timers[name, b, "folded"] = keras_timer(ours[name][2], images[b], args.calls)
            if applications:
                timers[name, b, "keras"] = keras_timer(applications, images[b], args.calls)
            if worker and torch_reference(spec):
                timers[name, b, "timm"] = lambda r=torch_reference(spec), b=b: worker.seconds(r, b, args.calls)
    seconds = interleaved(timers, args.rounds, WARMUP, settle=args.settle)
    rows = []
    for name in args.models:
        for b in args.batches:
            ours_s, folded_s, keras_s, timm_s = (seconds.get((name, b, side))
                                                 for side in ("ours", "folded", "keras", "timm"))
            rows.append([name, kr.get_spec(name).reference_label if worker else "-", b, f"{b / ours_s:.1f}",
                         f"{b / folded_s:.1f}", f"{b / keras_s:.1f}" if keras_s else "-",
                         f"{b / timm_s:.1f}" if timm_s else "-", f"{keras_s / ours_s:.2f}" if keras_s else "-",
                         f"{timm_s / ours_s:.2f}" if timm_s else "-", f"{timm_s / folded_s:.2f}" if timm_s else "-"])
    return ["## Models: inference img/s", "", "Ratios are img/s ratios: > 1 means ours is faster. Folded: "
            "`keras_resfamily.deploy.fold(model)`, BatchNorm folded into the convolutions (same outputs).", ""] + table(
        ["Model", "Reference", "Batch", "Ours img/s", "Ours folded img/s", "keras.applications img/s",
         "Reference img/s", "Ours / keras.applications", "Ours / reference", "Ours folded / reference"], rows)


def depthwise_forms(h, w, c, k, s, batch):
    """{form: (graph or XLA function, its output)} and the input, all with one kernel."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((batch, h, w, c), dtype="float32"))
    kernel = rng.standard_normal((k, k, c, 1), dtype="float32") * 0.1
    depthwise = keras.layers.DepthwiseConv2D(k, strides=s, padding="same", use_bias=False)
    depthwise.build(x.shape)
    depthwise.set_weights([kernel])
    grouped = keras.layers.Conv2D(c, k, strides=s, padding="same", groups=c, use_bias=False)
    grouped.build(x.shape)
    grouped.set_weights([kernel.reshape(k, k, 1, c)])  # (k, k, C, 1) -> (k, k, C / groups, C), same order
    plain = {"DepthwiseConv2D": depthwise, "Conv2D(groups=C)": grouped,
             "tf.nn.depthwise_conv2d": lambda x: tf.nn.depthwise_conv2d(x, kernel, [1, s, s, 1], "SAME")}
    forms = {}
    for name, fn in plain.items():
        for suffix, jit in (("", False), (" XLA", True)):
            compiled = tf.function(lambda x, fn=fn: fn(x), jit_compile=jit)
            forms[name + suffix] = (compiled, compiled(x))
    return forms, x


def forms_speed(args, ours):
    import tensorflow as tf

    from keras_resfamily.bench.stopwatch import interleaved
    from keras_resfamily.bench.timing import synthetic_batch

    shapes = [parse_shape(text) for text in args.shapes or SHAPES]
    if not args.shapes:  # the same layers at --size
        shapes = [(max(1, h * args.size // 224), max(1, w * args.size // 224), c, k, s) for h, w, c, k, s in shapes]
    timers, outputs = {}, {}
    for shape in shapes:
        for b in args.batches:
            forms, x = depthwise_forms(*shape, b)
            for form, (fn, output) in forms.items():
                timers[shape, b, form], outputs[shape, b, form] = keras_timer(fn, x), output
    names = list(forms)
    seconds = interleaved(timers, args.rounds, WARMUP)
    rows = []
    for shape in shapes:
        for b in args.batches:
            reference = outputs[shape, b, "tf.nn.depthwise_conv2d"]
            diffs = {form: rel_diff(outputs[shape, b, form], reference) for form in names}
            ok = [form for form in names if diffs[form] <= TOLERANCE]
            cells = [f"{seconds[shape, b, form] * 1e3:.3f}" + ("" if form in ok else " *") for form in names]
            fastest = min(ok, key=lambda form: seconds[shape, b, form]) if ok else "-"
            rows.append(["{}x{}x{} k{} s{}".format(*shape), b, *cells, f"{max(diffs.values()):.1e}", fastest])
    lines = ["## Depthwise forms: median ms", "",
             f"Output checked against tf.nn.depthwise_conv2d: max abs diff <= {TOLERANCE:g} x max |output| "
             "(* marks a form that differs). Keras runs Conv2D(groups>1) on CPU as an XLA cluster even in a graph.",
             ""] + table(["Shape", "Batch", *names, "Max rel diff", "Fastest correct"], rows)

    images = {b: tf.constant(synthetic_batch(b, args.size)) for b in args.batches}
    timers, diffs = {}, {}
    for name in args.models:
        xla = forward(ours[name][1], jit_compile=True)
        for b in args.batches:
            diffs[name, b] = rel_diff(xla(images[b]), ours[name][0](images[b]))
            timers[name, b, "graph"] = keras_timer(ours[name][0], images[b])
            timers[name, b, "xla"] = keras_timer(xla, images[b])
    seconds = interleaved(timers, args.rounds, WARMUP)
    rows = [[name, b, f"{seconds[name, b, 'graph'] * 1e3:.2f}", f"{seconds[name, b, 'xla'] * 1e3:.2f}",
             f"{seconds[name, b, 'graph'] / seconds[name, b, 'xla']:.2f}", f"{diffs[name, b]:.1e}"]
            for name in args.models for b in args.batches]
    return lines + ["## Our models: graph vs XLA, median ms", ""] + table(
        ["Model", "Batch", "Graph ms", "XLA ms", "XLA speed / graph", "Max rel diff"], rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batches", type=int, nargs="+", default=[8, 1])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads, TF and torch (0: all cores)")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--shapes", nargs="+", help="depthwise layers HxWxC:kernel:stride (default: "
                                                    "MobileNetV2 / EfficientNetB0 layers, scaled to --size)")
    parser.add_argument("--settle", type=float, default=0.1, help="seconds of pause before each model timing")
    parser.add_argument("--calls", type=int, default=1,
                        help="back-to-back calls per model timing, their median the timing (default 1: one call after "
                             "the --settle pause, the latency of an isolated request)")
    parser.add_argument("--precision", choices=tuple(PRECISIONS), default="float32",
                        help="float32 (default), or bfloat16 (mixed_bfloat16 / torch.autocast; no depthwise forms)")
    parser.add_argument("--emulate-avx2", action="store_true",
                        help="run the kernels an AVX2 machine runs (torch, oneDNN, MKL capped at AVX2; TensorFlow's "
                             "oneDNN off unless TF_ENABLE_ONEDNN_OPTS is set)")
    parser.add_argument("--skip-timm", action="store_true")
    parser.add_argument("--skip-forms", action="store_true")
    parser.add_argument("--out", help="also write the tables to this markdown file")
    parser.add_argument("--timm-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.timm_worker:
        return timm_worker()
    if args.rounds < 1 or args.calls < 1:
        parser.error(f"--rounds and --calls must be >= 1; received {args.rounds} and {args.calls}")
    threads = args.threads or len(os.sched_getaffinity(0))
    if args.emulate_avx2:  # before the timm worker starts and before TensorFlow loads
        os.environ.update(AVX2_KERNELS)
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    worker = None if args.skip_timm else TimmWorker()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, ROOT)  # run from a checkout
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.get_logger().setLevel("ERROR")  # no retracing warnings: every form is its own tf.function
    import keras_resfamily as kr

    if args.precision == "bfloat16":
        import keras

        keras.mixed_precision.set_global_policy("mixed_bfloat16")  # before any model is built
    try:
        if worker:
            try:
                worker.load([r for r in map(torch_reference, map(kr.get_spec, args.models)) if r], args.size,
                            args.batches, threads, args.precision)
            except RuntimeError as error:
                sys.exit(f"{os.path.basename(__file__)}: error: {error}")
        lines = setup_lines(args, threads, worker)
        ours = {}  # name: (graph inference function, model, graph inference function of its folded form)
        for name in args.models:
            model = kr.create_model(name, input_shape=(args.size, args.size, 3))
            ours[name] = (forward(model), model, forward(kr.deploy.fold(model)))
        lines += model_speed(args, ours, worker)
    finally:
        if worker:
            worker.close()
    if not args.skip_forms and args.precision == "float32":  # the forms are checked against float32 outputs
        lines += forms_speed(args, ours)
    text = "\n".join(lines + [f"At the end: {load_average()}."])
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
