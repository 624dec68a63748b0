"""Figures and HTML built from plain data (IR schedules, result Datasets); widgets only display them."""
