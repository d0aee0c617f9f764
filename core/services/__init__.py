"""The only API the TUI and the CLI use: plain values in, frozen dataclasses out."""
