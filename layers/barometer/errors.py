"""Errors the CLI turns into one clear line and a non-zero exit."""


class BarometerError(Exception):
    """A user-facing error: its message is printed as is, exit code `exit_code`."""

    exit_code = 1


class ConfigError(BarometerError):
    """Invalid panel, settings or command-line input."""

    exit_code = 2
