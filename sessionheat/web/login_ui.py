"""Logging in and out.

    GET  /login[?next=PATH]      the login form
    POST /login                  name + password: a login cookie, then back to `next`
    GET  /login/link?token=T     the one-time link `serve` prints while no user exists
    POST /logout                 ends this login (CSRF-checked like every form)

The cookie is HttpOnly (scripts cannot read it), SameSite=Lax (other sites' forms do not carry
it), and Secure when the UI is reached over https.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sessionheat.web.access import from_another_site, headers_of, identify, login_location, read_form
from sessionheat.web.auth import LOGIN_COOKIE, LOGIN_TTL_S, Authenticator
from sessionheat.web.pages import page


def _set_login_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(LOGIN_COOKIE, value, max_age=LOGIN_TTL_S, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def routes(auth: Authenticator) -> list[BaseRoute]:
    """The login form, the one-time link and logout, over one authenticator."""

    def form(request: Request, *, status: int = 200, error: str | None = None, name: str = "",
             next_path: str = "") -> Response:
        return page(request, "login.html", status_code=status, title="Log in", area="login",
                    error=error, name=name, next_path=next_path,
                    no_users=auth.store.count_users() == 0)

    async def login(request: Request) -> Response:
        if request.method == "GET":
            who = await identify(request.scope, auth, request.app.state.access)
            if who is not None:
                return RedirectResponse(login_location(request.query_params.get("next")), status_code=303)
            return await asyncio.to_thread(form, request, next_path=request.query_params.get("next", "")[:2000])
        headers = headers_of(request.scope)
        if from_another_site(headers):
            return await asyncio.to_thread(form, request, status=403,
                                           error="A page of another site cannot log you in here.")
        body = await read_form(headers, request.receive)
        if body is None:
            return await asyncio.to_thread(form, request, status=413, error="That form is too large.")
        fields: dict[str, Any] = dict(parse_qsl(body.decode("utf-8", "replace")))
        name = str(fields.get("name", "")).strip()[:64]
        next_path = str(fields.get("next", ""))[:2000]
        keys = (f"user:{name.lower()}", f"addr:{_client(request)}")
        wait = auth.throttle.wait_s(*keys)
        if wait:
            response = await asyncio.to_thread(
                form, request, status=429, name=name, next_path=next_path,
                error=f"Too many failed attempts; try again in {int(wait) // 60 + 1} min.")
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        identity = await asyncio.to_thread(auth.check_password, name, str(fields.get("password", "")))
        if identity is None:
            auth.throttle.failed(*keys)
            return await asyncio.to_thread(form, request, status=401, name=name, next_path=next_path,
                                           error="That name and password do not match a user here.")
        auth.throttle.succeeded(keys[0])
        cookie = await asyncio.to_thread(auth.start_login, identity.name)
        response = RedirectResponse(login_location(next_path), status_code=303)
        _set_login_cookie(request, response, cookie)
        return response

    async def login_link(request: Request) -> Response:
        link = request.app.state.access.local_link
        no_users = await asyncio.to_thread(auth.store.count_users) == 0
        if link is None or not no_users or not link.redeem(request.query_params.get("token", "")):
            return await asyncio.to_thread(
                form, request, status=403,
                error="That login link is used, expired or wrong; log in with a user's name and password.")
        cookie = await asyncio.to_thread(auth.start_login, "")
        response = RedirectResponse("/sessions", status_code=303)
        _set_login_cookie(request, response, cookie)
        return response

    async def logout(request: Request) -> Response:
        cookie = request.cookies.get(LOGIN_COOKIE)
        if cookie:
            await asyncio.to_thread(auth.end_login, cookie)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    return [
        Route("/login", login, methods=["GET", "POST"], name="login"),
        Route("/login/link", login_link, name="login_link"),
        Route("/logout", logout, methods=["POST"], name="logout"),
    ]
