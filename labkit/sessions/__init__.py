"""Notebook 02: session stores (in one server's memory, in Redis) and the races an update can lose."""
