"""Notebook 04: the lesson in production, measured on throwaway servers (memory, eviction, replicas, failover)."""
