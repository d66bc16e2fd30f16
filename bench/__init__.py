"""Benchmarks (not tests): each module measures one target on this machine and writes bench/results/*.json."""
