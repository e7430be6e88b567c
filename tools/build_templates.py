"""Regenerate the template graphs in ``models/`` (run: ``python tools/build_templates.py [NAME ...]``).

Templates are data; this script is how that data was written, kept so it can be reviewed and
re-run. Parameter counts are computed by the studio's own inference and stored in each file;
tests check them against Keras.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.core.fileio import atomic_write_json  # noqa: E402
from studio.core.graph.builder import Builder  # noqa: E402
from studio.core.graph.infer import analyze  # noqa: E402
from studio.core.graph.model import Graph  # noqa: E402

MODELS = Path(__file__).resolve().parents[1] / "models"


def mlp_xor() -> Graph:
    b = Builder()
    x = b.add("Input", shape=[2])
    x = b.add("Dense", x, units=4, activation="tanh", name="hidden")
    b.add("Dense", x, units=1, activation="sigmoid", name="output")
    return b.graph


def perceptron() -> Graph:
    b = Builder()
    x = b.add("Input", shape=[2])
    b.add("Dense", x, units=1, activation="sigmoid", name="output")
    return b.graph


def mlp_one_hidden() -> Graph:
    b = Builder()
    x = b.add("Input", shape=[2])
    x = b.add("Dense", x, units=8, activation="tanh", name="hidden")
    b.add("Dense", x, units=1, activation="sigmoid", name="output")
    return b.graph


def unet_28() -> Graph:
    """A small U-Net: two down stages, a bottleneck, two up stages with skip connections, a 1x1 head."""
    b = Builder()

    def double(x, filters, name):
        for part in ("a", "b"):
            x = b.add("Conv2D", x, filters=filters, kernel_size=[3, 3], padding="same", activation="relu",
                      name=f"{name}_{part}")
        return x

    x = b.add("Input", shape=[28, 28, 1])
    down1 = double(x, 16, "down1")
    down2 = double(b.add("MaxPooling2D", down1, name="pool1"), 32, "down2")
    middle = double(b.add("MaxPooling2D", down2, name="pool2"), 64, "middle")
    up2 = b.add("Conv2DTranspose", middle, filters=32, kernel_size=[2, 2], strides=[2, 2], name="up2_upsample")
    up2 = double(b.add("Concatenate", up2, down2, name="up2_skip"), 32, "up2")
    up1 = b.add("Conv2DTranspose", up2, filters=16, kernel_size=[2, 2], strides=[2, 2], name="up1_upsample")
    up1 = double(b.add("Concatenate", up1, down1, name="up1_skip"), 16, "up1")
    b.add("Conv2D", up1, filters=5, kernel_size=[1, 1], activation="softmax", name="pixel_classes")
    return b.graph


def segnet_28() -> Graph:
    """A small SegNet: the decoder unpools into the encoder's max positions (MaxUnpooling2D), no skips."""
    b = Builder()

    def double(x, filters, name, last=None):
        x = b.add("Conv2D", x, filters=filters, kernel_size=[3, 3], padding="same", activation="relu", name=f"{name}_a")
        return b.add("Conv2D", x, filters=last or filters, kernel_size=[3, 3], padding="same", activation="relu",
                     name=f"{name}_b")

    x = b.add("Input", shape=[28, 28, 1])
    enc1 = double(x, 16, "enc1")
    enc2 = double(b.add("MaxPooling2D", enc1, name="pool1"), 32, "enc2")
    middle = double(b.add("MaxPooling2D", enc2, name="pool2"), 64, "middle", last=32)
    dec2 = double(b.add("MaxUnpooling2D", middle, enc2, name="unpool2"), 32, "dec2", last=16)
    dec1 = double(b.add("MaxUnpooling2D", dec2, enc1, name="unpool1"), 16, "dec1")
    b.add("Conv2D", dec1, filters=5, kernel_size=[1, 1], activation="softmax", name="pixel_classes")
    return b.graph


