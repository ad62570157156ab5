"""Who is asking, may they, and how failures look.

`auth_middleware` resolves the session cookie into `request["session"]` and
`request["account"]` (anonymous when missing, unknown or expired) and checks the CSRF
token of every unsafe request. A request with `Authorization: Bearer <API token>` is
resolved by the token alone: cookies are ignored and there is no CSRF check, since a
browser never adds that header by itself. `error_middleware` turns typed errors into problem+json
for the API and translated error pages for people, and adds the security headers to
every response.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from yarl import URL

from signaling.errors import (
    BadRequest,
    Forbidden,
    GiaobanError,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from web import i18n
from web.client_address import forwarded_https
from web.content_policy import content_security_policy
from web.keys import ACCOUNTS, API_TOKENS, CONFIG, SESSIONS, TEMPLATES

if TYPE_CHECKING:
    from signaling.accounts.accounts import Account
    from signaling.accounts.sessions import Session

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE: Final = "giaoban_session"
CSRF_COOKIE: Final = "giaoban_csrf"
LANG_COOKIE: Final = "giaoban_lang"
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "X-CSRF-Token"
BEARER_PREFIX: Final = "Bearer "
FORM_EXPIRED: Final = "The form has expired; reload the page and try again"
UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")
LANG_COOKIE_MAX_AGE: Final = 365 * 24 * 3600
STATIC_PREFIX: Final = "/static/"
OWN_CREDENTIAL_PATHS: Final = frozenset({"/metrics"})
"""Routes that check their own credential (Prometheus sends the metrics token as a
bearer token, which is not an account's API token)."""

SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

SERVER_NAME: Final = "Giao Ban"
"""What the Server header says: the product, never the web framework and its version."""


async def name_the_server(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare, for every response including sockets and static files."""
    response.headers["Server"] = SERVER_NAME


# Request keys set by the middlewares.
_SESSION = web.RequestKey("session", object)
_ACCOUNT = web.RequestKey("account", object)
_CLEAR_SESSION = web.RequestKey("clear_session_cookie", bool)
_NEW_CSRF = web.RequestKey("new_csrf_cookie", str)


# ---------------------------------------------------------------- request helpers


def request_session(request: web.Request) -> Session | None:
    session: Session | None = request.get(_SESSION)
    return session


def request_account(request: web.Request) -> Account | None:
    account: Account | None = request.get(_ACCOUNT)
    return account


def require_account(request: web.Request) -> Account:
    """The signed-in account, or Unauthorized (a page then redirects to the login)."""
    account = request_account(request)
    if account is None:
        raise Unauthorized("Sign in to continue")
    return account


def actor(request: web.Request) -> str:
    """The username recorded in the audit log for this request."""
    return str(require_account(request).username)


def request_language(request: web.Request) -> str:
    """?lang= first, then the language cookie, then the configured default."""
    return (
        i18n.normalize_language(request.query.get("lang"))
        or i18n.normalize_language(request.cookies.get(LANG_COOKIE))
        or request.app[CONFIG].language
    )


def csrf_token(request: web.Request) -> str:
    """The token forms on this page must carry.

    Signed in, it is the session's token. Before sign-in, it is the double-submit
    cookie, created (and set on the response) when the browser has none yet.
    """
    session = request_session(request)
    if session is not None:
        return str(session.csrf_token)
    token = request.get(_NEW_CSRF) or request.cookies.get(CSRF_COOKIE)
    if not token:
        token = secrets.token_urlsafe(32)
        request[_NEW_CSRF] = token
    return str(token)


def is_api_path(path: str) -> bool:
    """Paths answered with JSON (problem+json on error) rather than HTML pages."""
    return path.startswith("/api/") or path in ("/api", "/ws", "/healthz", "/metrics")


def redirect(location: str | URL) -> web.Response:
    """A 302 redirect as a plain response (cookies can be set on it, unlike HTTPFound)."""
    return web.Response(status=302, headers={"Location": str(location)})


def cookies_secure(request: web.Request) -> bool:
    """Cookies are Secure as configured (always with TLS), and when a trusted proxy says
    the browser reached it over https."""
    return request.app[CONFIG].http.cookies_secure or forwarded_https(request)


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, path="/", httponly=True, samesite="Lax",
        secure=cookies_secure(request),
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")


# ---------------------------------------------------------------- auth middleware


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.cookies.get(SESSION_COOKIE)
    request[_SESSION] = None
    request[_ACCOUNT] = None
    if request.path in OWN_CREDENTIAL_PATHS:
        return await handler(request)
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith(BEARER_PREFIX):  # other schemes (a proxy's) are ignored
        secret = authorization.removeprefix(BEARER_PREFIX).strip()
        request[_ACCOUNT] = request.app[API_TOKENS].authenticate(secret)
        return await handler(request)
    if token and not request.path.startswith(STATIC_PREFIX):
        await _resolve_session(request, token)
    if request.method in UNSAFE_METHODS:
        await _check_csrf(request)
    return await handler(request)


async def _resolve_session(request: web.Request, token: str) -> None:
    try:
        session = request.app[SESSIONS].get(token)
    except Unauthorized:
        request[_CLEAR_SESSION] = True
        return
    account = request.app[ACCOUNTS].find(session.username)
    if account is None or not account.active:
        request[_CLEAR_SESSION] = True
        return
    request[_SESSION] = session
    request[_ACCOUNT] = account


async def _check_csrf(request: web.Request) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.content_type in FORM_TYPES:
        form = await request.post()
        value = form.get(CSRF_FIELD, "")
        sent = value if isinstance(value, str) else ""
    session = request_session(request)
    expected = session.csrf_token if session is not None else request.cookies.get(CSRF_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent.encode(), str(expected).encode()):
        raise Forbidden(FORM_EXPIRED)


# ---------------------------------------------------------------- error middleware


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except GiaobanError as exc:
        response = _error_response(request, exc)
    except web.HTTPException as exc:
        response = _http_exception_response(request, exc)
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        response = _error_response(request, None)
    _finish(request, response)
    return response


def _error_response(request: web.Request, exc: GiaobanError | None) -> web.StreamResponse:
    if isinstance(exc, Unauthorized) and not is_api_path(request.path):
        if request.method in ("GET", "HEAD"):
            return redirect(URL("/login").with_query(next=request.path_qs))
    if is_api_path(request.path):
        problem: dict[str, Any]
        if exc is None:
            problem = {
                "type": "about:blank#internal_error", "title": "Internal server error",
                "status": 500, "detail": "The server could not complete the request",
                "code": "internal_error",
            }
        else:
            problem = exc.as_problem()
        return web.json_response(
            problem, status=int(problem["status"]), content_type="application/problem+json"
        )
    if exc is None:
        return render_error_page(request, 500, "unexpected", "", "")
    return render_error_page(request, exc.status, exc.code, exc.title, exc.detail)


def _http_exception_response(request: web.Request, exc: web.HTTPException) -> web.StreamResponse:
    """Redirects pass through; aiohttp's own 4xx/5xx get our page or problem+json."""
    if exc.status < 400:
        response = web.Response(status=exc.status, reason=exc.reason)
        if "Location" in exc.headers:
            response.headers["Location"] = exc.headers["Location"]
        return response
    error: GiaobanError
    if exc.status == 404:
        error = NotFound("This page does not exist")
    elif exc.status == 429:
        error = TooManyRequests()
    else:
        error = BadRequest(exc.reason)
        error.status = exc.status
    return _error_response(request, error)


def render_error_page(
    request: web.Request, status: int, code: str, title: str, detail: str
) -> web.Response:
    lang = request_language(request)
    shown_title, shown_detail = i18n.translate_error(lang, code, title, detail)
    template = request.app[TEMPLATES].get_template("error.html")

    def t(key: str, **params: Any) -> str:
        return i18n.translate(lang, key, **params)

    body = template.render(
        lang=lang, t=t, status=status, title=shown_title, detail=shown_detail,
        account=request_account(request),
        csrf_token=csrf_token(request) if request_session(request) else "",
        switch_url=str(request.rel_url.update_query(lang=other_language(lang))),
        other_lang=other_language(lang),
    )
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def other_language(lang: str) -> str:
    return "en" if lang == "vi" else "vi"


def _finish(request: web.Request, response: web.StreamResponse) -> None:
    """Cookies and headers every response gets, unless it was already sent (WebSocket)."""
    if response.prepared:
        return
    response.headers.setdefault("Content-Security-Policy", content_security_policy(request))
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.get(_CLEAR_SESSION) and SESSION_COOKIE not in response.cookies:
        clear_session_cookie(response)
    new_csrf = request.get(_NEW_CSRF)
    if new_csrf:
        response.set_cookie(
            CSRF_COOKIE, new_csrf, path="/", httponly=True, samesite="Strict",
            secure=cookies_secure(request),
        )
    chosen = i18n.normalize_language(request.query.get("lang"))
    if chosen and chosen != request.cookies.get(LANG_COOKIE):
        response.set_cookie(
            LANG_COOKIE, chosen, path="/", max_age=LANG_COOKIE_MAX_AGE, samesite="Lax",
            secure=cookies_secure(request),
        )
