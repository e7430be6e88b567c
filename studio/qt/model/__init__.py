"""The Model area: canvas, layer palette, properties and the template/code dialogs."""
