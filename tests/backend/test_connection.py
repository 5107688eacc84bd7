"""connect(): the embedded default, a real server, and clear errors for every way it goes wrong."""

from __future__ import annotations

import re
import ssl
import time

import pytest
import redis

import labkit
from labkit.backend.connection import LabConnectionError, _unreachable, connect, error_code, redact
from tests.support.servers import LocalRedis, free_port, redis_server_path

needs_server = pytest.mark.skipif(redis_server_path() is None, reason="redis-server not on PATH")


def test_default_is_one_shared_fake_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    first, second = connect(), connect()
    first.set("lab:test:shared", "yes")
    assert labkit.is_fake(first) and second.get("lab:test:shared") == "yes"
    first.delete("lab:test:shared")
    assert connect().ping()


def test_fake_backend_banner_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    client = connect()
    assert labkit.backend_banner(client).startswith("Backend: fakeredis")
    assert labkit.server_version(client)[:2] == (7, 0)


@pytest.mark.parametrize("url", ["http://localhost:6379", "localhost:6379", "redis//nohost"])
def test_malformed_url_is_named_with_the_fix(url: str) -> None:
    with pytest.raises(LabConnectionError, match=r"not a Redis URL.*redis://"):
        connect(url)


@pytest.mark.parametrize("url", ["redis://:s3cret@localhost:port/0", "redis://u:s3cret@[::1/0", "redis://localhost:99999/0"])
def test_an_unparsable_url_is_named_without_its_password(url: str) -> None:
    with pytest.raises(LabConnectionError, match=r"is not a valid Redis URL") as caught:
        connect(url)
    assert "s3cret" not in str(caught.value)


def test_refused_port_fails_fast_and_says_what_was_tried() -> None:
    port = free_port()
    started = time.perf_counter()
    with pytest.raises(LabConnectionError, match=rf"Could not reach Redis at redis://127.0.0.1:{port}"):
        connect(f"redis://127.0.0.1:{port}/0")
    assert time.perf_counter() - started < 3, "connection errors must not sit through redis-py's retries"


def test_unknown_host_is_reported() -> None:
    with pytest.raises(LabConnectionError, match="no-such-host.invalid"):
        connect("redis://no-such-host.invalid:6379/0")


def test_password_is_never_printed() -> None:
    assert redact("redis://alice:s3cret@h:6380/0") == "redis://alice:***@h:6380/0"
    assert redact("redis://h:6379") == "redis://h:6379"
    assert redact("redis://:s3cret@h:port/0") == "redis://:***@h:port/0"
    with pytest.raises(LabConnectionError) as caught:
        connect(f"redis://:s3cret@127.0.0.1:{free_port()}/0")
    assert "s3cret" not in str(caught.value)


@needs_server
def test_real_server_banner_names_version_and_address(real_redis_url: str) -> None:
    client = connect(real_redis_url)
    banner = labkit.backend_banner(client)
    assert banner.startswith("Backend: Redis 7") or banner.startswith("Backend: Redis"), banner
    assert "127.0.0.1" in banner


@needs_server
def test_wrong_password_and_missing_password_are_told_apart() -> None:
    with LocalRedis("--requirepass", "right") as server:
        base = f"127.0.0.1:{server.port}/0"
        with pytest.raises(LabConnectionError, match="rejected the login"):
            connect(f"redis://:wrong@{base}")
        with pytest.raises(LabConnectionError, match="needs a password"):
            connect(f"redis://{base}")
        assert connect(f"redis://:right@{base}").ping()


@needs_server
def test_password_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalRedis("--requirepass", "from-env") as server:
        monkeypatch.setenv("REDIS_PASSWORD", "from-env")
        assert connect(f"redis://127.0.0.1:{server.port}/0").ping()


def test_keyspace_clears_only_its_own_keys(space: labkit.Keyspace) -> None:
    client = space.client
    client.set("lab:other:keep", "1")
    client.set(space.key("*glob"), "x")  # glob characters in keys are matched literally
    client.set(space.key("a"), "1")
    nested = space.child("nb")
    client.set(nested.key("b"), "2")
    assert sorted(nested.keys()) == [nested.key("b")]
    assert space.clear() == 3
    assert client.get("lab:other:keep") == "1"
    client.delete("lab:other:keep")


def test_empty_prefix_refuses_to_scan_everything() -> None:
    with pytest.raises(ValueError, match="every key"):
        list(labkit.Keyspace(connect(""), "").keys())


@needs_server
def test_a_new_connection_costs_no_client_setinfo(real_redis_url: str) -> None:
    """CLIENT SETINFO would add two round trips to each new connection: across a network, most of a connect."""
    client = connect(real_redis_url)
    connection = client.connection_pool.get_connection()
    try:  # redis-py sends CLIENT SETINFO LIB-NAME and LIB-VER only when a connection has driver info
        assert connection.driver_info is None
    finally:
        client.connection_pool.release(connection)


def test_commands_get_a_longer_timeout_than_the_connect_check(real_redis_url: str) -> None:
    # Failing fast applies to reaching the server; a slow command on a busy machine must not time out at 1 s.
    client = connect(real_redis_url, timeout=0.5, command_timeout=5.0)
    assert client.blpop(["lab:test:never-pushed"], timeout=1.2) is None  # the server answers after 1.2 s