def shufflenet_32() -> Graph:
    """ShuffleNet units: grouped 1x1 convolutions (cheap, but blind across groups) with a channel
    shuffle between them, a depthwise 3x3 in the middle and a residual join."""
    b = Builder()
    groups = 3

    def norm(x, name):  # running statistics that catch up within a short training on a small dataset
        return b.add("BatchNormalization", x, momentum=0.9, name=name)

    def unit(x, channels, name):
        y = b.add("Conv2D", x, filters=channels, kernel_size=[1, 1], groups=groups, use_bias=False,
                  name=f"{name}_gconv1")
        y = b.add("ReLU", norm(y, f"{name}_bn1"), name=f"{name}_relu")
        y = b.add("ChannelShuffle", y, groups=groups, name=f"{name}_shuffle")
        y = b.add("DepthwiseConv2D", y, kernel_size=[3, 3], padding="same", use_bias=False, name=f"{name}_dwconv")
        y = norm(y, f"{name}_bn2")
        y = b.add("Conv2D", y, filters=channels, kernel_size=[1, 1], groups=groups, use_bias=False,
                  name=f"{name}_gconv2")
        y = norm(y, f"{name}_bn3")
        return b.add("ReLU", b.add("Add", x, y, name=f"{name}_add"), name=f"{name}_out")

    x = b.add("Input", shape=[32, 32, 3])
    x = b.add("Conv2D", x, filters=24, kernel_size=[3, 3], strides=[2, 2], padding="same", activation="relu",
              name="stem")
    x = b.add("MaxPooling2D", unit(x, 24, "unit1"), name="pool1")
    x = b.add("Conv2D", x, filters=48, kernel_size=[1, 1], activation="relu", name="widen")
    x = unit(unit(x, 48, "unit2"), 48, "unit3")
    x = b.add("GlobalAveragePooling2D", x, name="pool")
    b.add("Dense", x, units=10, activation="softmax", name="predictions")
    return b.graph


def localizer_28() -> Graph:
    """A CNN with two heads joined into one output: the class (softmax) and the box (4 sigmoid values)."""
    b = Builder()
    x = b.add("Input", shape=[28, 28, 1])
    for i, filters in enumerate((16, 32, 64), start=1):
        x = b.add("Conv2D", x, filters=filters, kernel_size=[3, 3], padding="same", activation="relu", name=f"conv{i}")
        x = b.add("MaxPooling2D", x, name=f"pool{i}")
    x = b.add("Flatten", x)
    x = b.add("Dense", x, units=64, activation="relu", name="features")
    label = b.add("Dense", x, units=4, activation="softmax", name="class_scores")
    box = b.add("Dense", x, units=4, activation="sigmoid", name="box")
    b.add("Concatenate", label, box, name="class_and_box")
    return b.graph


def detector_64() -> Graph:
    """A one-stage grid detector: four conv stages shrink 64x64 to an 8x8 grid, a 1x1 Conv2D gives each cell
    4 class logits + 4 box values (no activation: the detection loss and decoding apply the sigmoids)."""
    b = Builder()
    x = b.add("Input", shape=[64, 64, 1])
    for i, filters in enumerate((16, 32, 64), start=1):
        x = b.add("Conv2D", x, filters=filters, kernel_size=[3, 3], padding="same", activation="relu", name=f"conv{i}")
        x = b.add("BatchNormalization", x, momentum=0.9, name=f"norm{i}")  # settles within an epoch
        x = b.add("MaxPooling2D", x, name=f"pool{i}")
    for i in (4, 5):
        x = b.add("Conv2D", x, filters=64, kernel_size=[3, 3], padding="same", activation="relu", name=f"conv{i}")
    b.add("Conv2D", x, filters=8, kernel_size=[1, 1], name="grid_out")
    return b.graph


def small_cnn(size: int, channels: int) -> Graph:
    b = Builder()
    x = b.add("Input", shape=[size, size, channels])
    x = b.add("Conv2D", x, filters=32, kernel_size=[3, 3], activation="relu", name="conv1")
    x = b.add("MaxPooling2D", x, name="pool1")
    x = b.add("Conv2D", x, filters=64, kernel_size=[3, 3], activation="relu", name="conv2")
    x = b.add("MaxPooling2D", x, name="pool2")
    x = b.add("Flatten", x)
    x = b.add("Dropout", x, rate=0.5)
    b.add("Dense", x, units=10, activation="softmax", name="predictions")
    return b.graph


def lenet5() -> Graph:
    b = Builder()
    x = b.add("Input", shape=[32, 32, 1])
    x = b.add("Conv2D", x, filters=6, kernel_size=[5, 5], activation="tanh", name="c1")
    x = b.add("AveragePooling2D", x, name="s2")
    x = b.add("Conv2D", x, filters=16, kernel_size=[5, 5], activation="tanh", name="c3")
    x = b.add("AveragePooling2D", x, name="s4")
    x = b.add("Flatten", x)
    x = b.add("Dense", x, units=120, activation="tanh", name="c5")
    x = b.add("Dense", x, units=84, activation="tanh", name="f6")
    b.add("Dense", x, units=10, activation="softmax", name="output")
    return b.graph


