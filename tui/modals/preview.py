"""The invoice preview in the TUI: the invoice as the client would see it, read in a worker and shown as text
(control characters in names and descriptions shown as escapes). `v` on Billing's invoice row, Ctrl+R in the
invoice form (the draft as it would be saved); `ledgerlink invoice preview NUMBER --html FILE` exports it."""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen

from core.services import preview as preview_service
from tui.modals.text import TextModal
from tui.workers import with_own_firm

HTML_NOTE = "Esc closes · HTML: ledgerlink invoice preview {number} --html FILE"


def preview_width(width: int) -> int:
    """The text's width inside the wide text modal (95% of the screen, less its border, padding, scrollbar)."""
    return max(60, int(width * 0.95) - 6)


def preview_modal(p: preview_service.InvoicePreview, screen_width: int) -> TextModal:
    saved = p.status != "draft"
    title = f"Preview: invoice {p.number}" if saved else "Preview: the invoice as it would be saved"
    return TextModal(title, preview_service.render_text(p, preview_width(screen_width)), wide=True,
                     note=HTML_NOTE.format(number=p.number) if saved else "Esc closes. Nothing is saved.")


def open_preview(screen: Screen, build: Callable[[object], preview_service.InvoicePreview]) -> None:
    """Build the preview on a fresh firm connection in a thread worker, then show it (errors as a notification)."""
    app = screen.app

    def work() -> None:
        p = with_own_firm(app, build, app.show_error)
        if p is not None:
            app.call_from_thread(app.push_screen, preview_modal(p, app.size.width))

    screen.run_worker(work, thread=True, exclusive=True, group="preview")
