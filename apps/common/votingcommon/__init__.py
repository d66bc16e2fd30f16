"""Code every service image shares: configuration, connections, metrics, health, logging and serving.

Importing this package imports nothing heavy: `python -m vote` must be able to set up prometheus-client's
multiprocess directory before any metric module is loaded.
"""
