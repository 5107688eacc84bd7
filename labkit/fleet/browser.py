"""A simulated browser: one user, one client address, and the cookies servers set on it."""

from __future__ import annotations

from dataclasses import dataclass

from labkit.fleet.webapp import SESSION_COOKIE


@dataclass(frozen=True)
class Cookie:
    """One stored cookie with the attributes the lab cares about."""

    name: str
    value: str
    httponly: bool = False
    secure: bool = False
    samesite: str | None = None

    def __repr__(self) -> str:
        flags = [f for f, on in (("HttpOnly", self.httponly), ("Secure", self.secure)) if on]
        if self.samesite:
            flags.append(f"SameSite={self.samesite}")
        return f"Cookie({self.name}=<{len(self.value)} chars>; {'; '.join(flags) or 'no flags'})"


def parse_set_cookie(header: str) -> tuple[Cookie, bool]:
    """Parse one Set-Cookie header into a cookie and whether it asks for deletion."""
    first, *attributes = header.split(";")
    name, _, value = first.strip().partition("=")
    flags: dict[str, str] = {}
    for attribute in attributes:
        key, _, val = attribute.strip().partition("=")
        flags[key.lower()] = val
    expired = flags.get("max-age") == "0" or "1970" in flags.get("expires", "")
    cookie = Cookie(name, value, "httponly" in flags, "secure" in flags, flags.get("samesite") or None)
    return cookie, expired


class Browser:
    """One user's browser: keeps cookies between requests and sends them back, like a real one."""

    def __init__(self, user: str, address: str) -> None:
        self.user = user
        self.address = address
        self.cookies: dict[str, Cookie] = {}
        self._header: dict[bool, str | None] = {}

    def cookie_header(self, https: bool = True) -> str | None:
        """The Cookie header to send (Secure cookies only over HTTPS), or None when there is none."""
        try:
            return self._header[https]
        except KeyError:
            sent = [f"{c.name}={c.value}" for c in self.cookies.values() if https or not c.secure]
            header = self._header[https] = "; ".join(sent) or None
            return header

    def receive(self, set_cookie_headers: list[str]) -> None:
        """Store (or delete) what the response's Set-Cookie headers say."""
        for header in set_cookie_headers:
            cookie, expired = parse_set_cookie(header)
            if expired:
                self.cookies.pop(cookie.name, None)
            else:
                self.cookies[cookie.name] = cookie
        self._header.clear()

    @property
    def session_cookie(self) -> Cookie | None:
        """The session cookie the app servers set (`sid`), or None before login or after logout."""
        return self.cookies.get(SESSION_COOKIE)

    def has_cookie(self, name: str) -> bool:
        """True when the browser holds a cookie called `name`."""
        return name in self.cookies

    def __repr__(self) -> str:
        return f"Browser({self.user!r} at {self.address}, cookies: {sorted(self.cookies) or 'none'})"
