"""Raises at import."""

raise RuntimeError("refuses to be imported")
