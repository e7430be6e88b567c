"""The desktop app: draws the core's models and forwards the user's edits to them (PySide6)."""
