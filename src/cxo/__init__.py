"""cxo — customer experience optimization."""

__version__ = "0.1.0"
