"""The InteractiveAI SDK: tracing on OpenTelemetry.

The public surface is re-exported from :mod:`interactiveai`; modules here are the implementation.
"""
