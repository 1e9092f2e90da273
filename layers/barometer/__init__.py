"""Opinion Barometer: opinion-leadership index of brands on social networks."""

__version__ = "0.1.0"
