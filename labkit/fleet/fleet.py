"""A small web fleet in one process: app servers behind a load balancer, browsers, and traffic.

    fleet = Fleet(servers=3, policy="round_robin", store_factory=lambda name: MemorySessionStore(), seed=0)
    fleet.login("alice")                 # -> Record: which server, status, session recognised or not
    fleet.get("alice", "/profile")
    fleet.run(1_000, Traffic(users=100, skew=1.2, seed=0))
    print(fleet.summary())               # requests and logouts per server
    fleet.stop("app-2"); fleet.restart("app-2")

The session store is a parameter: `store_factory(name)` is called with a server's name each time
that server starts (and again when it restarts), so a factory returning a new
`MemorySessionStore()` gives each server its own memory, lost on restart, while
`lambda name: shared_store` gives every server the same store. Nothing else changes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from io import BytesIO
from typing import Any
from urllib.parse import unquote, urlencode

from flask import Flask
from flask.testing import FlaskClient

from labkit.errors import BadArgument, NoSuchServer
from labkit.fleet.balancer import LoadBalancer, Policy
from labkit.fleet.browser import Browser
from labkit.fleet.records import NO_SERVER, FleetSummary, Record, summarise
from labkit.fleet.traffic import Traffic
from labkit.fleet.webapp import SESSION_COOKIE, SESSION_STATE, SessionState, create_app
from labkit.sessions.memory import MemorySessionStore
from labkit.sessions.store import SessionStore

StoreFactory = Callable[[str], SessionStore]
ProgressCallback = Callable[[int, int], None]
HOST = "lab.example"  # the fleet speaks HTTPS to this host, as a browser at https://lab.example would
_FORM = "application/x-www-form-urlencoded"
_FORM_SAFE = "!$'()*,/:;?@"  # what werkzeug's test client leaves unescaped in a urlencoded form


class Reply:
    """What one WSGI call answered: the status code, the headers in order, and the body as text."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: list[tuple[str, str]], body: str) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first header called `name` (any case), or `default`."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), default)

    def header_list(self, name: str) -> list[str]:
        """Every header called `name` (any case), in order: e.g. all Set-Cookie values."""
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]


def _wsgi_text(text: str) -> str:
    """A str as WSGI carries it in the environ: its UTF-8 bytes read as latin-1 (PEP 3333)."""
    return text if text.isascii() else text.encode().decode("latin-1")


