"""Write graphs as code, for templates and generated architectures."""

from __future__ import annotations

from studio.core.graph.model import Graph


class Builder:
    """Writes graphs as code: ``x = b.add("Conv2D", x, filters=32)`` returns the new node's id."""

    def __init__(self) -> None:
        self.graph = Graph()

    def add(self, type: str, *inputs: str, name: str | None = None, **params) -> str:
        node = self.graph.add_node(type, params, name=name)
        for source in inputs:
            self.graph.connect(source, node.id)
        return node.id
