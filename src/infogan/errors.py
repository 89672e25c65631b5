"""Errors meant for people: each carries one line saying what was wrong, where, and what to do."""


class InfoganError(Exception):
    """Base class for every error caused by user input (config, paths, data, checkpoints)."""


class ConfigError(InfoganError):
    """A configuration value, key or combination is invalid."""


class DataUnavailableError(InfoganError):
    """A dataset's files are missing or unreadable."""


class CheckpointError(InfoganError):
    """A run directory or checkpoint is missing, incomplete or does not match the config."""
