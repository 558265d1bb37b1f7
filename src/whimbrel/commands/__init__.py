"""The implementation of :mod:`whimbrel.command`, one module per kind of command."""
