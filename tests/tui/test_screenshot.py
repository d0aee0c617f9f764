"""Command palette > Screenshot works without ~/Downloads and says where the file went (issue 16, item 8)."""

from __future__ import annotations

from pathlib import Path

from tui.app import create_app
from tui_helpers import ready_firm, settle


async def test_screenshot_from_the_palette_without_a_downloads_folder(settings, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(home / "Downloads"))
    ready_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Screenshot")
        await pilot.pause(0.3)
        await pilot.press("enter")
        for _ in range(20):
            await pilot.pause(0.05)
            said = [n.message for n in app._notifications if "Screenshot saved to" in n.message]
            if said:
                break
        assert said, [n.message for n in app._notifications]
        saved = Path(said[0].split("Screenshot saved to ", 1)[1])
        assert saved.is_file() and saved.suffix == ".svg" and "<svg" in saved.read_text()
        assert saved.parent == Path(settings.log_file).parent and not (home / "Downloads").exists()
