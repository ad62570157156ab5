"""A guest's pass on the socket: the cookie the guest page sets once they gave a name."""

from __future__ import annotations

from aiohttp import web

from signaling.accounts.accounts import Account
from signaling.live.guest_links import Guest, guest_account
from web.keys import GUESTS

GUEST_COOKIE = "giaoban_guest"


def socket_guest(request: web.Request) -> tuple[Guest, Account]:
    """The guest behind the request's pass; GuestLinkInvalid when it does not hold."""
    guest = request.app[GUESTS].authenticate(request.cookies.get(GUEST_COOKIE, ""))
    return guest, guest_account(guest)
