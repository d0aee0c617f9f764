"""The firm handle and its opener, as services hand them to the TUI and the CLI (they live in core.context, below
every layer, so the ledger can name a Firm without knowing the services)."""

from core.context import Firm, current_user, open_firm, schema_version

__all__ = ["Firm", "current_user", "open_firm", "schema_version"]
