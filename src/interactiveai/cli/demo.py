"""`interactiveai demo`: send demo traces to a running server."""

from __future__ import annotations

import click


@click.command("demo")
@click.option("--url", default="http://localhost:3000", show_default=True, help="Server URL.")
@click.option("--public-key", envvar="INTERACTIVEAI_PUBLIC_KEY", required=True)
@click.option("--secret-key", envvar="INTERACTIVEAI_SECRET_KEY", required=True)
def demo_command(url: str, public_key: str, secret_key: str) -> None:
    """Send realistic demo traces to a running server through the real SDK."""
    from interactiveai.server.demo import load_demo

    count = load_demo(url, public_key, secret_key)
    click.echo(f"sent {count} demo traces to {url}" if count else f"the demo is already loaded at {url}; nothing sent")
