"""Setup › Feature preview: the "QBO integration upgrade" switch."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Switch

from core.services import ledger
from tui.screens.step import StepScreen
from tui.widgets.switch import SwitchRow

PREVIEW = "qbo_integration_upgrade"


class FeaturePreviewScreen(StepScreen):
    """One switch, saved as soon as it is flipped (Space or Enter)."""

    CSS_PATH = "setup_preview.tcss"
    STEP_IDS = ("feature_preview",)
    PLACE = "Feature preview"
    INTRO = "The QuickBooks Online link is a feature preview: switch it on for this firm."

    def compose_step(self) -> ComposeResult:
        yield SwitchRow(False, "QBO integration upgrade", switch_id="preview-switch", id="preview-row")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(Switch).focus()

    def refresh_data(self) -> None:
        if ledger.firm_exists(self.firm):
            enabled = bool(ledger.get_firm_info(self.firm).feature_previews.get(PREVIEW))
            switch = self.query_one(Switch)
            with self.prevent(Switch.Changed):
                switch.value = enabled

    def on_switch_changed(self, event: Switch.Changed) -> None:
        self.attempt(ledger.set_feature_preview, self.firm, PREVIEW, event.value)