def alexnet() -> Graph:
    b = Builder()
    x = b.add("Input", shape=[227, 227, 3])
    x = b.add("Conv2D", x, filters=96, kernel_size=[11, 11], strides=[4, 4], activation="relu", name="conv1")
    x = b.add("MaxPooling2D", x, pool_size=[3, 3], strides=[2, 2], name="pool1")
    x = b.add("Conv2D", x, filters=256, kernel_size=[5, 5], padding="same", activation="relu", name="conv2")
    x = b.add("MaxPooling2D", x, pool_size=[3, 3], strides=[2, 2], name="pool2")
    for i, filters in enumerate((384, 384, 256), start=3):
        x = b.add("Conv2D", x, filters=filters, kernel_size=[3, 3], padding="same", activation="relu", name=f"conv{i}")
    x = b.add("MaxPooling2D", x, pool_size=[3, 3], strides=[2, 2], name="pool5")
    x = b.add("Flatten", x)
    for i in (6, 7):
        x = b.add("Dense", x, units=4096, activation="relu", name=f"fc{i}")
        x = b.add("Dropout", x, rate=0.5, name=f"drop{i}")
    b.add("Dense", x, units=1000, activation="softmax", name="predictions")
    return b.graph


def vgg16() -> Graph:
    b = Builder()
    x = b.add("Input", shape=[224, 224, 3])
    for block, (filters, convs) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), start=1):
        for i in range(1, convs + 1):
            x = b.add("Conv2D", x, filters=filters, kernel_size=[3, 3], padding="same", activation="relu",
                      name=f"block{block}_conv{i}")
        x = b.add("MaxPooling2D", x, name=f"block{block}_pool")
    x = b.add("Flatten", x)
    x = b.add("Dense", x, units=4096, activation="relu", name="fc1")
    x = b.add("Dense", x, units=4096, activation="relu", name="fc2")
    b.add("Dense", x, units=1000, activation="softmax", name="predictions")
    return b.graph


def _bn(b: Builder, x: str, name: str) -> str:
    return b.add("BatchNormalization", x, epsilon=1.001e-5, name=name)


def resnet18() -> Graph:
    """CIFAR-style ResNet-18: 3x3 stem, four stages of two basic blocks."""
    b = Builder()
    x = b.add("Input", shape=[32, 32, 3])
    x = b.add("Conv2D", x, filters=64, kernel_size=[3, 3], padding="same", use_bias=False, name="stem_conv")
    x = b.add("Activation", _bn(b, x, "stem_bn"), activation="relu", name="stem_relu")
    for stage, filters in enumerate((64, 128, 256, 512), start=1):
        for block in (1, 2):
            stride = 2 if stage > 1 and block == 1 else 1
            prefix = f"stage{stage}_block{block}"
            shortcut = x
            if stride != 1:
                shortcut = b.add("Conv2D", x, filters=filters, kernel_size=[1, 1], strides=[stride, stride],
                                 use_bias=False, name=f"{prefix}_shortcut_conv")
                shortcut = _bn(b, shortcut, f"{prefix}_shortcut_bn")
            y = b.add("Conv2D", x, filters=filters, kernel_size=[3, 3], strides=[stride, stride], padding="same",
                      use_bias=False, name=f"{prefix}_conv1")
            y = b.add("Activation", _bn(b, y, f"{prefix}_bn1"), activation="relu", name=f"{prefix}_relu1")
            y = b.add("Conv2D", y, filters=filters, kernel_size=[3, 3], padding="same", use_bias=False,
                      name=f"{prefix}_conv2")
            y = _bn(b, y, f"{prefix}_bn2")
            x = b.add("Add", shortcut, y, name=f"{prefix}_add")
            x = b.add("Activation", x, activation="relu", name=f"{prefix}_out")
    x = b.add("GlobalAveragePooling2D", x, name="avg_pool")
    b.add("Dense", x, units=10, activation="softmax", name="predictions")
    return b.graph


