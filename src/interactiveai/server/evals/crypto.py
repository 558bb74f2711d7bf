"""API keys of model connections, encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

The key comes from ``INTERACTIVEAI_ENCRYPTION_KEY``: one or more Fernet keys, comma-separated; the
first encrypts, every one decrypts (rotation: put the new key first, keep the old one until the
stored keys are written again). Without it, a key file ``encryption.key`` is created in the data
dir on first start (mode 0600). Replicas sharing a PostgreSQL database must share the key: set the
variable on all of them (a replica with another key cannot read the stored API keys, and says so
in the job's error).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from interactiveai.server.storage.engines import make_private_dir

KEY_FILE = "encryption.key"


class SecretBox:
    """Encrypts and decrypts the API keys of model connections."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as exc:
            raise ValueError(f"INTERACTIVEAI_ENCRYPTION_KEY: not a Fernet key ({exc})") from None

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError(
                "the stored API key cannot be decrypted with this server's encryption key "
                "(replicas must share INTERACTIVEAI_ENCRYPTION_KEY)"
            ) from None


def secret_box(configured: str, data_dir: Path) -> SecretBox:
    """The box of the configured keys, else of the data dir's key file (created if absent)."""
    keys = [key.strip() for key in configured.split(",") if key.strip()]
    return SecretBox(keys or [load_or_create_key(data_dir)])


def load_or_create_key(data_dir: Path) -> str:
    path = data_dir / KEY_FILE
    try:
        text = path.read_text().strip()
        if text:
            return text
    except FileNotFoundError:
        pass
    make_private_dir(data_dir)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(Fernet.generate_key().decode())
    try:
        os.link(tmp, path)  # atomic "create if absent": a concurrent process's key wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def key_hint(secret: str) -> str:
    """What the API shows of a key: its first three and last four characters at most."""
    if len(secret) <= 8:
        return "…" + secret[-2:] if len(secret) > 4 else "…"
    return f"{secret[:3]}…{secret[-4:]}"
