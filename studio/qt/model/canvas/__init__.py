"""The model canvas: a QGraphicsScene that mirrors the graph, and the view that shows it."""