def resnet50() -> Graph:
    """ResNet-50 with bottleneck blocks, laid out as keras.applications.ResNet50."""
    b = Builder()
    x = b.add("Input", shape=[224, 224, 3], name="input_layer")
    x = b.add("ZeroPadding2D", x, padding=[[3, 3], [3, 3]], name="conv1_pad")
    x = b.add("Conv2D", x, filters=64, kernel_size=[7, 7], strides=[2, 2], name="conv1_conv")
    x = b.add("Activation", _bn(b, x, "conv1_bn"), activation="relu", name="conv1_relu")
    x = b.add("ZeroPadding2D", x, padding=[[1, 1], [1, 1]], name="pool1_pad")
    x = b.add("MaxPooling2D", x, pool_size=[3, 3], strides=[2, 2], name="pool1_pool")
    for stage, (filters, blocks, stride) in enumerate(((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)), start=2):
        for block in range(1, blocks + 1):
            prefix = f"conv{stage}_block{block}"
            s = stride if block == 1 else 1
            if block == 1:
                shortcut = b.add("Conv2D", x, filters=4 * filters, kernel_size=[1, 1], strides=[s, s], name=f"{prefix}_0_conv")
                shortcut = _bn(b, shortcut, f"{prefix}_0_bn")
            else:
                shortcut = x
            y = b.add("Conv2D", x, filters=filters, kernel_size=[1, 1], strides=[s, s], name=f"{prefix}_1_conv")
            y = b.add("Activation", _bn(b, y, f"{prefix}_1_bn"), activation="relu", name=f"{prefix}_1_relu")
            y = b.add("Conv2D", y, filters=filters, kernel_size=[3, 3], padding="same", name=f"{prefix}_2_conv")
            y = b.add("Activation", _bn(b, y, f"{prefix}_2_bn"), activation="relu", name=f"{prefix}_2_relu")
            y = b.add("Conv2D", y, filters=4 * filters, kernel_size=[1, 1], name=f"{prefix}_3_conv")
            y = _bn(b, y, f"{prefix}_3_bn")
            x = b.add("Add", shortcut, y, name=f"{prefix}_add")
            x = b.add("Activation", x, activation="relu", name=f"{prefix}_out")
    x = b.add("GlobalAveragePooling2D", x, name="avg_pool")
    b.add("Dense", x, units=1000, activation="softmax", name="predictions")
    return b.graph


def inception() -> Graph:
    """GoogLeNet (Inception v1) without the auxiliary classifiers."""
    b = Builder()

    def conv(x, filters, size, name, strides=1):
        return b.add("Conv2D", x, filters=filters, kernel_size=[size, size], strides=[strides, strides],
                     padding="same", activation="relu", name=name)

    def module(x, name, c1, c3r, c3, c5r, c5, pool):
        branch1 = conv(x, c1, 1, f"{name}_1x1")
        branch2 = conv(conv(x, c3r, 1, f"{name}_3x3_reduce"), c3, 3, f"{name}_3x3")
        branch3 = conv(conv(x, c5r, 1, f"{name}_5x5_reduce"), c5, 5, f"{name}_5x5")
        branch4 = b.add("MaxPooling2D", x, pool_size=[3, 3], strides=[1, 1], padding="same", name=f"{name}_pool")
        branch4 = conv(branch4, pool, 1, f"{name}_pool_proj")
        return b.add("Concatenate", branch1, branch2, branch3, branch4, name=f"{name}_concat")

    def pool(x, name):
        return b.add("MaxPooling2D", x, pool_size=[3, 3], strides=[2, 2], padding="same", name=name)

    x = b.add("Input", shape=[224, 224, 3])
    x = pool(conv(x, 64, 7, "conv1_7x7", strides=2), "pool1")
    x = conv(x, 64, 1, "conv2_3x3_reduce")
    x = pool(conv(x, 192, 3, "conv2_3x3"), "pool2")
    x = module(x, "inception_3a", 64, 96, 128, 16, 32, 32)
    x = module(x, "inception_3b", 128, 128, 192, 32, 96, 64)
    x = pool(x, "pool3")
    for name, cfg in (("4a", (192, 96, 208, 16, 48, 64)), ("4b", (160, 112, 224, 24, 64, 64)),
                      ("4c", (128, 128, 256, 24, 64, 64)), ("4d", (112, 144, 288, 32, 64, 64)),
                      ("4e", (256, 160, 320, 32, 128, 128))):
        x = module(x, f"inception_{name}", *cfg)
    x = pool(x, "pool4")
    x = module(x, "inception_5a", 256, 160, 320, 32, 128, 128)
    x = module(x, "inception_5b", 384, 192, 384, 48, 128, 128)
    x = b.add("GlobalAveragePooling2D", x, name="avg_pool")
    x = b.add("Dropout", x, rate=0.4)
    b.add("Dense", x, units=1000, activation="softmax", name="predictions")
    return b.graph


