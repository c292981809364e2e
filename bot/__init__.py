"""Doorstep's conversation engine, storage, queue and command line."""
