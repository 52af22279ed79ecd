"""starcoach: a local, offline practice recorder for spoken interview answers."""

__version__ = "0.1.0"