def mobilenet() -> Graph:
    """MobileNet v1 (width 1.0), laid out as keras.applications.MobileNet."""
    b = Builder()
    x = b.add("Input", shape=[224, 224, 3], name="input_layer")
    x = b.add("Conv2D", x, filters=32, kernel_size=[3, 3], strides=[2, 2], padding="same", use_bias=False, name="conv1")
    x = b.add("ReLU", _bn(b, x, "conv1_bn"), max_value=6.0, name="conv1_relu")
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for i, (filters, stride) in enumerate(blocks, start=1):
        if stride != 1:
            x = b.add("ZeroPadding2D", x, padding=[[0, 1], [0, 1]], name=f"conv_pad_{i}")
        x = b.add("DepthwiseConv2D", x, kernel_size=[3, 3], strides=[stride, stride],
                  padding="same" if stride == 1 else "valid", use_bias=False, name=f"conv_dw_{i}")
        x = b.add("ReLU", b.add("BatchNormalization", x, name=f"conv_dw_{i}_bn"), max_value=6.0, name=f"conv_dw_{i}_relu")
        x = b.add("Conv2D", x, filters=filters, kernel_size=[1, 1], padding="same", use_bias=False, name=f"conv_pw_{i}")
        x = b.add("ReLU", b.add("BatchNormalization", x, name=f"conv_pw_{i}_bn"), max_value=6.0, name=f"conv_pw_{i}_relu")
    x = b.add("GlobalAveragePooling2D", x, keepdims=True, name="global_average_pooling2d")
    x = b.add("Dropout", x, rate=0.001, name="dropout")
    x = b.add("Conv2D", x, filters=1000, kernel_size=[1, 1], padding="same", name="conv_preds")
    x = b.add("Reshape", x, target_shape=[1000], name="reshape_2")
    b.add("Activation", x, activation="softmax", name="predictions")
    return b.graph


def text_classifier(cell: str) -> Graph:
    b = Builder()
    x = b.add("Input", shape=[200], dtype="int32", name="tokens")
    x = b.add("Embedding", x, input_dim=20000, output_dim=64, mask_zero=True, name="embedding")
    x = b.add(cell, x, units=64, name=cell.lower())
    x = b.add("Dropout", x, rate=0.3)
    b.add("Dense", x, units=2, activation="softmax", name="predictions")
    return b.graph


def forecaster() -> Graph:
    b = Builder()
    x = b.add("Input", shape=[48, 1], name="signal")
    x = b.add("LSTM", x, units=32, return_sequences=True, name="lstm1")
    x = b.add("LSTM", x, units=32, return_sequences=True, name="lstm2")
    b.add("TimeDistributed", x, layer={"class_name": "Dense", "config": {"units": 1}}, name="next_value")
    return b.graph


def seq2seq_attention(steps: int = 8, vocabulary: int = 14) -> Graph:
    b = Builder()
    x = b.add("Input", shape=[steps], dtype="int32", name="source")
    x = b.add("Embedding", x, input_dim=vocabulary, output_dim=32, name="embedding")
    states = b.add("LSTM", x, units=64, return_sequences=True, name="encoder")
    summary = b.add("LSTM", states, units=64, name="encoder_summary")
    decoder = b.add("LSTM", b.add("RepeatVector", summary, n=steps), units=64, return_sequences=True,
                    name="decoder")
    context = b.add("Attention", decoder, states, name="attention")  # query: decoder, value: encoder
    x = b.add("Concatenate", decoder, context)
    b.add("TimeDistributed", x, layer={"class_name": "Dense", "config": {"units": vocabulary,
                                                                        "activation": "softmax"}},
          name="characters")
    return b.graph


