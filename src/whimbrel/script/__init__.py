"""Revision scripts: the pure graph and the directory that holds the files."""
