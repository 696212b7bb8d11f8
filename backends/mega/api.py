"""MEGA's JSON API transport: batches on ``/cs``, the ``/sc`` action-packet channel, retries, hashcash.

Everything above this layer (login, tree, transfers) talks to MEGA through ``MegaApi`` and only ever sees
``backends.errors`` classes: native failures (httpx exceptions, HTTP statuses, negative codes) are translated
here and in ``backends/mega/errors.py``, nowhere else. ``shared/mega-protocol.md`` section 2 is the reference.

Retry rules, and why:

* bare ``-3`` EAGAIN / ``-4`` ERATELIMIT, HTTP 5xx and 429, timeouts and dropped connections are retried with
  exponential backoff and full jitter (AWS's "full jitter": a random delay in ``[0, min(cap, base * 2^n))``),
  so many clients hit by one outage do not come back in lock-step;
* a retry re-sends the *same* request id and body: MEGA (and the emulator) de-duplicate on them, so a request
  that did run but whose answer was lost is answered again instead of running twice;
* HTTP 402 with ``X-Hashcash`` is a proof-of-work challenge: solve it and resend at once (it counts as an
  attempt so a server that keeps refusing cannot loop us forever);
* a bare ``-15`` ESID calls the ``relogin`` callback once and resends with the new sid; a second ESID raises.
  Threads that hit ESID on the same dead sid call ``relogin`` once between them (the others reuse its sid).

Secrets: session ids travel in the query string and bodies may hold password hashes or keys, so only command
names, request ids, statuses and codes are logged, and httpx's own request log line has ``sid`` redacted.
With ``debug`` (the remote's option) each request and answer is logged too, through ``debug_log.summary``,
which shows their shape and only the values known to hold nothing secret.
"""

from __future__ import annotations

import json
import logging
import random as _random
import re
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from backends.errors import BackendError, ConnectionError, RateLimited, TransientError
from backends.mega import hashcash
from backends.mega.debug_log import summary
from backends.mega.errors import (
    EAGAIN,
    ERATELIMIT,
    ESID,
    ETOOMANY,
    SequenceTooOld,
    code_of,
    name_of,
    translate,
)

__all__ = ["DEFAULT_API_URL", "DEFAULT_TIMEOUT", "Json", "MegaApi"]

#: MEGA's production API (go-mega ``API_URL``, megajs ``DEFAULT_GATEWAY``).
DEFAULT_API_URL = "https://g.api.mega.co.nz/"

#: Read/write/pool timeout 60 s, connect 15 s: MEGA answers big ``f`` listings slowly, but connects fast.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=15.0)

#: A plain JSON value as it comes off the wire.
Json = Any

log = logging.getLogger(__name__)

#: Bare codes after which the same request is simply sent again (section 2.3: nothing ran).
_RETRY_CODES = frozenset({EAGAIN, ERATELIMIT})

_SECRET_QUERY = re.compile(r"((?:^|[?&])(?:sid|n)=)[^&\s\"]*")


