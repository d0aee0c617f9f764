"""Every error Ledgerlink raises on purpose.

LedgerlinkError                    message written for the admin or bookkeeper
 +-- ConfigError                   bad settings or paths
 +-- PermissionDenied              the OS user lacks the role for this action
 +-- LedgerError                   ledger writes and reads
 |    +-- ValidationError          bad input; nothing was written (.problems lists each one)
 |    +-- NotFound                 unknown account, client, document, ...
 |    +-- Conflict                 duplicate number, editing a deleted document, ...
 |    +-- ImportError_             a CSV file with bad rows (.problems: row, column, message)
 +-- QBOError                      talking to QuickBooks Online
 |    +-- AuthError                tokens missing, expired or revoked: reconnect
 |    |    +-- TokenRejected       the token endpoint refused the refresh token or the app (invalid_grant, ...)
 |    +-- ConnectError             the OAuth connect flow failed (state, consent, paste)
 |    +-- TransientError           retry later (429, 5xx, network)
 |    |    +-- TokenServiceError   the token endpoint failed for now (5xx, 429, dropped, unreadable); token kept
 |    +-- PermanentError           QBO refused the request (fault code, element, intuit_tid)
 +-- SyncError                     the sync engine
      +-- Parked                   a document needs a fix by the user before it can be pushed
"""

from __future__ import annotations


class LedgerlinkError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(LedgerlinkError):
    pass


class PermissionDenied(LedgerlinkError):
    pass


class LedgerError(LedgerlinkError):
    pass


class ValidationError(LedgerError):
    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


class NotFound(LedgerError):
    pass


class Conflict(LedgerError):
    pass


class ImportError_(ValidationError):
    """A CSV import refused as a whole; problems name row and column."""


class QBOError(LedgerlinkError):
    """An error from QuickBooks; core.qbo.faults sets the fault's fields when QuickBooks sent one, and the client
    the request it answered (secrets scrubbed)."""

    status: int | None = None
    code: str | None = None
    fault_message: str | None = None
    detail: str | None = None
    element: str | None = None
    fault_type: str | None = None
    intuit_tid: str | None = None
    request: dict | None = None
    response_text: str | None = None
    retryable: bool = True  # False: a retry could apply a write twice


class AuthError(QBOError):
    pass


class TokenRejected(AuthError):
    """QuickBooks refused a refresh (`error`: invalid_grant, invalid_client or unauthorized_client)."""

    def __init__(self, message: str, *, error: str, status: int | None = None, intuit_tid: str | None = None):
        super().__init__(message)
        self.error = error
        self.status = status
        self.intuit_tid = intuit_tid


class ConnectError(QBOError):
    pass


class TransientError(QBOError):
    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class TokenServiceError(TransientError):
    """The token endpoint could not answer now; the saved tokens are untouched.

    `reason`: "server" (5xx), "throttled" (429), "network" (no answer, or the connection dropped),
    "unreadable" (an answer that is not a token or an OAuth error)."""

    def __init__(self, message: str, *, reason: str, status: int | None = None, retry_after: float | None = None,
                 intuit_tid: str | None = None):
        super().__init__(message, retry_after=retry_after, status=status)
        self.reason = reason
        self.intuit_tid = intuit_tid


class PermanentError(QBOError):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        element: str | None = None,
        intuit_tid: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail
        self.element = element
        self.intuit_tid = intuit_tid


class SyncError(LedgerlinkError):
    pass


class Parked(SyncError):
    pass
