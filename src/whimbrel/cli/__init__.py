"""The ``whimbrel`` command line."""
