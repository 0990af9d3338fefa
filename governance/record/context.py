"""Who makes a change, and through which path: handed to the record's triggers as session
settings (``skam.actor``, ``skam.path``, ``skam.origin``, ``skam.request``) just before a
write, and only when they differ from what the connection already holds.

The middleware (pages, the API, the admin), the Celery signals (the worker) and ``manage.py``
(commands) say where work comes from; a wrapper on every PostgreSQL connection sends it with
the first write that needs it. A setting sent inside a transaction is undone by its rollback
(or a savepoint's): the wrapper sees it (``_Sent``) and sends it again. Reads cost nothing; a
request that writes costs one ``SELECT set_config(…)``.
Importable before Django is set up (``manage.py`` uses it).
"""

from __future__ import annotations

import contextvars
import getpass
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

WRITES = ("INSERT", "UPDATE", "DELETE", "WITH")


@dataclass(frozen=True)
class Origin:
    """Where the work in hand comes from. ``request``, when set, names the actor at the time of
    the write (DRF authenticates a token inside the view, after the middleware)."""

    path: str
    origin: str = ""
    request_id: str = ""
    actor_id: int | None = None
    request: Any = None

    def settings(self) -> tuple[str, str, str, str]:
        actor_id = self.actor_id
        if self.request is not None:
            user = getattr(self.request, "user", None)
            if user is not None and user.is_authenticated:
                actor_id = user.pk
        return ("" if actor_id is None else str(actor_id), self.path, self.origin, self.request_id)


_current: contextvars.ContextVar[Origin | None] = contextvars.ContextVar("record", default=None)
# The process's own origin (a command), for threads that start with no context of their own.
_process_origin: Origin | None = None


def process_origin_set(origin: Origin | None) -> None:
    global _process_origin
    _process_origin = origin


def current_settings() -> tuple[str, str, str, str]:
    origin = _current.get() or _process_origin
    return origin.settings() if origin is not None else ("", "", "", "")


@contextmanager
def recording_as(origin: Origin) -> Iterator[None]:
    """Attribute the writes inside to ``origin``."""
    token = _current.set(origin)
    try:
        yield
    finally:
        _current.reset(token)


def origin_enter(origin: Origin) -> contextvars.Token:
    return _current.set(origin)


def origin_leave(token: contextvars.Token) -> None:
    _current.reset(token)


class _Sent:
    """What a connection's session holds, and, when it was sent inside a transaction, the
    transaction's list of on-commit callbacks at the time: Django replaces that list when the
    transaction commits or rolls back and when a savepoint rolls back, so while it is the same
    list, nothing has undone the setting (nothing is added to it: tests count what is)."""

    __slots__ = ("pending", "values")

    def __init__(self, values: tuple[str, str, str, str], pending: list | None) -> None:
        self.values = values
        self.pending = pending


def _still_held(connection: Any, sent: _Sent | None, values: tuple[str, ...]) -> bool:
    if sent is None or sent.values != values:
        return False
    return sent.pending is None or connection.run_on_commit is sent.pending


def send_origin(
    execute: Callable, sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """An execute wrapper: before a write, hand the current origin to the session."""
    if sql.lstrip()[:6].upper().startswith(WRITES):
        connection = context["connection"]
        values = current_settings()
        sent = getattr(connection, "_record_sent", None)
        if not _still_held(connection, sent, values):
            # Straight on the driver's cursor: not a query of the page's (nor of its count).
            context["cursor"].cursor.execute(
                "SELECT set_config('skam.actor', %s, false), set_config('skam.path', %s, false), "
                "set_config('skam.origin', %s, false), set_config('skam.request', %s, false)",
                values,
            )
            pending = connection.run_on_commit if connection.in_atomic_block else None
            connection._record_sent = _Sent(values, pending)
    return execute(sql, params, many, context)


def connection_prepare(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created``: a new session holds no origin yet."""
    if connection.vendor != "postgresql":
        return
    connection._record_sent = None
    if send_origin not in connection.execute_wrappers:
        connection.execute_wrappers.append(send_origin)


def request_path(request: Any) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and "admin" in match.namespaces:
        return "admin"
    if match is not None and match.url_name == "oidc_authentication_callback":
        return "sso"
    if request.path_info.startswith("/api/"):
        return "api"
    return "page"


class RecordOriginMiddleware:
    """Attribute a request's writes to its user, its path (page, API, admin) and its URL."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        request.record_id = uuid.uuid4().hex
        token = _current.set(_RequestOrigin(request))
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)


class _RequestOrigin(Origin):
    """The path is read at the time of the write, once the URL is resolved."""

    def __init__(self, request: Any) -> None:
        super().__init__(
            path="page",
            origin=f"{request.method} {request.path}"[:200],
            request_id=request.record_id,
            request=request,
        )

    def settings(self) -> tuple[str, str, str, str]:
        actor, _, origin, request_id = super().settings()
        return (actor, request_path(self.request), origin, request_id)


def command_origin(argv: list[str]) -> Origin:
    """A management command, and the account on the machine that ran it."""
    try:
        account = getpass.getuser()
    except (KeyError, OSError):
        account = "?"
    command = argv[1] if len(argv) > 1 else "help"
    return Origin(path="command", origin=f"{command} ({account})"[:200])
