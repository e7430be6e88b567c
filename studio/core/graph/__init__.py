"""The model graph: nodes, edges, the layer catalog, inference and Keras conversion."""

from studio.core.graph.model import Edge, Graph, GraphError, GraphEvent, Node

__all__ = ["Edge", "Graph", "GraphError", "GraphEvent", "Node"]
