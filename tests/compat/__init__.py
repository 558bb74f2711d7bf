"""Compatibility tests: the real libraries users run, in their own environments, against our server."""
