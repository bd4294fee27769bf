"""Benchmarks (``make bench``): each area's module exposes ``run(settings) -> dict``.

Figures go to ``bench/results.json``; speed is never asserted in tests.
"""
