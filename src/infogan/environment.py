"""The environment variables infogan reads. A module of its own so that the CLI can name them without importing
the config models."""

# The data root: searched after --data-root, and read as --data-root when that is not given, so that a machine's
# data folder is set once.
DATA_ROOT_ENV = "INFOGAN_DATA_ROOT"
