"""InteractiveAI: LLM observability on OpenTelemetry."""

from interactiveai.version import __version__

__all__ = ["__version__"]
