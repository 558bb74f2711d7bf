"""Password, API-secret and session-token hashing, and the strength asked of secrets people choose.

Secrets are never stored in clear."""

from __future__ import annotations

import hashlib
import hmac
import secrets

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1

# Secrets a person chooses (INTERACTIVEAI_INIT_*, the CLI). Passwords: longer than the common
# 8-character floor, as login is the only factor (NIST SP 800-63B asks 15 for single-factor; 12 is
# the compromise with rate-limited logins). Secret keys are checked with one unsalted SHA-256
# (auth must stay cheap), so they must carry the entropy themselves: 32 characters, as our
# generated keys (54) and a "sk-lf-" + UUID key (42) have.
MIN_PASSWORD_LENGTH = 12
MIN_SECRET_KEY_LENGTH = 32
MAX_PUBLIC_KEY_LENGTH = 200  # the column's width


class WeakSecretError(ValueError):
    """A chosen password or key that the server refuses; the message says what to do instead."""


def check_password(password: str, source: str = "the password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakSecretError(f"{source} must be at least {MIN_PASSWORD_LENGTH} characters long")


def check_key_pair(public_key: str, secret_key: str, source: str = "the key pair") -> None:
    """A chosen key pair usable with HTTP Basic, whose secret cannot be guessed."""
    if not public_key or len(public_key) > MAX_PUBLIC_KEY_LENGTH:
        raise WeakSecretError(f"{source}: the public key must be 1-{MAX_PUBLIC_KEY_LENGTH} characters")
    if ":" in public_key or any(c.isspace() or not c.isprintable() for c in public_key):
        raise WeakSecretError(f"{source}: the public key cannot contain ':', spaces or control characters")
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        raise WeakSecretError(
            f"{source}: the secret key must be at least {MIN_SECRET_KEY_LENGTH} characters long "
            '(for example "sk-ia-" followed by `openssl rand -hex 24`)'
        )
    if secret_key == public_key:
        raise WeakSecretError(f"{source}: the secret key cannot equal the public key")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt_hex, digest_hex = stored.split("$")
        digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def hash_api_secret(secret: str) -> str:
    # API secrets are long random strings, so a fast unsalted hash is enough and keeps auth cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_session_token(token: str) -> str:
    # Random 256-bit tokens, like API secrets: a database reader cannot turn a row into a cookie.
    return hashlib.sha256(token.encode()).hexdigest()


def new_key_pair() -> tuple[str, str]:
    return "pk-ia-" + secrets.token_hex(12), "sk-ia-" + secrets.token_hex(24)


def display_secret(secret: str) -> str:
    return f"{secret[:6]}…{secret[-4:]}"
