"""The simulated web fleet: the app, cookies, each balancer policy, stop and restart, determinism."""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import Any

import pytest
from flask import Flask

import labkit
from labkit import (
    POLICIES,
    Browser,
    CorruptSession,
    Fleet,
    InvalidSessionId,
    LoadBalancer,
    MemorySessionStore,
    NoSuchServer,
    NoSuchSession,
    SessionState,
    Traffic,
)
from labkit.fleet import fleet as fleet_module
from labkit.fleet.fleet import Reply, wsgi_call
from labkit.fleet.records import NO_SERVER, load_imbalance, logged_out_users, logouts, requests_per_server
from labkit.fleet.webapp import create_app


# -- the in-memory store ----------------------------------------------------------------------------
def test_memory_store_round_trip_and_copies() -> None:
    store = MemorySessionStore()
    sid = store.create({"user": "alice", "cart": []})
    assert len(sid) == 43 and store.create({"user": "bob"}) != sid
    data = store.get(sid)
    data["cart"].append("pen")
    assert store.get(sid) == {"user": "alice", "cart": []}  # edits need save, as with Redis
    store.save(sid, data)
    assert store.get(sid)["cart"] == ["pen"]
    assert store.delete(sid) is True and store.delete(sid) is False
    assert store.get(sid) is None and repr(store) == "MemorySessionStore(1 sessions)"


def test_memory_store_refuses_to_save_a_session_it_never_created() -> None:
    with pytest.raises(NoSuchSession, match="create it first"):
        MemorySessionStore().save("nope", {})


# -- the app and its cookies ------------------------------------------------------------------------
def test_one_server_keeps_a_user_logged_in() -> None:
    fleet = Fleet(servers=1)
    assert fleet.login("alice").status == 200
    assert fleet.post("alice", "/cart", {"item": "mug"}).status == 200
    record = fleet.get("alice", "/cart")
    assert (record.server, record.status, record.recognised) == ("app-1", 200, True)
    assert record.body == "alice's cart: mug (served by app-1)"


def test_session_cookie_flags() -> None:
    fleet = Fleet(servers=1)
    fleet.login("alice")
    cookie = fleet.browser("alice").cookies["sid"]
    assert (cookie.httponly, cookie.secure, cookie.samesite) == (True, True, "Lax")
    response = fleet.server("app-1").client.post("/login", data={"user": "bob"})
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "Secure" in header and "SameSite=Lax" in header
    assert response.headers["X-Served-By"] == "app-1"


def test_secure_can_be_turned_off_and_secure_cookies_skip_plain_http() -> None:
    fleet = Fleet(servers=1, secure_cookie=False)
    fleet.login("alice")
    assert fleet.browser("alice").cookies["sid"].secure is False
    browser = Browser("bob", "10.0.0.9")
    browser.receive(["sid=abc; Secure; HttpOnly", "theme=dark"])
    assert browser.cookie_header(https=True) == "sid=abc; theme=dark"
    assert browser.cookie_header(https=False) == "theme=dark"


def test_login_issues_a_new_id_and_drops_the_old_one() -> None:
    fleet = Fleet(servers=1)
    fleet.login("alice")
    first = fleet.browser("alice").cookies["sid"].value
    fleet.login("alice")
    second = fleet.browser("alice").cookies["sid"].value
    store = fleet.server("app-1").store
    assert first != second and store.get(first) is None and store.get(second)["user"] == "alice"


def test_logout_ends_the_session_and_clears_the_cookie() -> None:
    fleet = Fleet(servers=1)
    fleet.login("alice")
    sid = fleet.browser("alice").cookies["sid"].value
    assert fleet.post("alice", "/logout").body == "logged out (served by app-1)"
    assert not fleet.logged_in("alice") and fleet.server("app-1").store.get(sid) is None
    assert fleet.get("alice", "/profile").status == 401


@pytest.mark.parametrize("form", [{}, {"user": ""}, {"user": "x" * 65}])
def test_login_without_a_sensible_user_is_a_clear_400(form: dict) -> None:
    record = Fleet(servers=1).request("alice", "POST", "/login", form)
    assert record.status == 400 and "form field 'user'" in record.body


def test_adding_nothing_to_the_cart_is_a_clear_400() -> None:
    fleet = Fleet(servers=1)
    fleet.login("alice")
    assert fleet.post("alice", "/cart", {}).status == 400
    assert fleet.get("alice", "/cart").body.startswith("alice's cart: empty")


