"""Every filesystem path Ledgerlink uses, in one place."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "ledgerlink"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"


def config_dir() -> Path:
    return Path(os.environ.get("LEDGERLINK_CONFIG_DIR") or platformdirs.user_config_dir(APP_NAME))


def config_file() -> Path:
    return config_dir() / "config.toml"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME))


def default_db_path() -> Path:
    return data_dir() / "firm.db"


def log_file() -> Path:
    return state_dir() / "ledgerlink.log"


def sandbox_db_path() -> Path:
    return data_dir() / "sandbox.db"


def template_dir(country: str) -> Path:
    return DATA_DIR / "templates" / country.upper()


def sandbox_seed_dir(country: str) -> Path:
    return DATA_DIR / "sandbox" / country.upper()
