"""Amanat: secure intake, normalisation, linkage and casework for people left behind in Afghanistan."""

__version__ = "0.1.0"