def wsgi_call(app: Flask, method: str, path: str, form: dict[str, str] | None = None,
              cookie: str | None = None, address: str = "127.0.0.1") -> Reply:
    """Call `app` as a WSGI server would for one HTTPS request to lab.example, and collect its reply.

    The environ is the one werkzeug's test client builds for `open(path, method=..., data=form,
    base_url="https://lab.example", headers={"Cookie": cookie})`, built directly: the test client's
    request and response objects cost as much as the app itself, and the fleet sends tens of
    thousands of requests.
    """
    raw_path, _, query = path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(),
        "SCRIPT_NAME": "",
        "PATH_INFO": _wsgi_text(unquote(raw_path)),
        "QUERY_STRING": _wsgi_text(query),
        "REQUEST_URI": _wsgi_text(path),
        "RAW_URI": _wsgi_text(path),
        "SERVER_NAME": HOST,
        "SERVER_PORT": "443",
        "HTTP_HOST": HOST,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": address,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if form:
        encoded = urlencode([(k, v) for k, v in form.items() if v is not None], safe=_FORM_SAFE).encode("ascii")
        environ["CONTENT_TYPE"] = _FORM
        environ["CONTENT_LENGTH"] = str(len(encoded))
        environ["wsgi.input"] = BytesIO(encoded)
    else:
        environ["wsgi.input"] = BytesIO()
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
        started[:] = [status, headers]
        return chunks.append

    chunks: list[bytes] = []
    app_iter: Iterable[bytes] = app(environ, start_response)
    try:
        chunks.extend(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    status, headers = started
    return Reply(int(status.split(None, 1)[0]), list(headers), b"".join(chunks).decode())


def memory_stores(name: str) -> SessionStore:
    """The default store factory: a fresh in-memory store of the server's own."""
    return MemorySessionStore()


class AppServer:
    """One app server process: a Flask app, its session store, and whether it is running."""

    def __init__(self, name: str, store_factory: StoreFactory, *, secure_cookie: bool = True) -> None:
        self.name = name
        self.starts = 0
        self._factory = store_factory
        self._secure = secure_cookie
        self.store: SessionStore | None = None
        self.app: Flask | None = None
        self.client: FlaskClient | None = None
        self.start()

    @property
    def up(self) -> bool:
        """True while the server is running."""
        return self.client is not None

    @property
    def http(self) -> FlaskClient:
        """The running app's HTTP client; NoSuchServer while the server is down."""
        if self.client is None:
            raise NoSuchServer(f"{self.name} is down: restart it first")
        return self.client

    @property
    def wsgi_app(self) -> Flask:
        """The running Flask app, to call as WSGI; NoSuchServer while the server is down."""
        if self.app is None:
            raise NoSuchServer(f"{self.name} is down: restart it first")
        return self.app

    def start(self) -> None:
        """Start the process: a new store from the factory and a new Flask app on it."""
        self.store = self._factory(self.name)
        self.app = create_app(self.name, self.store, secure_cookie=self._secure)
        self.client = self.app.test_client(use_cookies=False)
        self.starts += 1

    def stop(self) -> None:
        """Stop the process; whatever it kept in memory is gone."""
        self.store = self.app = self.client = None

    def __repr__(self) -> str:
        return f"AppServer({self.name}, {'up' if self.up else 'down'}, store: {self.store!r})"


class Fleet:
    """App servers behind a load balancer, played by simulated browsers; every request is recorded.

    `servers`: how many app servers (named app-1, app-2, ...). `policy`: the balancer's policy
    (see `LoadBalancer`). `store_factory(name)`: the session store each server starts with.
    `seed`: seeds the balancer (and the default traffic), so one seed gives the same records.
    `secure_cookie`: set the session cookie's Secure flag (the fleet speaks HTTPS, so it is sent).
    """

    def __init__(self, servers: int = 3, policy: Policy = "round_robin",
                 store_factory: StoreFactory = memory_stores, seed: int = 0, *,
                 secure_cookie: bool = True) -> None:
        if not isinstance(servers, int) or servers < 1:
            raise BadArgument(f"a fleet needs at least one server, not {servers!r}")
        names = [f"app-{i}" for i in range(1, servers + 1)]
        self.seed = seed
        self.policy = policy
        self.balancer = LoadBalancer(names, policy, seed=seed, secure_cookie=secure_cookie)
        self._servers = {name: AppServer(name, store_factory, secure_cookie=secure_cookie) for name in names}
        self.browsers: dict[str, Browser] = {}
        self.records: list[Record] = []
        self.traffic = Traffic(users=100, seed=seed)

    # -- servers -------------------------------------------------------------------------------
    @property
    def servers(self) -> list[AppServer]:
        """The app servers, in name order."""
        return list(self._servers.values())

    @property
    def names(self) -> list[str]:
        """The servers' names, in order."""
        return list(self._servers)

    def server(self, name: str) -> AppServer:
        """The app server called `name`."""
        try:
            return self._servers[name]
        except KeyError:
            raise NoSuchServer(f"no server {name!r}; this fleet has {', '.join(self._servers)}") from None

    def stop(self, name: str) -> None:
        """Stop a server: the balancer skips it and its in-memory sessions are lost."""
        self.server(name).stop()
        self.balancer.set_up(name, False)

    def restart(self, name: str) -> None:
        """Start a server again (if it was running, it is stopped first): a fresh store from the factory."""
        server = self.server(name)
        server.stop()
        server.start()
        self.balancer.set_up(name, True)

    # -- browsers and requests -------------------------------------------------------------------
    def browser(self, user: str) -> Browser:
        """The browser of `user` (created on first use, with a client address of its own)."""
        browser = self.browsers.get(user)
        if browser is None:
            n = len(self.browsers) + 1
            browser = self.browsers[user] = Browser(user, f"10.0.{n // 250}.{n % 250 + 1}")
        return browser

    def logged_in(self, user: str) -> bool:
        """True when the user's browser holds a session cookie."""
        return self.browser(user).has_cookie(SESSION_COOKIE)

    def pinned_to(self, name: str) -> list[str]:
        """Users a sticky policy currently sends to server `name`, sorted."""
        self.server(name)
        if not self.balancer.sticky:
            raise BadArgument(f"policy {self.policy!r} pins nobody; pinning needs a sticky policy")
        return sorted(u for u, b in self.browsers.items() if self.balancer.pinned(b) == name)

    def request(self, user: str, method: str, path: str, form: dict[str, str] | None = None) -> Record:
        """Send one request from `user`'s browser through the balancer; record and return it."""
        browser = self.browsers.get(user) or self.browser(user)
        name = self.balancer.choose(browser)
        seq = len(self.records)
        if name is None:
            record = Record(seq, user, NO_SERVER, method, path, 503, SessionState.NONE, "no server is up")
        else:
            reply = wsgi_call(self._servers[name].wsgi_app, method, path, form,
                              browser.cookie_header(), browser.address)
            set_cookies = reply.header_list("Set-Cookie")
            if set_cookies:
                browser.receive(set_cookies)
            state = reply.header(SESSION_STATE)
            record = Record(seq, user, name, method, path, reply.status,
                            SessionState(state) if state is not None else SessionState.NONE, reply.body)
        self.records.append(record)
        return record

    def login(self, user: str) -> Record:
        """POST /login as `user`."""
        return self.request(user, "POST", "/login", {"user": user})

    def get(self, user: str, path: str) -> Record:
        """GET `path` as `user`."""
        return self.request(user, "GET", path)

    def post(self, user: str, path: str, form: dict[str, str] | None = None) -> Record:
        """POST `form` to `path` as `user`."""
        return self.request(user, "POST", path, form)

    def step(self, traffic: Traffic) -> Record:
        """One request from `traffic`: a user who holds no session logs in, others browse."""
        user = traffic.next_user()
        if not self.logged_in(user):
            return self.login(user)
        return self.request(user, *traffic.next_action())

    def run(self, requests: int, traffic: Traffic | None = None, *,
            progress: ProgressCallback | None = None) -> list[Record]:
        """Play `requests` requests of `traffic` (default: 100 even users seeded like the fleet).

        `progress(done, total)` is called about 50 times along the way. Returns the new records.
        """
        if requests < 0:
            raise BadArgument(f"requests must be 0 or more, not {requests}")
        traffic = traffic or self.traffic
        first = len(self.records)
        every = max(1, requests // 50)
        for done in range(1, requests + 1):
            self.step(traffic)
            if progress is not None and (done % every == 0 or done == requests):
                progress(done, requests)
        return self.records[first:]

    # -- what happened ---------------------------------------------------------------------------
    def summary(self, records: Sequence[Record] | None = None) -> FleetSummary:
        """Requests and logouts per server, over `records` (default: all so far)."""
        return summarise(self.records if records is None else records, self.names)

    def __repr__(self) -> str:
        up = len(self.balancer.up)
        return (f"Fleet({len(self._servers)} servers, {up} up, policy={self.policy!r}, "
                f"{len(self.records):,} requests so far)")
