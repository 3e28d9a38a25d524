"""ABI -> Python binding generator: abis/ -> typed model -> jinja2 templates -> generated/.

Run `python -m codegen` (writes generated/ogpu_bindings) or `python -m codegen --check`.
"""

from .cli import generate, main
from .errors import CodegenError
from .loader import load_model

__all__ = ["CodegenError", "generate", "load_model", "main"]
