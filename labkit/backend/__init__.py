"""The backend: the Redis connection (fakeredis, a server, a cluster, TLS) and the lab's keyspace on it."""
