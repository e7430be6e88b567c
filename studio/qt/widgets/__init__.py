"""Widgets shared by every work area: setting editors, plots, image grids, background work."""
