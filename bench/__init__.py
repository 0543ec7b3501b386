"""Benchmarks: one command per figure, results in bench/results.json and BENCHMARKS.md."""
