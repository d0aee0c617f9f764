"""The header every screen shows: firm, QBO company and environment, token health."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

ENV_LABELS = {"production": "PRODUCTION", "sandbox": "Intuit sandbox", "local": "local sandbox"}


@dataclass(frozen=True)
class HeaderInfo:
    """What the header shows; the app builds it from core.services and hands it down."""

    firm: str = "Ledgerlink"
    environment: str = "local"
    company: str | None = None
    realm: str | None = None
    health: str = "not connected"
    healthy: bool = False


def token_health(connection) -> tuple[str, bool]:
    """A few words on the token's state, and whether all is well (from 30 days before either expiry of the
    authorization, the date to reconnect by)."""
    if connection is None:
        return "not connected", False
    if connection.token_status != "ok":
        return "reconnect needed", False
    notice = getattr(connection, "expiry", None)
    if notice is not None:
        if notice.expired:
            return "token expired: reconnect", False
        return f"reconnect by {notice.date}", False
    return "token ok", True


def header_info(firm_name: str, settings_environment: str, connection) -> HeaderInfo:
    """The header's content from the firm name, the configured environment and qbo.connection()."""
    if connection is None:
        return HeaderInfo(firm=firm_name, environment=settings_environment)
    health, healthy = token_health(connection)
    return HeaderInfo(firm=firm_name, environment=connection.environment, company=connection.company_name,
                      realm=connection.realm_id, health=health, healthy=healthy)


class FirmHeader(Widget):
    """One line: firm on the left; QBO company, environment and token health on the right."""

    DEFAULT_CSS = """
    FirmHeader {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    FirmHeader > .firmheader--env { text-style: bold reverse; }
    FirmHeader > .firmheader--ok { color: $success; }
    FirmHeader > .firmheader--bad { color: $warning; text-style: bold; }
    FirmHeader > .firmheader--firm { text-style: bold; }
    """
    COMPONENT_CLASSES = {"firmheader--env", "firmheader--ok", "firmheader--bad", "firmheader--firm"}

    info: reactive[HeaderInfo] = reactive(HeaderInfo, always_update=True)

    def on_mount(self) -> None:
        self.watch(self.app, "header_info", self._set_info, init=True)

    def _set_info(self, info: HeaderInfo) -> None:
        self.info = info

    def render(self) -> Text:
        info = self.info
        left = Text(" ")
        left.append(info.firm, self.get_component_rich_style("firmheader--firm"))
        right = Text()
        company = info.company or "no QBO company"
        with_realm = f"{company} ({info.realm})" if info.realm else company
        fixed = len(ENV_LABELS.get(info.environment, info.environment)) + len(info.health) + 12
        if left.cell_len + len(with_realm) + fixed <= self.size.width:
            company = with_realm  # the realm only when it fits beside the firm
        right.append(f"QBO: {company} ")
        right.append(f" {ENV_LABELS.get(info.environment, info.environment)} ",
                     self.get_component_rich_style("firmheader--env"))
        right.append(" ")
        style = "firmheader--ok" if info.healthy else "firmheader--bad"
        right.append(info.health, self.get_component_rich_style(style))
        right.append(" ")
        width = self.size.width
        gap = max(1, width - left.cell_len - right.cell_len)
        if left.cell_len + right.cell_len + 1 > width:
            # Never drop the environment: shorten the firm name first.
            left.truncate(max(4, width - right.cell_len - 1), overflow="ellipsis")
            gap = max(1, width - left.cell_len - right.cell_len)
        line = left + Text(" " * gap) + right
        line.truncate(width)
        return line
