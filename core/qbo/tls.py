"""One TLS context per process for every httpx client Ledgerlink makes.

Building a context loads the CA bundle (a noticeable fraction of a second of CPU), and httpx builds a fresh
one for each client unless given one. This is httpx's own default (certifi's bundle, or SSL_CERT_FILE /
SSL_CERT_DIR when set), made once; verification stays on.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()
