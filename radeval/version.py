"""The toolkit's version string, recorded in every metric signature."""

__version__ = "0.1.0"
