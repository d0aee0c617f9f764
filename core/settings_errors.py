"""Why Ledgerlink cannot use its settings, as one ConfigError naming the setting, its env var and the file line.

Nothing here echoes a secret: a value is quoted only when it is short plain text of a setting that holds no
secret, and any value of a *SECRET* or *TOKEN* variable still found in the message is masked.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path
from typing import Any

import pydantic
from pydantic_settings import SettingsError

from core.errors import ConfigError

PREFIX = "LEDGERLINK_"
_SECRETISH = re.compile(r"secret|token|password", re.I)


def env_name(loc: tuple[Any, ...]) -> str:
    return PREFIX + "__".join(str(part).upper() for part in loc)


def settings_error(exc: BaseException, env_file: Any, toml_file: Path, model: Any) -> ConfigError | None:
    """The ConfigError for what went wrong while reading settings (of the settings class `model`), or None for an
    error that is not about them."""
    env_path = Path(env_file) if isinstance(env_file, (str, Path)) else None
    if isinstance(exc, pydantic.ValidationError):
        lines = [_one(err, env_path, toml_file, model) for err in exc.errors()]
        text = "Ledgerlink cannot use its settings: " + "; ".join(lines)
    elif isinstance(exc, tomllib.TOMLDecodeError):
        text = (f"{toml_file} is not valid TOML ({exc}): fix that line; settings look like "
                "[sync] on one line and batch_size = 30 on the next")
    elif isinstance(exc, UnicodeDecodeError):
        text = next((t for t in (_undecodable(p) for p in (env_path, toml_file)) if t),
                    "a settings file is not UTF-8 text - save .env and config.toml as UTF-8")
    elif isinstance(exc, SettingsError):
        text = (f"Ledgerlink cannot use its settings: {exc}; a whole section set at once (LEDGERLINK_QBO, "
                "LEDGERLINK_SYNC, ...) must be JSON, or set each value on its own (LEDGERLINK_SYNC__BATCH_SIZE=30)")
    else:
        return None
    return ConfigError(_mask(text, env_path))


def _one(err: Any, env_path: Path | None, toml_file: Path, model: Any) -> str:
    loc = tuple(err.get("loc") or ())
    dotted = ".".join(str(p) for p in loc)
    where = _where(loc, env_path, toml_file)
    name = f"{env_name(loc)} ({dotted}{', ' + where if where else ''})"
    if err.get("type") == "extra_forbidden":
        return f"{name}: Ledgerlink has no such setting" + _near(loc, model)
    msg = str(err.get("msg", "not a valid value"))
    value = err.get("input")
    shown = ""
    if (isinstance(value, (str, int, float)) and not isinstance(value, bool) and len(str(value)) <= 60
            and not any(_SECRETISH.search(str(p)) for p in loc)):
        shown = f" (got {value!r})"
    return f"{name}: {msg}{shown}"


def _near(loc: tuple[Any, ...], model: Any) -> str:
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        model = field.annotation if field is not None else None
        if not isinstance(model, type) or not issubclass(model, pydantic.BaseModel):
            return ""
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return f": did you mean {env_name((*loc[:-1], close[0]))}?" if close else ""


def _where(loc: tuple[Any, ...], env_path: Path | None, toml_file: Path) -> str:
    """Where the value came from: the environment, a line of .env, or a line of config.toml."""
    names = {env_name(loc[:i]) for i in range(1, len(loc) + 1)}
    if any(key.upper() in names for key in os.environ):
        return "set in the environment"
    if env_path is not None and env_path.is_file():
        for n, line in enumerate(env_path.read_text("utf-8", errors="replace").splitlines(), 1):
            key = line.strip().removeprefix("export ").split("=", 1)[0].strip().strip("'\"")
            if key.upper() in names:
                return f"{env_path} line {n}"
    if toml_file.is_file():
        section, leaf = ".".join(str(p) for p in loc[:-1]), str(loc[-1]) if loc else ""
        current = ""
        for n, line in enumerate(toml_file.read_text("utf-8", errors="replace").splitlines(), 1):
            head = re.fullmatch(r"\s*\[([^\]]+)\]\s*(#.*)?", line)
            if head:
                current = head.group(1).strip()
            elif current == section and re.match(rf"\s*\"?{re.escape(leaf)}\"?\s*=", line):
                return f"{toml_file} line {n}"
    return ""


def _undecodable(path: Path | None) -> str | None:
    if path is None or not path.is_file():
        return None
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return (f"{path} line {line}: not UTF-8 text (byte 0x{data[exc.start]:02X}) - save the file as UTF-8")
    return None


def _mask(text: str, env_path: Path | None) -> str:
    secrets = [v for k, v in os.environ.items() if _SECRETISH.search(k) and len(v) >= 4]
    if env_path is not None and env_path.is_file():
        for line in env_path.read_text("utf-8", errors="replace").splitlines():
            key, _, value = line.partition("=")
            value = value.strip().strip("'\"")
            if _SECRETISH.search(key) and len(value) >= 4:
                secrets.append(value)
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


OTHER_VARIABLES = ("LEDGERLINK_USER", "LEDGERLINK_CONFIG_DIR")  # read outside Settings


def setting_names(model: Any, loc: tuple[str, ...] = ()) -> set[str]:
    """Every LEDGERLINK_* name `model` reads: each section (as JSON) and each value in it."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        here = (*loc, name)
        names.add(env_name(here))
        if isinstance(field.annotation, type) and issubclass(field.annotation, pydantic.BaseModel):
            names |= setting_names(field.annotation, here)
    return names


def misspelt_variable(env_file: Any, model: Any) -> ConfigError | None:
    """A LEDGERLINK_* variable (in the environment or .env) that Ledgerlink does not read but that is close to
    one it does (LEDGERLINK_SYNC_BATCH_SIZE for LEDGERLINK_SYNC__BATCH_SIZE): it would be ignored silently."""
    known = setting_names(model) | set(OTHER_VARIABLES)
    found: list[tuple[str, str]] = [(key.upper(), "set in the environment") for key in os.environ]
    env_path = Path(env_file) if isinstance(env_file, (str, Path)) else None
    if env_path is not None and env_path.is_file():
        for n, line in enumerate(env_path.read_text("utf-8", errors="replace").splitlines(), 1):
            key = line.strip().removeprefix("export ").split("=", 1)[0].strip().strip("'\"").upper()
            found.append((key, f"{env_path} line {n}"))
    for key, where in found:
        if not key.startswith(PREFIX) or key in known or any(key.startswith(k + "__") for k in known):
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.85)
        if close:
            return ConfigError(f"Ledgerlink cannot use its settings: {key} ({where}): Ledgerlink has no such "
                               f"setting: did you mean {close[0]}?")
    return None
