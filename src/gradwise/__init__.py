"""gradwise: deep feed-forward networks on NumPy."""
__version__ = "0.1.0"
