"""Benchmarks that print figures: ``python -m bench <name>`` (see ``python -m bench -h``)."""
