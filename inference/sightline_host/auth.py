"""Per-launch token auth: every request and the WebSocket carry `Authorization: Bearer <token>`."""

import hmac

MIN_TOKEN_LENGTH = 16


def bearer_matches(header: str | None, token: str) -> bool:
    if header is None or not header.startswith("Bearer "):
        return False
    # Constant time, so the comparison does not leak how much of a guess was right.
    return hmac.compare_digest(header[len("Bearer ") :].encode(), token.encode())
