"""A session's data on the wire: a JSON object that comes back exactly as it went in, or nothing.

Writing refuses data that JSON would change on the way back (a key that is not a string, a tuple,
NaN or an infinity, a type JSON has no form for) with `BadArgument`, before any command is sent.
Reading refuses, with `CorruptSession`, any value that is not a JSON object in UTF-8 text: a value
some other program wrote under a session key (Flask-Session writes msgpack under the same
`session:<id>` keys) is named and left as it was.
"""

from __future__ import annotations

import json
import math
from typing import Any

from labkit.errors import BadArgument, CorruptSession

_LEAVE_IT = "It was left untouched: inspect it with GET, remove it with DEL."


def encode(data: object) -> str:
    """The JSON text of a session's data, after `check_round_trip` accepted it."""
    check_round_trip(data)
    return json.dumps(data, allow_nan=False)


def check_round_trip(data: object) -> None:
    """Refuse (BadArgument) session data that JSON would not give back unchanged."""
    if not isinstance(data, dict):
        raise BadArgument(f"session data is a dict, not {type(data).__name__}")
    try:
        _check(data, "data", set())
    except RecursionError:
        raise BadArgument("session data is nested too deeply for JSON to store") from None


def _check(value: object, path: str, open_containers: set[int]) -> None:
    if value is None or isinstance(value, str | int):  # bool is an int
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BadArgument(f"session {path} is {value!r}: JSON has no NaN or infinity, so it cannot be "
                              "stored; store a finite number, or None")
        return
    if isinstance(value, tuple):
        raise BadArgument(f"session {path} is a tuple: JSON would give it back as a list; store a list")
    if not isinstance(value, dict | list):
        raise BadArgument(f"session {path} is a {type(value).__name__}, which JSON cannot store: use str, "
                          "int, float, bool, None, list or dict with string keys")
    if id(value) in open_containers:
        raise BadArgument(f"session {path} contains itself: JSON cannot store a cycle")
    open_containers.add(id(value))
    if isinstance(value, list):
        for position, item in enumerate(value):
            _check(item, f"{path}[{position}]", open_containers)
    else:
        for name, item in value.items():
            if not isinstance(name, str):
                _refuse_key(value, name, path)
            _check(item, f"{path}[{name!r}]", open_containers)
    open_containers.discard(id(value))


def _refuse_key(mapping: dict[Any, Any], name: object, path: str) -> None:
    try:
        as_text = json.loads(json.dumps({name: 0}, allow_nan=False)).popitem()[0]
    except (TypeError, ValueError):  # a key JSON cannot write at all (a tuple, NaN...)
        raise BadArgument(f"session {path} has the key {name!r} ({type(name).__name__}), which JSON cannot "
                          "store: use string keys") from None
    clash = f", where it would overwrite the key {as_text!r} already there" if as_text in mapping else ""
    raise BadArgument(f"session {path} has the key {name!r} ({type(name).__name__}): JSON keys are strings, "
                      f"so it would come back as {as_text!r}{clash}. Use string keys.")


def decode(key: str, raw: bytes | str) -> dict[str, Any]:
    """The session stored under `key`, from the raw bytes GET returned; CorruptSession if it is not one."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CorruptSession(
                f"{key!r} holds {len(raw):,} bytes that are not UTF-8 text (it starts {raw[:12]!r}), so not a "
                "session this store wrote (Flask-Session, for one, writes msgpack under the same "
                f"session:<id> keys). {_LEAVE_IT}"
            ) from None
    try:
        data = json.loads(raw)
    except ValueError:
        raise CorruptSession(
            f"{key!r} does not hold JSON (it starts {raw[:20]!r}); something other than a session "
            f"store wrote it. {_LEAVE_IT}"
        ) from None
    if not isinstance(data, dict):
        raise CorruptSession(f"{key!r} holds JSON {type(data).__name__}, not a session object; left untouched.")
    return data


def not_a_string(key: str, reply: Exception) -> CorruptSession:
    """The CorruptSession for a session key that holds a hash, list, set... (Redis answered WRONGTYPE)."""
    return CorruptSession(f"{key!r} is not a string key (Redis said: {reply}); left untouched.")
