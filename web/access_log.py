"""The access log, with the secrets that travel in addresses taken out.

A calendar feed's address holds its only credential (/feeds/<token>.ics); the log
shows /feeds/[redacted].ics instead, in the request line and in the Referer alike.
The remote address is the client's (`web.client_address`), also behind a trusted proxy.
"""

from __future__ import annotations

import re

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_log import AccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from web.client_address import logged_address

FEED_TOKEN = re.compile(r"(/feeds/)[^/?#\s\"]+(\.ics)")
REDACTED = r"\1[redacted]\2"
REMOTE_ADDRESS = AccessLogger.LOG_FORMAT_MAP["a"]


def redact(text: str) -> str:
    return FEED_TOKEN.sub(REDACTED, text)


class RedactingAccessLogger(AccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        try:
            values = tuple(
                logged_address(request) if key == REMOTE_ADDRESS else redact(str(value))
                for key, value in self._format_line(request, response, time))
            self.logger.info(self._log_format % values)
        except Exception:
            self.logger.exception("Error in logging")


ACCESS_LOGGER: type[AbstractAccessLogger] = RedactingAccessLogger
