"""One app server: a real Flask app with log in, a profile and a cart that need the session, log out.

Every response names the server that produced it (header `X-Served-By`) and says whether the
session cookie it received was recognised (header `X-Session`, one of `SessionState`). A request
that fails inside the app (say, a session store that raises) is answered 500 and logged, with its
traceback, on the `labkit.app` logger, which exercise checks collect instead of printing.
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from labkit.errors import CorruptSession, InvalidSessionId
from labkit.sessions.store import SessionStore

SESSION_COOKIE = "sid"
SERVED_BY = "X-Served-By"
SESSION_STATE = "X-Session"
MAX_USER_LENGTH = 64
log = logging.getLogger("labkit.app")


class SessionState(str, Enum):
    """What an app server made of the session cookie a request carried (the `X-Session` header)."""

    RECOGNISED = "recognised"  # the store had the session the cookie named
    UNKNOWN = "unknown"  # the cookie named a session this server's store does not have: a logout
    CORRUPT = "corrupt"  # the store holds something under that id it cannot read: logged, answered 500
    NONE = "none"  # no session cookie came

    @property
    def carried_cookie(self) -> bool:
        """The request carried a session cookie."""
        return self is not SessionState.NONE


def create_app(name: str, store: SessionStore, *, secure_cookie: bool = True) -> Flask:
    """A Flask app server called `name` that keeps its sessions in `store`.

    The session id travels in the `sid` cookie, set HttpOnly (scripts cannot read it),
    SameSite=Lax (not sent on cross-site POSTs) and, when `secure_cookie`, Secure (HTTPS only).
    """
    app = Flask(f"labkit.app.{name}")

    def reply(text: str, status: int, state: SessionState) -> Response:
        response = Response(text + f" (served by {name})", status=status, mimetype="text/plain")
        response.headers[SERVED_BY] = name
        response.headers[SESSION_STATE] = state.value
        if state in (SessionState.UNKNOWN, SessionState.CORRUPT):  # tell the browser to forget the cookie
            response.delete_cookie(SESSION_COOKIE, httponly=True, secure=secure_cookie, samesite="Lax")
        return response

    def current() -> tuple[str | None, dict[str, Any] | None, SessionState]:
        session_id = request.cookies.get(SESSION_COOKIE)
        if not session_id:
            return None, None, SessionState.NONE
        try:
            data = store.get(session_id)
        except InvalidSessionId:  # a malformed id is treated like one this server never issued
            data = None
        except CorruptSession as exc:  # not the user's fault, and not to be hidden as a plain logout
            log.warning("%s: unreadable session data, answered 500: %s", name, exc)
            return session_id, None, SessionState.CORRUPT
        return session_id, data, (SessionState.RECOGNISED if data is not None else SessionState.UNKNOWN)

    def needs_login(state: SessionState) -> Response:
        if state is SessionState.CORRUPT:
            return reply("your session could not be read (the server logged it); please log in again", 500, state)
        return reply("please log in", 401, state)

    @app.errorhandler(Exception)
    def failed(error: Exception) -> Response | HTTPException:
        if isinstance(error, HTTPException):  # 404, 405, ...: Flask's own answer
            return error
        log.error("%s: %s %s failed: %s: %s", name, request.method, request.path, type(error).__name__, error,
                  exc_info=error)
        return reply(f"the server failed: {type(error).__name__}", 500, SessionState.NONE)

    @app.post("/login")
    def login() -> Response:
        user = (request.form.get("user") or "").strip()
        if not user or len(user) > MAX_USER_LENGTH:
            return reply(f"log in needs a form field 'user' of 1 to {MAX_USER_LENGTH} characters", 400, SessionState.NONE)
        old_id, _, state = current()
        if old_id is not None and state is SessionState.RECOGNISED:  # a new id at every login: a planted
            store.delete(old_id)  # (fixated) id is never upgraded; an unreadable value is left to the operator
        session_id = store.create({"user": user, "cart": []})
        response = reply(f"welcome, {user}", 200, state)
        response.set_cookie(SESSION_COOKIE, session_id, httponly=True, secure=secure_cookie, samesite="Lax")
        return response

    @app.get("/profile")
    def profile() -> Response:
        _, data, state = current()
        if data is None:
            return needs_login(state)
        return reply(f"profile of {data['user']}", 200, state)

    @app.get("/cart")
    def cart() -> Response:
        _, data, state = current()
        if data is None:
            return needs_login(state)
        items = ", ".join(data["cart"]) or "empty"
        return reply(f"{data['user']}'s cart: {items}", 200, state)

    @app.post("/cart")
    def add_to_cart() -> Response:
        session_id, data, state = current()
        if session_id is None or data is None:
            return needs_login(state)
        item = (request.form.get("item") or "").strip()
        if not item:
            return reply("adding to the cart needs a form field 'item'", 400, state)
        data["cart"].append(item)
        store.save(session_id, data)
        return reply(f"added {item}; {len(data['cart'])} in {data['user']}'s cart", 200, state)

    @app.post("/logout")
    def logout() -> Response:
        session_id, data, state = current()
        if session_id is not None and state is SessionState.RECOGNISED:
            store.delete(session_id)
        response = reply("logged out" if data else "you were not logged in", 200, state)
        response.delete_cookie(SESSION_COOKIE, httponly=True, secure=secure_cookie, samesite="Lax")
        return response

    return app