@pytest.mark.parametrize("url, named", [
    ("redis://127.0.0.1:6379/abc", "'abc'"),
    ("redis://127.0.0.1:6379/0/1", "'0/1'"),
    ("redis://127.0.0.1:6379/-1", "'-1'"),
    ("redis://127.0.0.1:6379/1.5", "'1.5'"),
    ("redis://127.0.0.1:6379/0?db=x", "'x'"),
    ("unix:///tmp/redis.sock?db=zero", "'zero'"),
])
def test_a_database_that_is_not_a_number_is_refused_not_read_as_0(url: str, named: str) -> None:
    started = time.perf_counter()
    with pytest.raises(LabConnectionError, match=rf"names the database {re.escape(named)}, but Redis databases "
                                                 r"are numbered: end the URL with /0"):
        connect(url)
    assert time.perf_counter() - started < 1, "refused from the URL alone, before any network"


@needs_server
def test_a_database_the_server_lacks_names_how_many_it_has(real_redis_url: str) -> None:
    started = time.perf_counter()
    with pytest.raises(LabConnectionError, match=r"has 16 databases \(0 to 15\), so no database 99: end the URL "
                                                 r"with /0, the database the lab uses"):
        connect(real_redis_url.replace("/0", "/99"))
    assert time.perf_counter() - started < 3


@needs_server
def test_a_database_that_exists_is_used(real_redis_url: str) -> None:
    client = connect(real_redis_url.replace("/0", "/15"))
    client.set("lab:test:db15", "here", ex=60)
    assert connect(real_redis_url).get("lab:test:db15") is None and client.get("lab:test:db15") == "here"
    client.delete("lab:test:db15")


@pytest.fixture
def acl_user(real_redis_url: str):
    """Make ACL users on the real server (name, rules...), removed after the test; yields the maker."""
    admin = connect(real_redis_url)
    made: list[str] = []

    def make(name: str, *rules: str) -> str:
        admin.execute_command("ACL", "SETUSER", name, "reset", "on", ">pw", "~*", *rules)
        made.append(name)
        return real_redis_url.replace("redis://", f"redis://{name}:pw@")

    yield make
    for name in made:
        admin.execute_command("ACL", "DELUSER", name)


@needs_server
@pytest.mark.parametrize("rules, path, words", [
    (("+@all", "-ping"), "/0", "accepted the login, but this user may not run PING"),
    (("+@all", "-select"), "/3", "this user may not use database 3 (SELECT: "),
    (("+@all", "-config"), "/99", "has no database 99 (SELECT 99: "),  # CONFIG denied: the count is unknown
], ids=["no PING", "no SELECT", "no CONFIG"])
def test_what_a_restricted_user_may_not_do_is_named(acl_user, rules, path: str, words: str) -> None:
    url = acl_user("lab-test-restricted", *rules).replace("/0", path)
    started = time.perf_counter()
    with pytest.raises(LabConnectionError) as caught:
        connect(url)
    assert words in str(caught.value) and ":pw@" not in str(caught.value)
    assert time.perf_counter() - started < 3


def _cert_failure(code: int, message: str) -> redis.ConnectionError:
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    cause.verify_code, cause.verify_message = code, message
    failure = redis.ConnectionError("Error 1 connecting to cache.example:6380.")
    failure.__cause__ = cause
    return failure


def _hung_up() -> redis.ConnectionError:
    failure = redis.ConnectionError("Error while reading from cache.example:6379")
    failure.__cause__ = ConnectionResetError(104, "Connection reset by peer")
    return failure


# Told apart by the exception's type and fields, so messages worded otherwise (another OpenSSL, another
# language) get the same fix; the verify_message is only shown.
@pytest.mark.parametrize("failure, scheme, ca_file, words", [
    (_cert_failure(62, "Hostname-Fehler"), "rediss", None, "Hostname-Fehler. Connect with a host name the certificate"),
    (_cert_failure(64, "IP address mismatch"), "rediss", "/ca.pem", "Connect with a host name the certificate"),
    (_cert_failure(10, "certificate has expired"), "rediss", None, "Check this machine's clock"),
    (_cert_failure(19, "self-signed certificate in chain"), "rediss", "/ca.pem", "The CA file /ca.pem did not sign"),
    (_cert_failure(20, "unable to get local issuer"), "rediss", None, "add ?ssl_ca_certs=/path/to/ca.pem"),
    (_hung_up(), "redis", None, "hung up on a plain-text connection: if it uses TLS"),
    (redis.ConnectionError("Connection closed by server."), "redis", None, "must start with rediss://"),
], ids=["host name", "IP address", "expired", "wrong CA", "no CA", "reset", "closed"])
def test_failures_are_classified_by_type_and_field(failure, scheme: str, ca_file, words: str) -> None:
    message = str(_unreachable(failure, f"{scheme}://cache.example:6380/0", scheme, ca_file))
    assert words in message, message


def test_a_reset_over_tls_does_not_suggest_rediss() -> None:
    assert "must start with rediss://" not in str(_unreachable(_hung_up(), "rediss://cache.example/0", "rediss", None))


def test_error_code_reads_the_code_not_the_sentence(space: labkit.Keyspace) -> None:
    client = space.client
    client.hset(space.key("hash"), "f", "v")
    client.set(space.key("text"), "not a number")
    replies = {}
    for name, call in {"WRONGTYPE": lambda: client.get(space.key("hash")),
                       "ERR": lambda: client.incr(space.key("text"))}.items():
        with pytest.raises(redis.ResponseError) as caught:
            call()
        replies[name] = error_code(caught.value)
    assert replies == {"WRONGTYPE": "WRONGTYPE", "ERR": "ERR"}
    assert error_code(redis.exceptions.NoPermissionError("this user has no permissions")) == "NOPERM"
    assert error_code(redis.ResponseError("DB index is out of range")) == "ERR"
