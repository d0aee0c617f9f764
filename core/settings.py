"""One settings model: LEDGERLINK_* environment, then .env, then the TOML config file.

Nested sections use `__`, e.g. LEDGERLINK_QBO__CLIENT_ID.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core import paths

Environment = Literal["production", "sandbox", "local"]

# Intuit's published endpoints (reference/qbo-api.md sections 1.1 and 2.1).
PRESETS: dict[str, dict[str, str]] = {
    "production": {
        "api_base": "https://quickbooks.api.intuit.com",
        "authorize_url": "https://appcenter.intuit.com/connect/oauth2",
        "token_url": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        "revoke_url": "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
        "userinfo_url": "https://accounts.platform.intuit.com/v1/openid_connect/userinfo",
    },
    "sandbox": {
        "api_base": "https://sandbox-quickbooks.api.intuit.com",
        "authorize_url": "https://appcenter.intuit.com/connect/oauth2",
        "token_url": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        "revoke_url": "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
        "userinfo_url": "https://sandbox-accounts.platform.intuit.com/v1/openid_connect/userinfo",
    },
}

# Paths the local sandbox serves below its base URL.
LOCAL_PATHS = {
    "api_base": "",
    "authorize_url": "/connect/oauth2",
    "token_url": "/oauth2/v1/tokens/bearer",
    "revoke_url": "/v2/oauth2/tokens/revoke",
    "userinfo_url": "/v1/openid_connect/userinfo",
}

LOCAL_CLIENT_ID = "ledgerlink-local"
LOCAL_CLIENT_SECRET = "ledgerlink-local-secret"
LOCAL_REDIRECT_URI = "http://127.0.0.1:8765/callback"


@dataclass(frozen=True)
class Endpoints:
    api_base: str
    authorize_url: str
    token_url: str
    revoke_url: str
    userinfo_url: str


class QBOSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    environment: Environment | None = None
    """production, sandbox (Intuit's) or local (the built-in sandbox). Unset: local when no client id."""
    client_id: str | None = None
    """The Intuit app's client id. Unset: the built-in sandbox is used."""
    client_secret: SecretStr | None = None
    """The Intuit app's client secret. Never logged or shown."""
    redirect_uri: str | None = None
    """Redirect URI registered with the Intuit app (HTTPS for production)."""
    api_base: str | None = None
    """Scheme and host of the Accounting API, without /v3. Wins over the environment preset."""
    authorize_url: str | None = None
    """Intuit OAuth authorization endpoint. Wins over the preset."""
    token_url: str | None = None
    """Intuit OAuth token endpoint. Wins over the preset."""
    revoke_url: str | None = None
    """Intuit OAuth revoke endpoint. Wins over the preset."""
    userinfo_url: str | None = None
    """OpenID userinfo endpoint. Wins over the preset."""
    minor_version: int = Field(default=75, ge=1, le=999)
    """QBO minorversion sent on every call."""
    scope: str = "com.intuit.quickbooks.accounting openid profile email"
    """OAuth scopes, space separated."""

    @field_validator("redirect_uri", "api_base", "authorize_url", "token_url", "revoke_url", "userinfo_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        try:
            parts = urlsplit(value)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port is None or parts.port > 0)
        except ValueError:  # a bad port or IPv6 address
            ok = False
        if not ok:
            raise ValueError("must be an http(s) address with a host, like https://example.com/callback")
        return value

    def effective_environment(self) -> Environment:
        if self.environment:
            return self.environment
        return "sandbox" if self.client_id else "local"

    def endpoints(self, local_base: str | None = None) -> Endpoints:
        """Resolve every endpoint: explicit setting, else the environment's preset."""
        env = self.effective_environment()
        if env == "local":
            base = (local_base or "").rstrip("/")
            preset = {k: base + p for k, p in LOCAL_PATHS.items()}
        else:
            preset = PRESETS[env]
        return Endpoints(**{k: getattr(self, k) or preset[k] for k in LOCAL_PATHS})


class LedgerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credit_prefix: str = "CR-"
    """Identifier prefix of a credit note that reverses income."""
    writeoff_prefix: str = "WO-"
    """Identifier prefix of a credit note that writes a debt off."""
    invoice_prefix: str = "INV-"
    """Prefix of invoice numbers."""

    @field_validator("credit_prefix", "writeoff_prefix", "invoice_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        # QBO's DocNumber holds 21 characters: a prefix of at most 10 leaves room for the number
        if len(value) > 10 or any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in value):
            raise ValueError("must be at most 10 printable characters (QuickBooks keeps 21 for a document number)")
        return value


class SyncSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requests_per_minute: int = Field(default=500, ge=1, le=500)
    """QBO's limit of requests a minute per company (1-500: more only earns 429s)."""
    max_concurrent: int = Field(default=10, ge=1, le=10)
    """QBO's limit of requests in flight per company (1-10)."""
    batch_size: int = Field(default=30, ge=1, le=30)
    """Largest batch QBO accepts (1-30)."""
    batches_per_minute: int = Field(default=40, ge=1, le=40)
    """QBO's limit of batch requests a minute per company and app (1-40)."""
    time_scale: float = Field(default=1.0, gt=0, le=1000)
    """Multiplies every limit's window (benchmarks scale time; 1.0 is real time)."""
    default_retry_after: float = Field(default=60.0, gt=0, le=3600)
    """Seconds to wait after a 429 with no hint (QBO's advice; at most an hour)."""
    max_backoff: float = Field(default=60.0, gt=0, le=3600)
    """Longest wait between retries, in seconds (at most an hour)."""
    metered_reads_budget: int = Field(default=500_000, ge=1_000, le=1_000_000_000)
    """Metered (CorePlus) QBO reads allowed a company a calendar month (Intuit's free tier: 500,000); status,
    `ledgerlink status` and the sync monitor warn from 80% of it."""


class UISettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = "textual-dark"
    """Textual theme name."""
    auto_sync: bool = True
    """While the TUI is open (and the Sales invoices sync is on), push what is queued by itself: within seconds
    of a save, and every minute. LEDGERLINK_UI__AUTO_SYNC=false leaves it to the monitor's `y`."""
    keymap: dict[str, str] | str = Field(default_factory=dict)
    """Binding id -> keys (comma separated), e.g. {"app.help": "f10", "monitor.retry": "ctrl+r"}.
    LEDGERLINK_UI__KEYMAP takes it as JSON; the TUI checks ids and keys when it starts."""

    @field_validator("keymap", mode="before")
    @classmethod
    def _keymap_entries(cls, value: Any) -> dict[str, str]:
        # `| str` above lets a bad JSON string reach this check (else pydantic-settings fails with no detail).
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ValueError(f"the keymap is not valid JSON ({exc}); "
                                 'write it as {"binding.id": "key", ...}') from None
        if not isinstance(value, dict):
            raise ValueError(f'the keymap must map binding ids to keys, like {{"app.help": "f10"}}, not {value!r}')
        return _flat_keymap(value)


def _flat_keymap(table: dict, prefix: str = "") -> dict[str, str]:
    """{"app": {"help": "f10"}} (TOML's unquoted `app.help = "f10"`) -> {"app.help": "f10"}; a list of keys
    joins with commas."""
    flat: dict[str, str] = {}
    for key, keys in table.items():
        binding_id = f"{prefix}{key}"
        if isinstance(keys, dict):
            flat.update(_flat_keymap(keys, f"{binding_id}."))
        elif isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys):
            flat[binding_id] = ",".join(keys)
        elif isinstance(keys, str):
            flat[binding_id] = keys
        else:
            raise ValueError(f'keymap entry "{binding_id}": keys must be text like "ctrl+r" or "f1,f10", '
                             f"not {keys!r}")
    return flat


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEDGERLINK_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    db: Path = Field(default_factory=paths.default_db_path)
    """The firm database file (LEDGERLINK_DB or --db)."""
    log_file: Path = Field(default_factory=paths.log_file)
    """Where logs go (the TUI owns the terminal)."""
    qbo: QBOSettings = Field(default_factory=QBOSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    ui: UISettings = Field(default_factory=UISettings)

    def __init__(self, **values: Any) -> None:
        """As BaseSettings, but a bad setting, config.toml or .env is a ConfigError naming it (see settings_errors)."""
        from core.settings_errors import misspelt_variable, settings_error

        env_file = values.get("_env_file", ".env")
        try:
            super().__init__(**values)
        except Exception as exc:
            error = settings_error(exc, env_file, paths.config_file(), type(self))
            if error is None:
                raise
            raise error from None
        misspelt = misspelt_variable(env_file, type(self))
        if misspelt is not None:
            raise misspelt

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=paths.config_file())
        return (init_settings, env_settings, dotenv_settings, toml, file_secret_settings)


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
