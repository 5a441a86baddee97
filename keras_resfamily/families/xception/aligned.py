"""DeepLab's aligned Xception under timm `xception41/65/71` (post-activation) and
`xception41p/65p` (pre-activation) module names.

Stem: stem.0 (3x3 stride-2 conv, BN, ReLU), stem.1 (3x3 conv, BN, ReLU; pre-activation: the conv
alone). A block `blocks.N` stacks three separable convs `stack.conv1..3`, the last one strided, all
with PyTorch padding 1; its shortcut is a 1x1 conv (+ BN) where channels or stride change.

    post-activation  separable conv = dw, BN, pw, BN; residual blocks put a ReLU (`stack.actN`)
                     before each, the exit block a ReLU after each BN (`act_dw`, `act_pw`).
    pre-activation   block = BN-ReLU (`norm`), which the shortcut also takes; separable conv =
                     [BN-ReLU (`norm`), from the second on] dw, pw; a ReLU (`act`) after the last block.
"""

from keras_resfamily.families.xception import convs


def stem(x, spec):
    x = convs.conv(x, 32, 3, "stem-0-conv", spec, strides=2, pad=1)
    x = convs.relu(convs.batch_norm(x, "stem-0-bn", spec), "stem-0-bn-act")
    if spec.style == "preact":
        return convs.conv(x, 64, 3, "stem-1", spec, pad=1)
    x = convs.conv(x, 64, 3, "stem-1-conv", spec, pad=1)
    return convs.relu(convs.batch_norm(x, "stem-1-bn", spec), "stem-1-bn-act")


def _projects(x, block):
    return block.skip and (x.shape[-1] != block.widths[-1] or block.stride != 1)


def _strides(block, i):
    return block.stride if i == len(block.widths) - 1 else 1


def block(x, block, index, spec, drop_path_rate):
    """(output, feature tap): the tap is the input of the last (strided) separable conv, as timm's."""
    prefix = f"blocks-{index}"
    post_act = not block.skip  # timm's start_with_relu=False
    y = tap = x
    for i, width in enumerate(block.widths):
        name = f"{prefix}-stack-conv{i + 1}"
        if not post_act:
            y = convs.relu(y, f"{prefix}-stack-act{i + 1}")
        tap = y
        y = convs.depthwise(y, f"{name}-conv_dw", spec, strides=_strides(block, i))
        y = convs.batch_norm(y, f"{name}-bn_dw", spec)
        y = convs.relu(y, f"{name}-act_dw") if post_act else y
        y = convs.conv(y, width, 1, f"{name}-conv_pw", spec)
        y = convs.batch_norm(y, f"{name}-bn_pw", spec)
        y = convs.relu(y, f"{name}-act_pw") if post_act else y
    if not block.skip:
        return y, tap
    shortcut = x
    if _projects(x, block):
        shortcut = convs.conv(x, block.widths[-1], 1, f"{prefix}-shortcut-conv", spec, strides=block.stride)
        shortcut = convs.batch_norm(shortcut, f"{prefix}-shortcut-bn", spec)
    return convs.residual(y, shortcut, prefix, drop_path_rate), tap


def preact_block(x, block, index, spec, drop_path_rate):
    """(output, feature tap): the tap is the input of the last (strided) separable conv's BN-ReLU, as timm's."""
    prefix = f"blocks-{index}"
    x = convs.relu(convs.batch_norm(x, f"{prefix}-norm", spec), f"{prefix}-norm-act")
    y = tap = x
    for i, width in enumerate(block.widths):
        name = f"{prefix}-stack-conv{i + 1}"
        tap = y
        if i:
            y = convs.relu(convs.batch_norm(y, f"{name}-norm", spec), f"{name}-norm-act")
        y = convs.depthwise(y, f"{name}-conv_dw", spec, strides=_strides(block, i))
        y = convs.conv(y, width, 1, f"{name}-conv_pw", spec)
    if not block.skip:
        return y, tap
    shortcut = x
    if _projects(x, block):
        shortcut = convs.conv(x, block.widths[-1], 1, f"{prefix}-shortcut", spec, strides=block.stride)
    return convs.residual(y, shortcut, prefix, drop_path_rate), tap


def preact_end(x):
    return convs.relu(x, "act")
