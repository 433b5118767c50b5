"""Developer scripts; ``scripts.harness`` is shared by the tests and the benchmarks."""
