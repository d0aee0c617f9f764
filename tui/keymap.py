"""The user's keymap (settings `ui.keymap`: binding id -> keys): the entries Textual can use, and a sentence
for each one it cannot (an id no binding has, or a key Textual would never send)."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from dataclasses import dataclass, field

from textual.app import App
from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode
from textual.keys import KEY_NAME_REPLACEMENTS, Keys, key_to_character

MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
KEY_NAMES = frozenset({key.value.rpartition("+")[2] for key in Keys if not key.value.startswith("<")}
                      | set(KEY_NAME_REPLACEMENTS.values()))
KEY_EXAMPLES = "f1 to f24, ctrl+r, escape, enter, tab, up, delete, space, slash, question_mark"


@dataclass
class KeymapCheck:
    keymap: dict[str, str] = field(default_factory=dict)
    """The entries to hand to App.set_keymap."""
    problems: list[str] = field(default_factory=list)
    """One sentence per entry left out, naming it."""


def _key_ok(key: str) -> bool:
    *modifiers, name = key.split("+")
    if not name or any(m not in MODIFIERS for m in modifiers) or (len(name) > 1 and name != name.lower()):
        return False
    return len(name) == 1 or name in KEY_NAMES or key_to_character(name) is not None


def key_problem(key: str) -> str | None:
    """Why `key` (one key, like `ctrl+r`) can never be pressed, or None when it can."""
    if _key_ok(key):
        return None
    if not key:
        return "an empty key (two commas, or a comma at an end)"
    hint = f'did you mean "{key.lower()}"?' if _key_ok(key.lower()) else f"keys look like {KEY_EXAMPLES}"
    return f'"{key}" is not a key ({hint})'


def import_all_screens() -> None:
    """Import every tui screen, modal and widget, so every binding id is defined."""
    for package in ("tui.screens", "tui.modals", "tui.widgets"):
        for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
            importlib.import_module(f"{package}.{module.name}")


def binding_classes() -> list[type[DOMNode]]:
    """Every loaded widget, screen or app class that declares key bindings (Textual's own included)."""
    found: list[type[DOMNode]] = []
    classes = [DOMNode]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        if cls.__dict__.get("BINDINGS"):
            found.append(cls)
    return found


def binding_ids() -> dict[str, Binding]:
    """Every binding with an id, by id."""
    return {binding_id: binding for binding_id, (_, binding) in _with_ids().items()}


def binding_owners() -> dict[str, type[DOMNode]]:
    """The class that declares each binding id."""
    return {binding_id: cls for binding_id, (cls, _) in _with_ids().items()}


def _with_ids() -> dict[str, tuple[type[DOMNode], Binding]]:
    found: dict[str, tuple[type[DOMNode], Binding]] = {}
    for cls in binding_classes():
        for binding in cls.__dict__["BINDINGS"]:
            if isinstance(binding, Binding) and binding.id:
                found.setdefault(binding.id, (cls, binding))
    return found


def _effective_keys(cls: type[DOMNode], keymap: dict[str, str]) -> dict[str, list[tuple[Binding, bool]]]:
    """key -> [(binding, whether the keymap put it there)] for `cls` once `keymap` is applied."""
    keys: dict[str, list[tuple[Binding, bool]]] = {}
    seen: set[object] = set()
    for bindings in (cls._merged_bindings or BindingsMap()).key_to_bindings.values():
        for binding in bindings:
            remapped = binding.id in keymap
            once = binding.id if remapped else (binding.action, binding.key)  # "f1,?" is a Binding per key
            if once in seen:
                continue
            seen.add(once)
            for key in (keymap[binding.id] if remapped else binding.key).split(","):
                keys.setdefault(key.strip(), []).append((binding, remapped))
    return keys


def _name(binding: Binding) -> str:
    return f'"{binding.description or binding.action}" ({binding.id or "no id"})'


def clashes(keymap: dict[str, str], app_class: type[App]) -> list[str]:
    """Keys the keymap gives to a binding that another binding of the same class, or of the app, also has."""
    if not keymap:
        return []
    problems: list[str] = []
    app_keys = _effective_keys(app_class, keymap)
    for cls in binding_classes():
        if cls is not app_class and (issubclass(cls, App) or not cls.__module__.startswith("tui.")):
            continue
        here = _effective_keys(cls, keymap)
        for key, bindings in here.items():
            if len({b.action for b, _ in bindings}) > 1 and any(remapped for _, remapped in bindings):
                names = " and ".join(_name(b) for b, _ in bindings)
                problems.append(f'ui.keymap: {key} is both {names} in {cls.__name__}')
            elif cls is not app_class:
                app_side = [(b, r) for b, r in app_keys.get(key, []) if b.action != bindings[0][0].action]
                if app_side and (bindings[0][1] or any(r for _, r in app_side)):
                    problems.append(f"ui.keymap: {key} is {_name(app_side[0][0])} everywhere but "
                                    f"{_name(bindings[0][0])} in {cls.__name__}, which wins there")
    return list(dict.fromkeys(problems))


def _apply_keymap_in_order(self: BindingsMap, keymap: dict[str, str]):
    """Textual's BindingsMap.apply_keymap, then each binding back at its place (the footer's order)."""
    place: dict[object, int] = {}
    for n, (key, bindings) in enumerate(self.key_to_bindings.items()):
        for binding in bindings:
            place.setdefault(binding.id or key, n)
    result = _textual_apply_keymap(self, keymap)
    self.key_to_bindings = dict(sorted(
        self.key_to_bindings.items(),
        key=lambda item: min(place.get(b.id or item[0], len(place)) for b in item[1])))
    return result


_textual_apply_keymap = BindingsMap.apply_keymap


def keep_footer_order() -> None:
    """Textual moves a remapped binding to the end of the footer, where 80 columns cut it off: keep its place."""
    BindingsMap.apply_keymap = _apply_keymap_in_order


def check_keymap(keymap: dict[str, str], known: dict[str, Binding]) -> KeymapCheck:
    """Keep the entries whose id exists and whose keys can all be pressed; say what is wrong with the others."""
    check = KeymapCheck()
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            close = difflib.get_close_matches(binding_id, list(known), n=1)
            hint = f'; did you mean "{close[0]}"?' if close else "; `ledgerlink keys` lists them"
            check.problems.append(f'ui.keymap: no key binding has the id "{binding_id}"{hint}')
            continue
        wrong = [problem for key in keys.split(",") if (problem := key_problem(key.strip()))]
        if wrong:
            check.problems.append(f'ui.keymap "{binding_id}" = "{keys}": ' + "; ".join(wrong))
            continue
        check.keymap[binding_id] = ",".join(key.strip() for key in keys.split(","))
    return check