def test_a_store_rejecting_a_malformed_id_reads_as_an_unknown_session() -> None:
    class Picky(MemorySessionStore):
        def get(self, session_id: str):
            raise InvalidSessionId("malformed session id")

    fleet = Fleet(servers=1, store_factory=lambda name: Picky())
    fleet.login("alice")
    record = fleet.get("alice", "/profile")
    assert (record.status, record.logged_out) == (401, True)


def test_a_corrupt_session_is_logged_and_answered_500_not_hidden_as_a_logout(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(MemorySessionStore):
        def get(self, session_id: str):
            raise CorruptSession("session:x holds a hash, not a session")

    fleet = Fleet(servers=1, store_factory=lambda name: Broken())
    fleet.login("alice")
    with caplog.at_level(logging.WARNING, logger="labkit.app"):
        record = fleet.get("alice", "/profile")
    assert (record.status, record.session, record.logged_out) == (500, SessionState.CORRUPT, False)
    assert "could not be read" in record.body
    assert "app-1: unreadable session data" in caplog.text and "holds a hash" in caplog.text
    assert fleet.browser("alice").session_cookie is None, "the unreadable cookie is cleared"


@pytest.mark.parametrize("path", ["/login", "/logout"])
def test_login_and_logout_over_an_unreadable_session_leave_it_alone(space: labkit.Keyspace, path: str) -> None:
    store = labkit.RedisSessionStore(space)
    fleet = Fleet(servers=1, store_factory=lambda name: store)
    fleet.login("alice")
    session_id = fleet.browser("alice").session_cookie.value
    space.client.delete(store.key(session_id))
    space.client.hset(store.key(session_id), "not", "a session")
    record = fleet.post("alice", path, {"user": "alice"}) if path == "/login" else fleet.post("alice", path)
    assert record.status == 200 and record.session is SessionState.CORRUPT
    assert space.client.hgetall(store.key(session_id)) == {"not": "a session"}, "nothing that is not a session is deleted"


# -- the balancer's policies ------------------------------------------------------------------------
def test_round_robin_takes_turns_and_logs_a_user_out() -> None:
    fleet = Fleet(servers=3, policy="round_robin")
    records = [fleet.login("alice"), fleet.get("alice", "/profile"), fleet.get("alice", "/profile")]
    assert [r.server for r in records] == ["app-1", "app-2", "app-3"]
    assert (records[1].status, records[1].logged_out) == (401, True)
    assert records[2].session == "none"  # the server told the browser to drop the stale cookie


def test_random_is_seeded_and_uses_every_server() -> None:
    def servers(seed: int) -> list[str]:
        balancer = LoadBalancer(["a", "b", "c"], "random", seed=seed)
        return [balancer.choose(Browser("u", "10.0.0.1")) for _ in range(300)]

    assert servers(1) == servers(1) != servers(2)
    counts = Counter(servers(1))
    assert sorted(counts) == ["a", "b", "c"] and min(counts.values()) > 60


@pytest.mark.parametrize("policy", ["sticky", "sticky_hash"])
def test_sticky_policies_log_nobody_out(policy: str) -> None:
    fleet = Fleet(servers=3, policy=policy, seed=1)
    records = fleet.run(1500, Traffic(users=60, seed=1))
    assert logouts(records) == 0
    assert all(v > 0 for v in requests_per_server(records).values())


def test_sticky_pins_with_an_affinity_cookie() -> None:
    fleet = Fleet(servers=3, policy="sticky")
    fleet.login("alice")
    fleet.login("bob")
    assert fleet.browser("alice").cookies["lb"].value == "app-1"
    assert fleet.browser("bob").cookies["lb"].value == "app-2"
    assert {fleet.get("alice", "/profile").server for _ in range(5)} == {"app-1"}
    assert fleet.pinned_to("app-1") == ["alice"]


@pytest.mark.parametrize("policy", ["sticky", "sticky_hash"])
def test_a_failed_server_logs_out_exactly_its_pinned_users(policy: str) -> None:
    fleet = Fleet(servers=3, policy=policy, seed=2)
    fleet.run(800, Traffic(users=60, seed=2))
    at_risk = [u for u in fleet.pinned_to("app-2") if fleet.logged_in(u)]
    assert at_risk
    fleet.stop("app-2")
    after = [fleet.get(u, "/profile") for u in sorted(fleet.browsers) if fleet.logged_in(u)]
    assert "app-2" not in {r.server for r in after}
    assert logged_out_users(after) == at_risk


def test_pinning_needs_a_sticky_policy() -> None:
    with pytest.raises(ValueError, match="pins nobody"):
        Fleet(servers=2).pinned_to("app-1")


def test_unknown_policy_and_server_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="choose one of round_robin, random, sticky, sticky_hash"):
        Fleet(policy="fastest")
    with pytest.raises(NoSuchServer, match="this fleet has app-1, app-2"):
        Fleet(servers=2).stop("app-9")
    with pytest.raises(ValueError, match="at least one server"):
        Fleet(servers=0)


