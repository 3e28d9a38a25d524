"""ogpu: the Python SDK for the OpenGPU network."""

__version__ = "0.3.0.dev0"
