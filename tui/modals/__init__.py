"""Modal screens: each returns a typed result with dismiss(value)."""
