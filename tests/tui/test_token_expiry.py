"""The header and the connect screen show both expiries of the QuickBooks authorization, and from 30 days before
the nearer one, the date to reconnect by; the sync monitor's line of metered reads."""

import time

from core.qbo.connect import connection_info_of
from core.qbo.store import StoredConnection
from tui.screens.connect import describe
from tui.widgets.header import token_health

DAY = 86400


def info(rolling_days: float | None, hard_days: float | None, status: str = "ok"):
    now = time.time()
    conn = StoredConnection("local", "123", "Wren & Co", "GB", "at", "rt", int(now) + 3600,
                            None if rolling_days is None else int(now + rolling_days * DAY), None,
                            "2026-12-01T10:00:00+00:00", "admin", status, 3600,
                            None if hard_days is None else int(now + hard_days * DAY))
    return connection_info_of(conn, now=now)


def test_the_header_says_ok_until_30_days_before_either_expiry_then_the_date_to_reconnect_by():
    assert token_health(info(100, 1800)) == ("token ok", True)
    assert token_health(info(100, None)) == ("token ok", True)  # hard expiry not told yet
    hard = info(100, 12.5)
    assert token_health(hard) == (f"reconnect by {hard.refresh_token_hard_expires_at[:10]}", False)
    rolling = info(29.5, 1800)
    assert token_health(rolling) == (f"reconnect by {rolling.refresh_token_expires_at[:10]}", False)
    assert token_health(info(100, -1)) == ("token expired: reconnect", False)
    assert token_health(info(100, 1800, "rejected")) == ("reconnect needed", False)


def test_the_connect_screen_shows_both_expiries_and_the_warning():
    shown = describe(info(100, 1800))
    ok = info(100, 1800)
    assert (f"Authorization renews on use until {ok.refresh_token_expires_at[:10]}; five-year limit "
            f"{ok.refresh_token_hard_expires_at[:10]}.") in shown
    assert "Reconnect" not in shown
    assert "five-year limit not known yet." in describe(info(100, None))
    soon = info(100, 10.5)
    assert (f"The QuickBooks authorization expires in 10 days (its five-year limit): Reconnect to QuickBooks before "
            f"{soon.refresh_token_hard_expires_at[:10]}.") in describe(soon)


def test_the_monitor_line_shows_the_month_s_metered_reads_and_warns_from_80_percent():
    from core.qbo.metering import MeteredReads
    from tui.screens.monitor import metered_text

    assert metered_text(None) == ""
    assert metered_text(MeteredReads("1", "2026-12", 1234, 500_000)) == "Metered reads this month 1,234/500,000"
    assert metered_text(MeteredReads("1", "2026-12", 400_000, 500_000)) == (
        "Metered reads this month 400,000/500,000 (80%): QuickBooks blocks reads past its allowance")
