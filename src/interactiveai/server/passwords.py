"""Password and API-secret hashing. Secrets are never stored in clear."""

from __future__ import annotations

import hashlib
import hmac
import secrets

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


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


def new_key_pair() -> tuple[str, str]:
    return "pk-ia-" + secrets.token_hex(12), "sk-ia-" + secrets.token_hex(24)


def display_secret(secret: str) -> str:
    return f"{secret[:6]}…{secret[-4:]}"
