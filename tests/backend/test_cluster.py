"""Cluster mode: a URL naming any node of a Redis Cluster gives a client for the whole cluster."""

from __future__ import annotations

import time

import pytest
import redis

import labkit
from labkit.backend.connection import LabConnectionError, connect
from tests.support.servers import LocalCluster, LocalRedis, TlsFiles, free_port, redis_server_path

pytestmark = pytest.mark.skipif(redis_server_path() is None, reason="redis-server not on PATH: no local cluster")


@pytest.fixture
def cluster(cluster_url: str) -> redis.cluster.RedisCluster:
    client = connect(cluster_url)
    labkit.Keyspace(client, "lab:cluster-test:").clear()
    yield client
    labkit.Keyspace(client, "lab:cluster-test:").clear()


def test_a_cluster_node_gives_a_cluster_client_and_says_so(cluster: redis.cluster.RedisCluster) -> None:
    assert labkit.is_cluster(cluster) and not labkit.is_fake(cluster)
    banner = labkit.backend_banner(cluster)
    assert banner.startswith("Backend: Redis Cluster 7.") and ", 3 primaries, at 127.0.0.1:" in banner, banner
    assert not labkit.is_cluster(connect(""))


def test_keyspace_scans_and_clears_every_primary(cluster: redis.cluster.RedisCluster) -> None:
    space = labkit.Keyspace(cluster, "lab:cluster-test:")
    keys = [space.key(f"player-{i}") for i in range(60)]
    for key in keys:
        cluster.set(key, "1")
    cluster.set("lab:cluster-other:keep", "1")
    homes = {cluster.get_node_from_key(key).name for key in keys}
    assert len(homes) == 3, "60 keys should spread over all three primaries"
    assert sorted(space.keys()) == sorted(keys)
    assert space.clear() == 60
    assert list(space.keys()) == [] and cluster.get("lab:cluster-other:keep") == "1"
    cluster.delete("lab:cluster-other:keep")


def test_hash_tagged_keys_share_a_slot_and_a_transaction(cluster: redis.cluster.RedisCluster) -> None:
    daily, weekly = "lab:cluster-test:{board}:daily", "lab:cluster-test:{board}:weekly"
    assert cluster.keyslot(daily) == cluster.keyslot(weekly)
    cluster.zadd(daily, {"ada": 3, "bo": 5})
    with cluster.pipeline(transaction=True) as pipe:
        pipe.watch(daily)
        pipe.multi()
        pipe.zunionstore(weekly, [daily])
        pipe.zrevrange(weekly, 0, 0)
        assert pipe.execute() == [2, ["bo"]]


def test_keys_in_different_slots_are_refused_together(cluster: redis.cluster.RedisCluster) -> None:
    one, two = "lab:cluster-test:daily:1", "lab:cluster-test:daily:2"
    assert cluster.keyslot(one) != cluster.keyslot(two)
    with pytest.raises(redis.exceptions.RedisClusterException, match="same key slot"):
        cluster.zunionstore("lab:cluster-test:weekly", [one, two])  # redis-py refuses before sending
    with pytest.raises(redis.exceptions.ClusterCrossSlotError):  # the server's own CROSSSLOT reply
        cluster.execute_command("ZUNIONSTORE", "lab:cluster-test:weekly", 2, one, two,
                                target_nodes=cluster.get_node_from_key(one))
    pipe = cluster.pipeline(transaction=True)
    pipe.set(one, "1")
    pipe.set(two, "2")
    with pytest.raises(redis.exceptions.CrossSlotTransactionError):
        pipe.execute()
    assert cluster.exists(one, two) == 0, "a refused transaction must not have written anything"


def test_every_node_works_as_the_configuration_endpoint(cluster_url: str, cluster: redis.cluster.RedisCluster) -> None:
    for node in cluster.get_primaries():
        other = connect(f"redis://{node.host}:{node.port}")
        assert labkit.is_cluster(other) and len(other.get_primaries()) == 3
        other.close()


def test_a_database_other_than_0_is_refused_clearly(cluster_url: str) -> None:
    with pytest.raises(LabConnectionError, match=r"cluster has only database 0.*not /2"):
        connect(cluster_url.replace("/0", "/2"))


def test_a_database_other_than_0_is_refused_even_to_a_user_denied_cluster_info(cluster: redis.cluster.RedisCluster) -> None:
    first = cluster.get_primaries()[0]
    node = redis.Redis(host=first.host, port=first.port)
    node.execute_command("ACL", "SETUSER", "lab-no-cluster-info", "on", ">pw", "~lab:*", "+@all", "-cluster")
    try:
        with pytest.raises(LabConnectionError, match=r"cluster has only database 0: end the URL with /0 \(not /2\)"):
            connect(f"redis://lab-no-cluster-info:pw@{first.host}:{first.port}/2")
    finally:
        node.execute_command("ACL", "DELUSER", "lab-no-cluster-info")
        node.close()


def test_a_database_that_is_not_a_number_is_refused(cluster_url: str) -> None:
    with pytest.raises(LabConnectionError, match=r"names the database 'abc'"):
        connect(cluster_url.replace("/0", "/abc"))


def test_a_cluster_that_is_not_ready_fails_fast_and_says_why() -> None:
    bus = str(free_port())  # the default bus port, port + 10000, may be taken or past 65535
    with LocalRedis("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", bus) as lonely:
        started = time.perf_counter()
        with pytest.raises(LabConnectionError, match=r"cluster is not ready \(cluster_state:fail, 0 of 16384"):
            connect(lonely.url)
        assert time.perf_counter() - started < 3


def test_cluster_over_tls(tls_files: TlsFiles) -> None:
    with LocalCluster(3, tls=tls_files) as secure:
        client = connect(secure.url)
        assert labkit.backend_banner(client).endswith(" over TLS")
        space = labkit.Keyspace(client, "lab:cluster-test:")
        for i in range(30):
            client.set(space.key(str(i)), "x")
        assert space.clear() == 30
        client.close()


def test_a_user_missing_on_another_primary_is_named(cluster: redis.cluster.RedisCluster) -> None:
    first = cluster.get_primaries()[0]
    node = redis.Redis(host=first.host, port=first.port)
    node.execute_command("ACL", "SETUSER", "lab-only-here", "on", ">pw", "~lab:*", "+@all")
    try:
        with pytest.raises(LabConnectionError, match="another primary of its cluster rejected it.*every node"):
            connect(f"redis://lab-only-here:pw@{first.host}:{first.port}/0")
    finally:
        node.execute_command("ACL", "DELUSER", "lab-only-here")
        node.close()