class _RedactQuery(logging.Filter):
    """Rewrites httpx's request log line so the ``sid`` and folder ``n`` never reach the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                _SECRET_QUERY.sub(r"\1<redacted>", str(arg)) if isinstance(arg, httpx.URL) else arg
                for arg in record.args
            )
        return True


_httpx_log = logging.getLogger("httpx")
if not any(isinstance(f, _RedactQuery) for f in _httpx_log.filters):
    _httpx_log.addFilter(_RedactQuery())


class _Retry(Exception):
    """Internal: this attempt failed in a way a later one may fix; ``error`` is what to raise at the end."""

    def __init__(self, error: BackendError, *, backoff: bool = True) -> None:
        super().__init__(error.message)
        self.error = error
        self.backoff = backoff


class MegaApi:
    """One MEGA API endpoint seen by one client: a pooled HTTP/1.1 connection, a request counter, a session.

    ``sid`` is the session id after login (None before it and for public links); ``folder`` is a public folder
    handle, sent as ``n=`` instead of ``sid`` when browsing a folder link. ``relogin`` returns a fresh sid; it
    is called at most once per request when the server says the session is gone. ``sleep`` and ``random``
    are injectable so tests run without waiting and see the delays.

    Safe to share between threads: the request counter is locked and httpx's pool is thread-safe.
    """

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        *,
        sid: str | None = None,
        folder: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_attempts: int = 8,
        backoff_base: float = 0.25,
        backoff_cap: float = 30.0,
        relogin: Callable[[], str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        verify: bool | str = True,
        debug: bool = False,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.sid = sid
        self.folder = folder
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.relogin = relogin
        self.debug = debug
        self._sleep = sleep
        self._random = random
        self._http = httpx.Client(timeout=timeout, verify=verify, http1=True, http2=False)
        self._lock = threading.Lock()
        # held while ``relogin`` runs, so threads that all hit ESID on the same dead sid log in once;
        # re-entrant because the login itself goes through this transport
        self._relogin_lock = threading.RLock()
        # go-mega and mega.py start at a random point too: ids are per-session idempotency keys (section 2.2)
        self._next_id = secrets.randbelow(2**32)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> MegaApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public calls ----------------------------------------------------------------------------------------

    def request(self, commands: Sequence[Mapping[str, Json]]) -> list[Json]:
        """Send one batch in one HTTP request; returns one result per command, in order.

        A bare negative answer (nothing in the batch ran) raises the translated error for the whole batch.
        A negative integer in a slot is that command's error and is returned as it is: the other commands did
        run, and only the caller knows which slot errors matter (``call`` raises them).
        """
        if not commands:
            return []
        names = ",".join(str(command.get("a", "?")) for command in commands)
        body = json.dumps(list(commands), separators=(",", ":")).encode()
        if self.debug:
            log.debug("cs request: %s", summary(list(commands)))
        answer = self._exchange("cs", body=body, extra={}, context=names, timeout=None)
        if self.debug:
            log.debug("cs answer to %s: %s", names, summary(answer))
        if not isinstance(answer, list) or len(answer) != len(commands):
            raise BackendError(f"malformed answer from MEGA to {names!r} (expected {len(commands)} results)")
        return answer

    def call(self, command: Mapping[str, Json]) -> Json:
        """One command; a negative answer, bare or in its slot, raises the translated error."""
        (result,) = self.request([command])
        if isinstance(result, int) and result < 0:
            raise translate(result, str(command.get("a", "")))
        return result

    def sc_poll(self, sn: str) -> dict[str, Json]:
        """One poll of the action-packet channel: ``{"a": [...], "sn": new}`` or ``{"w": url, "sn": sn}``.

        Retries like ``request``. ETOOMANY here means our ``sn`` is too old: SequenceTooOld says to re-fetch
        the tree instead of polling on.
        """
        try:
            answer = self._exchange("sc", body=b"", extra={"sn": sn}, context="sc", timeout=None)
        except RateLimited as exc:
            if code_of(exc) == ETOOMANY:
                raise SequenceTooOld() from exc
            raise
        if not isinstance(answer, dict):
            raise BackendError("malformed answer from MEGA's sc channel")
        if self.debug:
            log.debug("sc answer: %s", summary(answer))
        return answer

    def wait_for_packets(self, sn: str, timeout: float) -> dict[str, Json]:
        """Block until action packets after ``sn`` arrive or ``timeout`` seconds pass.

        Returns the ``sc`` answer that carries packets, or ``{"a": [], "sn": sn}`` when none came in time. The
        ``w`` URL long-polls: it answers when something happens (or when the server tires of waiting), after
        which ``sc`` is polled again with the same ``sn``. A failing wait URL is not an error, only a reason
        to poll again: ``sc_poll`` itself carries the retry rules.
        """
        deadline = time.monotonic() + timeout
        while True:
            answer = self.sc_poll(sn)
            if answer.get("a"):
                return answer
            sn = str(answer.get("sn", sn))
            remaining = deadline - time.monotonic()
            wait_url = answer.get("w")
            if remaining <= 0 or not isinstance(wait_url, str):
                return {"a": [], "sn": sn}
            try:
                waited = self._http.get(
                    wait_url, timeout=httpx.Timeout(remaining, connect=min(remaining, 15.0))
                )
            except httpx.TimeoutException:
                return {"a": [], "sn": sn}
            except httpx.TransportError as exc:
                log.debug("sc wait URL failed (%s); polling again", type(exc).__name__)
                self._sleep(self._delay(1))
                continue
            if waited.status_code != 200:  # do not spin on a wait URL that fails at once
                log.debug("sc wait URL answered HTTP %d; polling again", waited.status_code)
                self._sleep(self._delay(1))

    def pause(self, attempt: int) -> None:
        """Sleep the backoff delay before retry ``attempt`` (1-based): transfers retry by the same rules."""
        self._sleep(self._delay(attempt))

    # -- the retry loop --------------------------------------------------------------------------------------

    def _take_id(self) -> str:
        with self._lock:
            self._next_id = (self._next_id + 1) % 2**32
            return str(self._next_id)

    def _delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^(attempt-1)))."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return float(self._random() * ceiling)

    def _params(self, extra: Mapping[str, str], req_id: str | None) -> dict[str, str]:
        params: dict[str, str] = {}
        if req_id is not None:
            params["id"] = req_id
        params.update(extra)
        if self.folder is not None:
            params["n"] = self.folder
        elif self.sid is not None:
            params["sid"] = self.sid
        return params

    def _exchange(
        self, path: str, *, body: bytes, extra: Mapping[str, str], context: str, timeout: float | None
    ) -> Json:
        """POST ``body`` to ``path`` until it gets an answer that is not a bare negative code, or gives up.

        The request id (``cs`` only) is taken once, so every retry is the same request to the server.
        """
        req_id = self._take_id() if path == "cs" else None
        url = self.api_url + path
        headers = {"Content-Type": "application/json"}
        relogged = False
        attempt = 0
        while True:
            attempt += 1
            params = self._params(extra, req_id)
            try:
                return self._attempt(url, body, params, headers, context, req_id, timeout)
            except _Retry as retry:
                if attempt >= self.max_attempts:
                    final = type(retry.error)(f"{retry.error.message}; gave up after {attempt} attempts")
                    final.mega_code = code_of(retry.error)  # type: ignore[attr-defined]
                    raise final from (retry.error.__cause__ or retry.error)
                if retry.backoff:
                    delay = self._delay(attempt)
                    log.debug("%s id=%s: %s; retry %d in %.3fs", context, req_id, retry, attempt, delay)
                    self._sleep(delay)
            except _SessionGone:
                if relogged or self.relogin is None:
                    raise translate(ESID, context) from None
                relogged = True
                attempt -= 1  # a new session is not a failed attempt
                with self._relogin_lock:
                    # another thread may have logged in again while this request was in flight: then its
                    # new sid is simply used, instead of a second login (logins are what MEGA rations)
                    if self.sid == params.get("sid"):
                        log.debug("%s id=%s: session expired (ESID); logging in again", context, req_id)
                        self.sid = self.relogin()

    def _attempt(
        self,
        url: str,
        body: bytes,
        params: Mapping[str, str],
        headers: dict[str, str],
        context: str,
        req_id: str | None,
        timeout: float | None,
    ) -> Json:
        """One HTTP exchange; returns the decoded answer or raises _Retry, _SessionGone or a final error."""
        try:
            response = self._http.post(
                url,
                params=params,
                content=body,
                headers=headers,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException as exc:
            error = ConnectionError(f"MEGA did not answer in time ({type(exc).__name__})")
            raise _Retry(_chained(error, exc)) from None
        except httpx.TransportError as exc:
            refused = tls_refusal(exc)
            if refused is not None:  # a certificate does not become trusted by asking again
                raise refused from None
            error = ConnectionError(f"connection to MEGA failed ({type(exc).__name__})")
            raise _Retry(_chained(error, exc)) from None
        status = response.status_code
        if status == 402 and "X-Hashcash" in response.headers:
            headers["X-Hashcash"] = _solve(response.headers["X-Hashcash"])
            log.debug("%s id=%s: hashcash challenge solved", context, req_id)
            raise _Retry(RateLimited("MEGA kept asking for proof of work (HTTP 402 hashcash)"), backoff=False)
        if status == 429:
            raise _Retry(RateLimited("too many requests (HTTP 429)"))
        if status >= 500:
            raise _Retry(TransientError(f"MEGA server error (HTTP {status})"))
        if status != 200:
            raise BackendError(f"unexpected answer from MEGA to {context!r} (HTTP {status})")
        try:
            answer = response.json()
        except ValueError as exc:
            raise _Retry(_chained(TransientError("MEGA sent an answer that is not JSON"), exc)) from None
        if isinstance(answer, int) and answer < 0:
            log.debug("%s id=%s: %s", context, req_id, name_of(answer))
            if answer in _RETRY_CODES:
                raise _Retry(translate(answer, context))
            if answer == ESID:
                raise _SessionGone()
            raise translate(answer, context)
        log.debug("%s id=%s: ok", context, req_id)
        return answer


def tls_refusal(exc: BaseException) -> BackendError | None:
    """The error for a connection whose server certificate did not verify (None for other failures).

    Not retried: the certificate will not verify on the next attempt either. Verification is never turned
    off; a private CA (a test server's) is trusted through ``SSL_CERT_FILE``, as by other TLS clients.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            reason = seen.verify_message or seen.reason or "certificate verify failed"
            return BackendError(
                f"MEGA's TLS certificate did not verify ({reason}); a private CA can be trusted with"
                " SSL_CERT_FILE (ESSL)"
            )
        seen = seen.__cause__ or seen.__context__
    return None


class _SessionGone(Exception):
    """Internal: a bare ESID; the loop decides whether to log in again."""


def _chained(error: BackendError, cause: BaseException) -> BackendError:
    """``error`` with ``cause`` as its ``__cause__``, so the final error says what went wrong underneath."""
    error.__cause__ = cause
    return error


def _solve(challenge_header: str) -> str:
    """The ``X-Hashcash`` answer to a 402 challenge; a malformed challenge is MEGA's fault, not retryable."""
    try:
        challenge = hashcash.parse_challenge(challenge_header)
    except hashcash.HashcashError as exc:
        raise BackendError(f"MEGA sent a malformed proof-of-work challenge: {exc}") from None
    return hashcash.solution_header(challenge.token, hashcash.solve(challenge.token, challenge.easiness))
