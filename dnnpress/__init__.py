"""dnnpress: compression hardware generator for deep-learning accelerators."""

__version__ = "0.1.0"
