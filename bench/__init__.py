"""Benchmarks for notifier: feed polling cycles and matching (``make bench``)."""