# -- stop and restart -----------------------------------------------------------------------------
def test_round_robin_skips_a_stopped_server_and_503_when_none_is_up() -> None:
    fleet = Fleet(servers=3)
    fleet.stop("app-2")
    assert {fleet.get("u", "/profile").server for _ in range(6)} == {"app-1", "app-3"}
    fleet.stop("app-1")
    fleet.stop("app-3")
    record = fleet.get("u", "/profile")
    assert (record.server, record.status) == (NO_SERVER, 503)


def test_restart_builds_a_new_store_so_memory_sessions_are_lost() -> None:
    calls: list[str] = []

    def factory(name: str) -> MemorySessionStore:
        calls.append(name)
        return MemorySessionStore()

    fleet = Fleet(servers=1, store_factory=factory)
    fleet.login("alice")
    old_store = fleet.server("app-1").store
    fleet.restart("app-1")
    assert calls == ["app-1", "app-1"] and fleet.server("app-1").store is not old_store
    assert fleet.get("alice", "/profile").logged_out
    assert fleet.server("app-1").starts == 2


def test_a_shared_store_survives_round_robin_and_restarts() -> None:
    shared = MemorySessionStore()
    seen: list[str] = []
    fleet = Fleet(servers=3, store_factory=lambda name: seen.append(name) or shared)
    assert seen == ["app-1", "app-2", "app-3"]
    fleet.run(300, Traffic(users=20, seed=1))
    fleet.restart("app-2")
    fleet.run(300, Traffic(users=20, seed=2))
    assert logouts(fleet.records) == 0


# -- determinism, traffic, records ------------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_same_seed_same_records(policy: str) -> None:
    def play(seed: int) -> list[tuple]:
        fleet = Fleet(servers=3, policy=policy, seed=seed)
        return [r[:7] for r in fleet.run(600, Traffic(users=40, skew=1.0, seed=seed))]

    assert play(3) == play(3)
    assert play(3) != play(4)


# -- the direct WSGI call the fleet makes is what Flask's test client would send ---------------------
def _via_test_client(app: Flask, method: str, path: str, form: dict[str, str] | None = None,
                     cookie: str | None = None, address: str = "127.0.0.1") -> Reply:
    """The same request through Flask's test client, as the fleet sent it before."""
    response = app.test_client(use_cookies=False).open(
        path, method=method, data=form, base_url="https://lab.example",
        headers={"Cookie": cookie} if cookie else None, environ_base={"REMOTE_ADDR": address})
    return Reply(response.status_code, list(response.headers.items()), response.get_data(as_text=True))


def _play_everything(fleet: Fleet) -> None:
    """Seeded traffic (logins, cart posts, browsing), a stopped server, 503s, bad forms, 404/405, logouts."""
    fleet.run(250, Traffic(users=40, skew=1.2, seed=1))
    fleet.stop("app-2")
    fleet.run(100, Traffic(users=40, skew=1.2, seed=2))
    fleet.stop("app-1"), fleet.stop("app-3")
    fleet.get("user-1", "/cart")
    fleet.restart("app-1"), fleet.restart("app-2"), fleet.restart("app-3")
    fleet.run(100, Traffic(users=40, skew=1.2, seed=3))
    fleet.post("alice", "/cart", {"item": "mug & tea=cup ü"})
    fleet.login("alice"), fleet.post("alice", "/cart", {"item": "mug & tea=cup ü"}), fleet.post("alice", "/cart", {})
    fleet.login("x" * 100), fleet.login(" "), fleet.get("alice", "/nowhere?x=1"), fleet.request("alice", "PUT", "/cart")
    fleet.get("alice", "/cart?page=2"), fleet.post("alice", "/logout"), fleet.post("alice", "/logout")