def tiny_gpt(steps: int = 64, vocabulary: int = 32, width: int = 64, layers: int = 2) -> Graph:
    from studio.core.graph.blocks import encoder_block

    b = Builder()
    x = b.add("Input", shape=[steps], dtype="int32", name="tokens")
    x = b.add("Embedding", x, input_dim=vocabulary, output_dim=width, name="token_embedding")
    x = b.add("PositionalEmbedding", x, sequence_length=steps, name="position_embedding")
    for _ in range(layers):
        x = encoder_block(b, x, heads=4, key_dim=width // 4, ff=2 * width, width=width, causal=True)
    b.add("Dense", x, units=vocabulary, name="next_token")  # logits
    return b.graph


def tiny_bert(head: str = "mlm", steps: int = 64, vocabulary: int = 33, width: int = 64, layers: int = 2,
              classes: int = 2) -> Graph:
    """A small bidirectional Transformer encoder. ``head`` "mlm": a token classifier over the
    vocabulary (masked-LM pretraining); "classify": mean-pooled tokens -> classes (fine-tuning).
    Both heads build the encoder in the same order, so its layer names match for ``init_from``."""
    from studio.core.graph.blocks import encoder_block

    b = Builder()
    x = b.add("Input", shape=[steps], dtype="int32", name="tokens")
    x = b.add("Embedding", x, input_dim=vocabulary, output_dim=width, name="token_embedding")
    x = b.add("PositionalEmbedding", x, sequence_length=steps, name="position_embedding")
    for _ in range(layers):
        x = encoder_block(b, x, heads=4, key_dim=width // 4, ff=2 * width, width=width)
    if head == "mlm":
        b.add("Dense", x, units=vocabulary, name="masked_tokens")  # logits
    else:
        x = b.add("GlobalAveragePooling1D", x, name="pool")
        b.add("Dense", x, units=classes, activation="softmax", name="predictions")
    return b.graph


_CLASSIFIER_TRAINING = {"epochs": 5, "batch_size": 32, "learning_rate": 1e-3}
SEQUENCE_EXTRAS = {
    "lstm_text_classifier": {"dataset": {"source": "keras_text", "name": "imdb", "max_tokens": 20000,
                                         "max_length": 200}, "training": _CLASSIFIER_TRAINING},
    "gru_text_classifier": {"dataset": {"source": "keras_text", "name": "imdb", "max_tokens": 20000,
                                        "max_length": 200}, "training": _CLASSIFIER_TRAINING},
    "lstm_forecaster": {"dataset": {"source": "sequences", "name": "signals_steps", "samples": 1000},
                        "training": {"epochs": 10, "batch_size": 32, "loss": "mse", "metrics": ["mae"]}},
    "seq2seq_attention": {"dataset": {"source": "sequences", "name": "reverse", "samples": 4000},
                          "training": {"epochs": 20, "batch_size": 64, "learning_rate": 3e-3}},
    "tiny_gpt": {"dataset": {"source": "sequences", "name": "grammar", "samples": 2000, "max_length": 64},
                 "training": {"epochs": 10, "batch_size": 32, "learning_rate": 1e-3},
                 "language_model": {"prompts": ["the cat ", "a dog "], "tokens": 60, "temperature": 0.8,
                                    "top_k": 5}},
    "tiny_bert": {"dataset": {"source": "sequences", "name": "grammar", "samples": 2000, "max_length": 64,
                              "objective": "mlm"},
                  "training": {"epochs": 10, "batch_size": 32, "learning_rate": 1e-3}},
    "tiny_bert_classifier": {"dataset": {"source": "keras_text", "name": "imdb", "max_tokens": 20000,
                                         "max_length": 64},
                             "training": {**_CLASSIFIER_TRAINING, "learning_rate": 3e-4}},
}

TEMPLATES = {
    "mlp_xor": (mlp_xor, "MLP for XOR", "The smallest network that needs a hidden layer: XOR cannot be "
                "separated by one straight line, two tanh units bend the space so it can.",
                "Rumelhart, Hinton & Williams (1986), Learning representations by back-propagating errors",
                "binary", 2),
    "perceptron": (perceptron, "Perceptron, no hidden layer", "One unit drawing one straight line: it "
                   "separates AND and OR but can never get XOR right (the decision-boundary lab).",
                   "Rosenblatt (1958); Minsky & Papert (1969), Perceptrons", "binary", 2),
    "mlp_one_hidden": (mlp_one_hidden, "MLP, one hidden layer", "Eight tanh units, each a line of its own, "
                       "combined by the output: enough to bend the boundary around XOR.",
                       "Rumelhart, Hinton & Williams (1986), Learning representations by back-propagating "
                       "errors", "binary", 2),
    "unet_28": (unet_28, "U-Net 28x28 (segmentation)", "Labels every pixel: an encoder shrinks the image to "
                "what is where, a decoder grows it back, and skip connections bring back the fine detail.",
                "Ronneberger, Fischer & Brox (2015), U-Net: convolutional networks for biomedical image "
                "segmentation", "segmentation", 5),
    "segnet_28": (segnet_28, "SegNet 28x28 (segmentation)", "Labels every pixel like the U-Net, but the "
                  "decoder puts each value back where the encoder's pooling found its maximum "
                  "(MaxUnpooling2D) instead of copying whole feature maps across.",
                  "Badrinarayanan, Kendall & Cipolla (2017), SegNet: a deep convolutional encoder-decoder "
                  "architecture for image segmentation", "segmentation", 5),
    "localizer_28": (localizer_28, "Localizer 28x28 (class + box)", "Finds one object: a class head and a "
                     "box head share the features, the step before R-CNN-style detectors.",
                     "Sermanet et al. (2014), OverFeat: integrated recognition, localization and detection",
                     "localization", 4),
    "detector_64": (detector_64, "Grid detector 64x64 (boxes)", "Finds every object: an 8x8 grid where the "
                    "cell holding an object's centre gives its class and box (one stage, YOLO-style); decoding "
                    "and non-maximum suppression turn the grid into boxes.",
                    "Redmon et al. (2016), You only look once: unified, real-time object detection",
                    "detection", 4),
    "small_cnn_28": (lambda: small_cnn(28, 1), "Small CNN 28x28", "Two convolution + pooling stages and a "
                     "softmax classifier: trains in seconds on digits or MNIST-sized images.",
                     "Keras example 'Simple MNIST convnet'", "classification", 10),
    "small_cnn_32": (lambda: small_cnn(32, 3), "Small CNN 32x32 RGB", "The small CNN for 32x32 colour "
                     "images such as CIFAR-10 or the built-in shapes.",
                     "Keras example 'Simple MNIST convnet', adapted to RGB", "classification", 10),
    "lenet5": (lenet5, "LeNet-5", "The 1998 digit reader: convolutions with tanh, average pooling "
               "(subsampling) and fully connected layers.",
               "LeCun et al. (1998), Gradient-based learning applied to document recognition",
               "classification", 10),
    "alexnet": (alexnet, "AlexNet", "Large kernels, ReLU and dropout: the 2012 ImageNet winner that "
                "started the deep-learning wave (single-stream version).",
                "Krizhevsky, Sutskever & Hinton (2012), ImageNet classification with deep CNNs",
                "classification", 1000),
    "vgg16": (vgg16, "VGG-16", "Depth from uniform 3x3 convolutions stacked in five blocks; simple "
              "and very large (138M parameters).",
              "Simonyan & Zisserman (2014), Very deep convolutional networks", "classification", 1000),
    "resnet18": (resnet18, "ResNet-18 (32x32)", "Residual basic blocks: each block learns a correction "
                 "added to its input, so gradients flow through very deep nets. CIFAR-sized stem.",
                 "He et al. (2015), Deep residual learning for image recognition", "classification", 10),
    "resnet50": (resnet50, "ResNet-50", "Bottleneck residual blocks (1x1 reduce, 3x3, 1x1 expand), as "
                 "in keras.applications.ResNet50.",
                 "He et al. (2015), Deep residual learning for image recognition", "classification", 1000),
    "inception": (inception, "Inception (GoogLeNet)", "Inception modules look at 1x1, 3x3 and 5x5 "
                  "windows in parallel and concatenate them; 1x1 convolutions keep it cheap.",
                  "Szegedy et al. (2014), Going deeper with convolutions", "classification", 1000),
    "mobilenet": (mobilenet, "MobileNet", "Depthwise-separable convolutions: nearly the accuracy of a "
                  "full CNN at a fraction of the computation, built for phones.",
                  "Howard et al. (2017), MobileNets", "classification", 1000),
    "shufflenet_32": (shufflenet_32, "ShuffleNet units (32x32 RGB)", "Grouped 1x1 convolutions cost a "
                      "third of full ones but each group sees only its own channels; a channel shuffle "
                      "between them lets information cross the groups (ChannelShuffle).",
                      "Zhang et al. (2018), ShuffleNet: an extremely efficient convolutional neural network "
                      "for mobile devices", "classification", 10),
    "lstm_text_classifier": (lambda: text_classifier("LSTM"), "LSTM text classifier", "Word ids -> "
                             "embeddings -> an LSTM reads the review -> positive or negative.",
                             "Keras example 'Bidirectional LSTM on IMDB' (single direction)", "binary", 2),
    "gru_text_classifier": (lambda: text_classifier("GRU"), "GRU text classifier", "The text classifier "
                            "with a GRU: fewer gates than an LSTM, often as accurate.",
                            "Cho et al. (2014), Learning phrase representations using RNN encoder-decoder",
                            "binary", 2),
    "lstm_forecaster": (forecaster, "LSTM forecaster (many-to-many)", "Two stacked LSTMs read a signal "
                        "and predict its next value at every time step.",
                        "Hochreiter & Schmidhuber (1997), Long short-term memory", "regression", 0),
    "seq2seq_attention": (seq2seq_attention, "Seq2seq with attention", "An LSTM encoder reads digits, an "
                          "LSTM decoder writes them reversed while attention looks back at the encoder.",
                          "Bahdanau et al. (2014), Neural machine translation by jointly learning to align "
                          "and translate (dot-product attention, no teacher forcing)", "classification", 14),
    "tiny_gpt": (tiny_gpt, "Tiny GPT (causal LM)", "Token and position embeddings, two Transformer blocks "
                 "whose attention only looks back, and a next-token classifier: write text one "
                 "character at a time.",
                 "Radford et al. (2018), Improving language understanding by generative pre-training",
                 "classification", 32),
    "tiny_bert": (tiny_bert, "Tiny BERT (masked-LM pretraining)", "A Transformer encoder that looks both "
                  "ways learns the language by filling in hidden characters (15% masked). Then fine-tune "
                  "tiny_bert_classifier from this run (training setting 'Start from run').",
                  "Devlin et al. (2018), BERT: pre-training of deep bidirectional Transformers",
                  "classification", 33),
    "tiny_bert_classifier": (lambda: tiny_bert("classify"), "Tiny BERT classifier (fine-tuning)",
                             "The tiny BERT encoder with a classification head: start from a tiny_bert "
                             "run's weights ('Start from run' / --init-from) and fine-tune on labelled text.",
                             "Devlin et al. (2018), BERT: pre-training of deep bidirectional Transformers",
                             "binary", 2),
}


# The dataset and training a template suggests (``apply_template`` sets them): the boundary lab opens on XOR.
_LAB_SETTINGS = {"dataset": {"source": "toy", "name": "xor", "samples": 400, "noise": 0.02},
                 "training": {"optimizer": "adam", "learning_rate": 0.05, "epochs": 60, "batch_size": 32}}
SUGGESTED = {"perceptron": _LAB_SETTINGS, "mlp_one_hidden": _LAB_SETTINGS,
             "unet_28": {"dataset": {"source": "shape_masks", "count": 150, "image_size": 28},
                         "training": {"epochs": 25, "batch_size": 32, "learning_rate": 2e-3}},
             "segnet_28": {"dataset": {"source": "shape_masks", "count": 150, "image_size": 28},
                           "training": {"epochs": 25, "batch_size": 32, "learning_rate": 2e-3}},
             "localizer_28": {"dataset": {"source": "shape_boxes", "count": 300, "image_size": 28},
                              "training": {"epochs": 20, "batch_size": 32, "learning_rate": 2e-3,
                                           "metrics": []}},
             "detector_64": {"dataset": {"source": "shape_scenes"},
                             "training": {"epochs": 40, "batch_size": 32, "learning_rate": 2e-3}}}


def main(names: list[str]) -> None:
    """Write the named templates (all of them when none is named)."""
    for name, (build, title, description, reference, task, classes) in TEMPLATES.items():
        if names and name not in names:
            continue
        graph = build()
        analysis = analyze(graph)
        assert analysis.ok, (name, analysis.problems)
        shape = graph.nodes[graph.input_nodes()[0]].params["shape"]
        atomic_write_json(MODELS / f"{name}.json", {
            "name": name, "title": title, "description": description, "reference": reference,
            "task": task, "input_shape": shape, "num_classes": classes,
            "expected_params": analysis.total_params, **SEQUENCE_EXTRAS.get(name, {}), **SUGGESTED.get(name, {}),
            "graph": graph.to_dict(),
        })
        print(f"{name:14s} {analysis.total_params:>12,d} params  {len(graph.nodes):4d} layers")


if __name__ == "__main__":
    main(sys.argv[1:])
