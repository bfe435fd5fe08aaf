"""The signal corpus (see pairs.py and docs/signal.md)."""