@pytest.mark.parametrize("policy", ["sticky", "round_robin"])
def test_direct_wsgi_gives_the_records_the_test_client_gave(policy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def play() -> tuple[list[labkit.Record], dict[str, list[tuple]]]:
        fleet = Fleet(servers=3, policy=policy, seed=0)
        _play_everything(fleet)
        cookies = {u: [(c.name, len(c.value), c.httponly, c.secure, c.samesite) for c in b.cookies.values()]
                   for u, b in fleet.browsers.items()}  # session ids are random; their shape is not
        return list(fleet.records), cookies

    direct = play()
    monkeypatch.setattr(fleet_module, "wsgi_call", _via_test_client)
    assert play() == direct
    records = direct[0]
    assert len(records) == 462 and {r.status for r in records} >= {200, 400, 401, 404, 405, 503}
    assert {r.session for r in records} >= {SessionState.RECOGNISED, SessionState.UNKNOWN, SessionState.NONE}


def test_direct_wsgi_environ_and_reply_match_the_test_client() -> None:
    sid = re.compile(r"sid=[^;]+")
    environs: list[dict] = []

    def recording_app() -> Flask:  # an app server that notes each environ it is called with
        app = create_app("app-1", MemorySessionStore())
        inner = app.wsgi_app

        def recording(environ: dict, start_response: Any) -> Any:
            seen = {k: v for k, v in environ.items() if k not in ("wsgi.input", "wsgi.errors", "HTTP_USER_AGENT")
                    and not k.startswith("werkzeug.")}  # the test client's own additions are left out
            environs.append(seen | {"HTTP_COOKIE": sid.sub("sid=*", environ.get("HTTP_COOKIE", "")),
                                    "body": environ["wsgi.input"].read()})
            environ["wsgi.input"].seek(0)
            return inner(environ, start_response)

        app.wsgi_app = recording  # type: ignore[method-assign]
        return app

    apps, cookies = [recording_app(), recording_app()], [None, None]  # one played directly, one via the client
    for method, path, form in [("POST", "/login", {"user": "alice"}), ("POST", "/cart", {"item": "a b&c=d/é"}),
                               ("GET", "/cart?x=1&y=%20", None), ("GET", "/pro%66ile", None),
                               ("POST", "/logout", None), ("GET", "/cart", None), ("DELETE", "/cart", None)]:
        replies = [call(app, method, path, form, cookie, "10.0.0.7")
                   for call, app, cookie in zip((wsgi_call, _via_test_client), apps, cookies)]
        assert environs[-2] == environs[-1]
        direct, via_client = ((r.status, r.body, [(k, sid.sub("sid=*", v)) for k, v in r.headers]) for r in replies)
        assert direct == via_client
        if path == "/login":
            cookies = [sid.search(r.header("Set-Cookie") or "").group(0) for r in replies]  # type: ignore[union-attr]
    assert replies[0].status == 405 and environs[2]["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert environs[2]["body"] == b"item=a+b%26c%3Dd/%C3%A9" and environs[4]["QUERY_STRING"] == "x=1&y=%20"


def test_a_reply_reads_headers_in_any_case() -> None:
    reply = Reply(200, [("Set-Cookie", "a=1"), ("X-Session", "none"), ("set-cookie", "b=2")], "ok")
    assert reply.header_list("SET-COOKIE") == ["a=1", "b=2"] and reply.header("x-session") == "none"
    assert reply.header("X-Missing") is None and reply.header("X-Missing", "d") == "d"


def test_skewed_traffic_favours_the_first_users() -> None:
    traffic = Traffic(users=200, skew=1.2, seed=0)
    assert 0.24 < traffic.share_of_busiest(1) < 0.28
    counts = Counter(traffic.next_user() for _ in range(5000))
    assert counts["user-001"] / 5000 == pytest.approx(traffic.share_of_busiest(1), abs=0.03)
    assert Traffic(users=4).share_of_busiest(1) == 0.25


@pytest.mark.parametrize("kwargs, message", [({"users": 0}, "at least one user"), ({"skew": -1}, "skew")])
def test_traffic_rejects_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Traffic(**kwargs)


def test_skew_makes_sticky_unbalanced_but_not_round_robin() -> None:
    def imbalance(policy: str) -> float:
        fleet = Fleet(servers=3, policy=policy, seed=0)
        return fleet.summary(fleet.run(1500, Traffic(users=100, skew=1.2, seed=2))).imbalance

    assert imbalance("round_robin") < 1.01 and imbalance("sticky") > 1.3


def test_summary_table_and_run_progress() -> None:
    fleet = Fleet(servers=2)
    seen: list[tuple[int, int]] = []
    fleet.run(100, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (100, 100) and len(seen) == 50
    lines = str(fleet.summary()).splitlines()
    assert lines[0].split() == ["server", "requests", "logouts"] and lines[-1].split()[:2] == ["total", "100"]
    assert repr(fleet) == "Fleet(2 servers, 2 up, policy='round_robin', 100 requests so far)"


def test_load_imbalance_needs_requests() -> None:
    assert load_imbalance({"a": 30, "b": 10}) == 1.5
    with pytest.raises(ValueError, match="run some traffic first"):
        load_imbalance({"a": 0})
    with pytest.raises(ValueError, match="0 or more"):
        Fleet().run(-1)
