"""The architecture as data: block-definition rows, decoded and scaled into the blocks a row builds.

A row's `arch` is one tuple per stage of block definitions in timm's short notation (the
EfficientNet / MobileNet convention), e.g. "ir_r2_k3_s2_e6_c24_se0.25":

    kind     ds (depthwise-separable), dsa (depthwise-separable with pointwise activation, no skip:
             MobileNetV1), ir (inverted residual), cn (conv-BN-act)
    r<n>     repeats                           k<k>[.<k>...]  depthwise kernel(s): several = mixed
    s<n>     stride of the first repeat        e<x>           expansion ratio (ir)
    c<n>     output channels (before width)    se<x>          squeeze-excite ratio
    a<k.k>   expansion 1x1 conv groups (mixed) p<k.k>         projection 1x1 conv groups (mixed)
    n<act>   activation: re relu, r6 relu6, hs hard-swish, sw swish (default: the row's)
    noskip   no residual connection            skip           residual connection (cn only)

`plan(spec)` applies the row's width (channel rounding) and depth (per-stage repeat scaling)
multipliers and resolves every block: channels, stride, activation, squeeze-excite width, skip.
"""

import dataclasses
import functools
import math
from typing import Optional, Tuple

from keras_resfamily.layers.utils import make_divisible

BLOCK_KINDS = ("ds", "dsa", "ir", "cn")
ACTIVATION_CODES = {"re": "relu", "r6": "relu6", "hs": "hard_swish", "sw": "swish"}
ACTIVATIONS = tuple(ACTIVATION_CODES.values())


@dataclasses.dataclass(frozen=True)
class BlockDef:
    """One decoded block-definition entry (before width / depth scaling)."""

    kind: str
    repeats: int
    out: int
    stride: int
    kernel: Tuple[int, ...] = (3,)
    expansion: float = 1.0
    se: float = 0.0
    act: Optional[str] = None
    skip: Optional[bool] = None  # None: the kind's rule; False: "noskip"; True: "skip"
    exp_kernel: Tuple[int, ...] = (1,)
    pw_kernel: Tuple[int, ...] = (1,)


def _kernels(text, entry):
    try:
        kernels = tuple(int(k) for k in text.split("."))
    except ValueError:
        kernels = ()
    if not kernels or min(kernels) < 1:
        raise ValueError(f"Bad kernel size(s) {text!r} in block definition {entry!r}.")
    return kernels


@functools.lru_cache(maxsize=None)
def parse_block(entry: str) -> BlockDef:
    """Decode one block-definition string (see the module docstring)."""
    kind, *options = entry.split("_")
    if kind not in BLOCK_KINDS:
        raise ValueError(f"Unknown block kind {kind!r} in block definition {entry!r}; expected one of {BLOCK_KINDS}.")
    args = {}
    for option in options:
        if option in ("skip", "noskip"):
            args["skip"] = option == "skip"
        elif option.startswith("se"):
            args["se"] = float(option[2:])
        elif option.startswith("n"):
            if option[1:] not in ACTIVATION_CODES:
                raise ValueError(f"Unknown activation {option!r} in block definition {entry!r}; expected n + one "
                                 f"of {sorted(ACTIVATION_CODES)}.")
            args["act"] = ACTIVATION_CODES[option[1:]]
        elif option[:1] in ("k", "a", "p"):
            key = {"k": "kernel", "a": "exp_kernel", "p": "pw_kernel"}[option[0]]
            args[key] = _kernels(option[1:], entry)
        elif option[:1] in ("r", "s", "c") and option[1:].isdigit():
            args[{"r": "repeats", "s": "stride", "c": "out"}[option[0]]] = int(option[1:])
        elif option.startswith("e"):
            args["expansion"] = float(option[1:])
        else:
            raise ValueError(f"Unknown option {option!r} in block definition {entry!r}.")
    missing = [key for key in ("repeats", "stride", "out") if key not in args]
    if missing:
        raise ValueError(f"Block definition {entry!r} lacks {missing} (r<repeats>, s<stride>, c<channels>).")
    if args["stride"] not in (1, 2) or args["repeats"] < 1:
        raise ValueError(f"Block definition {entry!r}: stride must be 1 or 2 and repeats >= 1.")
    if kind == "cn" and len(args.get("kernel", (3,))) > 1:
        raise ValueError(f"Block definition {entry!r}: a cn block has one kernel size.")
    return BlockDef(kind=kind, **args)


def round_channels(channels, multiplier=1.0, divisor=8):
    """Channels scaled by the width multiplier and rounded to a multiple of `divisor` (never below 90%
    of the scaled value): timm's / TF's `round_channels` rule, used for every scaled width."""
    return make_divisible(channels * multiplier, divisor)


