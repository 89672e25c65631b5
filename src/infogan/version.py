"""The package's version, kept apart from the package's __init__ (the public facade, which names the api) so that
modules inside the package, export's metadata among them, can read it without importing the facade."""

__version__ = "0.1.0"
