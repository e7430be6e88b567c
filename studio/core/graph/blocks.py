"""Reusable groups of layers (Transformer encoder and decoder blocks), written with ``Builder``.

Templates call them, and ``block_graph(name, shape)`` returns one as a small graph (an Input
standing for whatever feeds it) for inserting into a canvas like a template.
"""

from __future__ import annotations

from studio.core.graph.builder import Builder
from studio.core.graph.model import Graph


def encoder_block(b: Builder, x: str, heads: int, key_dim: int, ff: int, width: int,
                  dropout: float = 0.0, causal: bool = False) -> str:
    """Self-attention (query = value = key = ``x``) + residual + LayerNorm, then a per-step
    feed-forward + residual + LayerNorm (post-norm Transformer block). ``causal`` makes it a
    GPT-style decoder block. ``width`` is the feature size of ``x``."""
    attention = b.add("MultiHeadAttention", x, x, x, num_heads=heads, key_dim=key_dim, dropout=dropout,
                      use_causal_mask=causal)
    x = b.add("LayerNormalization", b.add("Add", x, attention))
    hidden = b.add("Dense", x, units=ff, activation="relu")  # gelu needs Erfc, which ONNX export lacks
    out = b.add("Dense", hidden, units=width)
    if dropout:
        out = b.add("Dropout", out, rate=dropout)
    return b.add("LayerNormalization", b.add("Add", x, out))


def decoder_block(b: Builder, x: str, memory: str, heads: int, key_dim: int, ff: int, width: int) -> str:
    """Causal self-attention over ``x``, then cross-attention to the encoder's ``memory``
    (query = ``x``, value = key = ``memory``), then the feed-forward part."""
    attention = b.add("MultiHeadAttention", x, x, x, num_heads=heads, key_dim=key_dim, use_causal_mask=True)
    x = b.add("LayerNormalization", b.add("Add", x, attention))
    cross = b.add("MultiHeadAttention", x, memory, memory, num_heads=heads, key_dim=key_dim)
    x = b.add("LayerNormalization", b.add("Add", x, cross))
    out = b.add("Dense", b.add("Dense", x, units=ff, activation="relu"), units=width)
    return b.add("LayerNormalization", b.add("Add", x, out))


BLOCKS = {
    "transformer_encoder": "Self-attention + feed-forward, each with a residual and LayerNorm.",
    "transformer_decoder": "Causal self-attention, cross-attention to an encoder, feed-forward.",
    "gpt_block": "A Transformer block whose attention only looks back (causal mask).",
}


def block_graph(name: str, shape=(32, 64), heads: int = 4, ff: int = 128) -> Graph:
    """Block ``name`` as a graph fed by Input(s) of ``shape`` (steps, features), for insertion."""
    if name not in BLOCKS:
        raise KeyError(f"unknown block {name!r}; blocks are {', '.join(BLOCKS)}")
    b = Builder()
    width = int(shape[-1])
    x = b.add("Input", shape=list(shape), name="block_input")
    key_dim = max(1, width // heads)
    if name == "transformer_decoder":
        memory = b.add("Input", shape=list(shape), name="encoder_output")
        decoder_block(b, x, memory, heads, key_dim, ff, width)
    else:
        encoder_block(b, x, heads, key_dim, ff, width, causal=name == "gpt_block")
    return b.graph


def block_after(name: str, shape) -> tuple[Graph, list[tuple[str, int]]]:
    """Block ``name`` sized for a (steps, features) ``shape``, without its Input nodes, and the
    ``(node id, port)`` inputs those Inputs fed: wire the node the block follows into each
    (a decoder's encoder input too, until it is rewired to an encoder)."""
    if len(shape) != 2 or not all(isinstance(n, int) or n is None for n in shape) or not shape[-1]:
        raise ValueError(f"a block follows a layer with a (steps, features) output, not {tuple(shape)}")
    features = int(shape[-1])
    heads = next(h for h in (4, 2, 1) if features % h == 0)
    graph = block_graph(name, (shape[0] or 1, features), heads=heads, ff=2 * features)
    inputs = set(graph.input_nodes())
    feeds = [(edge.dst, edge.port) for edge in graph.edges if edge.src in inputs]
    for node_id in inputs:
        graph.remove_node(node_id)
    return graph, feeds