def scale_depth(repeats, multiplier, trunc="ceil"):
    """Scale the repeats of one stage's definitions by `multiplier` (EfficientNet compound scaling).

    The stage total is scaled ("ceil": ceil(n * m), EfficientNet; "round": max(1, round(n * m)), MixNet)
    and shared out over the definitions in proportion, from the last one back, each keeping at least
    one repeat (so the first, often a different block, grows last).
    """
    total = sum(repeats)
    target = max(1, round(total * multiplier)) if trunc == "round" else int(math.ceil(total * multiplier))
    scaled = []
    for count in reversed(repeats):
        share = max(1, round(count / total * target))
        scaled.append(share)
        total -= count
        target -= share
    return scaled[::-1]


@dataclasses.dataclass(frozen=True)
class Block:
    """One block of a built network, fully resolved."""

    kind: str
    stage: int
    index: int  # within its stage
    position: int  # among all blocks
    in_channels: int
    out_channels: int
    mid_channels: int  # after expansion (ir); the input channels otherwise
    kernel: Tuple[int, ...]
    exp_kernel: Tuple[int, ...]
    pw_kernel: Tuple[int, ...]
    stride: int
    act: str
    se_channels: int  # 0: no squeeze-excite
    se_act: str
    skip: bool

    @property
    def mixed(self):
        return len(self.kernel) > 1 or len(self.exp_kernel) > 1 or len(self.pw_kernel) > 1


@dataclasses.dataclass(frozen=True)
class Plan:
    stem_channels: int
    blocks: Tuple[Block, ...]
    head_channels: int  # 0: no head convolution
    stage_depths: Tuple[int, ...]


def se_channels(spec, kind, channels, expansion, ratio):
    """Hidden width of a block's squeeze-excite on `channels` (timm's two rules)."""
    if not ratio:
        return 0
    if spec.se == "mobilenetv3":  # from the expanded width, rounded to a multiple of 8
        return make_divisible(channels * ratio, 8)
    # EfficientNet / MixNet: the ratio is of the block's input width, i.e. expanded / expansion
    return round(channels * (ratio / (expansion if kind == "ir" else 1.0)))


def _skip(kind, rule, stride, in_channels, out_channels):
    fits = stride == 1 and in_channels == out_channels
    if kind == "dsa":
        return False
    if kind == "cn":
        return fits and rule is True
    return fits and rule is not False


@functools.lru_cache(maxsize=None)
def plan(spec) -> Plan:
    """Resolve a row's blocks: width and depth multipliers, channel rounding, activations, SE, skips."""
    width = spec.width

    def scaled(channels):
        return round_channels(channels, width, spec.channel_divisor)

    stem = spec.stem_width if spec.fix_stem else scaled(spec.stem_width)
    blocks, channels, position, depths = [], stem, 0, []
    last_stage = len(spec.arch) - 1
    for stage, entries in enumerate(spec.arch):
        defs = [parse_block(entry) for entry in entries]
        fixed = spec.fix_first_last and stage in (0, last_stage)
        repeats = scale_depth([d.repeats for d in defs], 1.0 if fixed else spec.depth, spec.depth_trunc)
        index = 0
        for definition, count in zip(defs, repeats):
            for _ in range(count):
                stride = definition.stride if index == 0 else 1
                out = scaled(definition.out)
                mid = make_divisible(channels * definition.expansion) if definition.kind == "ir" else channels
                act = definition.act or spec.act
                blocks.append(Block(
                    kind=definition.kind, stage=stage, index=index, position=position, in_channels=channels,
                    out_channels=out, mid_channels=mid, kernel=definition.kernel, exp_kernel=definition.exp_kernel,
                    pw_kernel=definition.pw_kernel, stride=stride, act=act,
                    se_channels=se_channels(spec, definition.kind, mid, definition.expansion, definition.se),
                    se_act="relu" if spec.se == "mobilenetv3" else act,
                    skip=_skip(definition.kind, definition.skip, stride, channels, out),
                ))
                channels, index, position = out, index + 1, position + 1
        depths.append(index)
    if spec.head == "none":
        head = 0
    elif spec.head_scaling == "fixed":
        head = spec.head_width
    elif spec.head_scaling == "at_least":
        head = max(spec.head_width, scaled(spec.head_width))
    else:
        head = scaled(spec.head_width)
    return Plan(stem_channels=stem, blocks=tuple(blocks), head_channels=head, stage_depths=tuple(depths))
