"""Benchmarks of the kit, measured side by side; run them with `python -m bench.run`."""
