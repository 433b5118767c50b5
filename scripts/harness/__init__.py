"""Code shared by the tests (``tests/``) and the benchmarks (``scripts/bench/``).

Both sides import from here; neither imports the other. Nothing here is a test module, and nothing in
``mentor_local`` imports it.
"""
