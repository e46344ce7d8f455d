"""``mahrem serve``: verified adapters behind the OpenAI chat-completions API, on this machine.

Design:

* **One model, many adapters.** An :class:`~pipeline.release.generate.AdapterSet` (shared
  with ``mahrem generate``) verifies every bundle (a private copy, its base checked against
  the provenance's SHA-256) *before* the socket listens — a bundle that fails verify stops
  the command with its problems listed — then loads the base once and each bundle as a
  named PEFT adapter. The request's ``model`` picks the adapter, the multi-LoRA convention
  of vLLM and others; the base alone answers under ``--base-name``. Switching goes through
  PEFT's ``set_adapter`` / ``disable_adapter``, never by copying weights.
* **Serialised.** One model in memory holds one active adapter, so a lock serialises
  generation; the stdlib ``ThreadingHTTPServer`` keeps accepting connections meanwhile
  (``GET /v1/models`` never waits for a generation). No new dependency: ``http.server``
  and pydantic (already the config layer) for the request body.
* **The OpenAI shapes.** ``POST /v1/chat/completions`` (the whole ``messages`` list goes
  through the tokenizer's chat template; ``max_tokens`` / ``max_completion_tokens``;
  ``temperature`` 0 or absent = greedy, above 0 = sampling with ``top_p`` and an optional
  ``seed``; ``n`` = 1; ``stream`` is refused), ``GET /v1/models`` and
  ``GET /v1/models/{id}``. Errors are ``{"error": {"message", "type", "param", "code"}}``
  with 400 / 403 / 404 / 405 / 413 / 415 / 500 / 503. A parameter the server cannot honour (``stop``,
  ``tools``, ``logprobs``, …) is a 400 naming it, never silently ignored.
* **Bounded and local.** At most ``max_pending`` chat requests (default 16) wait for or hold
  the generation lock; one more is answered 503 with a ``Retry-After`` header (the openai
  client retries it) instead of piling up threads. A body needs a ``Content-Length`` between
  0 and 4 MiB (chunked, negative or non-numeric lengths are 400s, a larger one 413). Against
  DNS rebinding and cross-site requests from a browser: a request whose ``Host`` is not
  ``localhost`` / ``127.0.0.1`` / ``[::1]`` or the ``--host`` address is refused (403; behind
  a wildcard ``--host`` such as ``0.0.0.0`` any IP literal is accepted too, never a DNS name),
  and a POST must say ``Content-Type: application/json`` (415), which a cross-site form
  cannot send without a CORS preflight that this server never grants.
* **Nothing personal in the logs.** One line per request: id, route, model (only a served
  name), token counts, status, latency. Never messages, answers, or a client-chosen string;
  the stdlib's own request logging is switched off. A failure inside generation logs its
  exception type only (messages can quote data).
* **Optional output guard.** With ``--redact-output`` every answer passes through the
  pipeline's anonymizer (:class:`pipeline.anonymize.redact.Redactor`, built as
  ``mahrem redact`` builds it) before it leaves; token counts stay the model's.
* **Erasure warnings.** :func:`erasure_warnings` is called once per bundle at start-up: a
  released version marked "affected by erasure request <reference>" in its registry, or a bundle
  whose controller-side holdings hold an erased value (:mod:`pipeline.release.holdings`). The
  warnings are printed by the command and listed under the adapter's ``mahrem.warnings`` in
  ``/v1/models``, until a later version without the value is released and served instead.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.config import ConfigError
from pipeline.io import InputError
from pipeline.release.generate import AdapterSet, ContextLengthExceeded

log = logging.getLogger("mahrem.serve")

MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_TOKENS = 512
DEFAULT_MAX_PENDING = 16
RETRY_AFTER_S = 1
LOCAL_HOSTNAMES = frozenset({"localhost", "127.0.0.1", "::1"})
Guard = Callable[[str], str]


def erasure_warnings(bundle: Path) -> list[str]:
    """Warnings about ``bundle`` shown at start-up and in ``/v1/models``: the erasure requests whose
    data it holds or may hold (:func:`pipeline.release.holdings.erasure_warnings`)."""
    from pipeline.release.holdings import erasure_warnings as holdings_warnings

    return holdings_warnings(bundle)


# ----------------------------------------------------------------------------- request body


class TextPart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["text"]
    text: str


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")  # e.g. an echoed assistant message's refusal: null
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]
    name: str | None = None
    tool_calls: list[Any] | None = None

    def for_template(self) -> dict[str, str]:
        text = self.content if isinstance(self.content, str) else "\n".join(p.text for p in self.content)
        # "developer" is OpenAI's newer name for "system"; chat templates know "system".
        return {"role": "system" if self.role == "developer" else self.role, "content": text}


class ChatRequest(BaseModel):
    """The accepted subset of OpenAI's chat-completions body. Any other field is refused (400)."""

    model_config = ConfigDict(extra="forbid")
    model: str
    messages: list[Message] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    n: int | None = None
    stream: bool | None = None
    stop: str | list[str] | None = None
    logprobs: bool | None = None
    user: str | None = None  # accepted, never used or logged


class ApiError(Exception):
    """An error answered in OpenAI's shape."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None,
                 type: str = "invalid_request_error", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = status, message, param, code, type
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def _validation_error(exc: ValidationError) -> ApiError:
    """A 400 naming each bad field and why — built from locations and pydantic's reasons, never the values."""
    problems, param = [], None
    for error in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(p) for p in error["loc"]) or "body"
        param = param or (str(error["loc"][0]) if error["loc"] else None)
        if error["type"] == "extra_forbidden":
            problems.append(f"{loc}: not supported by this server")
        else:
            problems.append(f"{loc}: {error['msg']}")
    return ApiError(400, "invalid request body: " + "; ".join(problems), param=param, code="invalid_request")


# ----------------------------------------------------------------------------- the service


@dataclass
class RequestLog:
    """What the one log line of a request may say — counts and names the server chose, nothing else."""

    id: str
    route: str
    model: str = "-"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    status: int = 200
    started: float = field(default_factory=time.perf_counter)
    written: bool = False

    def write(self) -> None:
        if not self.written:
            self.written = True
            log.info(self.line())

    def line(self) -> str:
        ms = (time.perf_counter() - self.started) * 1000
        return (f"request id={self.id} route={self.route} model={self.model} status={self.status} "
                f"prompt_tokens={self.prompt_tokens} completion_tokens={self.completion_tokens} latency_ms={ms:.0f}")


class ChatService:
    """The API over one :class:`AdapterSet`: model list and chat completions; no HTTP here."""

    def __init__(
        self,
        models: AdapterSet,
        *,
        base_name: str = "base",
        guard: Guard | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        warnings_for: Callable[[Path], list[str]] = erasure_warnings,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if max_pending < 1:
            raise ConfigError(f"--max-pending {max_pending}: at least 1 request must be allowed to wait.")
        if base_name in models.names:
            raise ConfigError(f"--base-name {base_name!r} is also an --adapter name; choose another --base-name.")
        if not base_name:
            raise ConfigError("--base-name is empty; give the base model a name, e.g. --base-name base.")
        self.models, self.base_name, self.guard, self.max_tokens = models, base_name, guard, max_tokens
        self.lock = threading.Lock()  # one generation at a time
        self.max_pending = max_pending
        self._pending = 0  # chat requests holding or waiting for ``lock``
        self._pending_lock = threading.Lock()
        self.created = int(time.time())
        self.warnings: dict[str, list[str]] = {name: list(warnings_for(info.path))
                                               for name, info in models.bundles.items()}
        self.warnings[base_name] = []

    @property
    def pending(self) -> int:
        """How many chat requests are generating or waiting for the generation lock now."""
        return self._pending

    @contextlib.contextmanager
    def _queue_slot(self) -> Iterator[None]:
        """A place among the ``max_pending`` requests allowed to wait; a 503 with Retry-After when none is free."""
        with self._pending_lock:
            if self._pending >= self.max_pending:
                raise ApiError(503, f"the server is busy: {self.max_pending} request(s) are already waiting for the "
                                    f"model (mahrem serve --max-pending). Retry after {RETRY_AFTER_S} s.",
                               type="server_error", code="server_busy", headers={"Retry-After": str(RETRY_AFTER_S)})
            self._pending += 1
        try:
            yield
        finally:
            with self._pending_lock:
                self._pending -= 1

    @property
    def model_ids(self) -> list[str]:
        return [self.base_name, *self.models.names]

    def model_entry(self, name: str) -> dict[str, Any]:
        meta: dict[str, Any] = {"kind": "base", "warnings": self.warnings[name],
                                "redact_output": self.guard is not None}
        if name != self.base_name:
            info = self.models.bundles[name]
            meta.update(kind="adapter", bundle=info.name, base_model=info.base_model)
        return {"id": name, "object": "model", "created": self.created, "owned_by": "mahrem", "mahrem": meta}

    def list_models(self) -> dict[str, Any]:
        return {"object": "list", "data": [self.model_entry(n) for n in self.model_ids]}

    def unknown_model(self, name: str) -> ApiError:
        return ApiError(404, f"the model {name!r} does not exist on this server; available: "
                             f"{', '.join(self.model_ids)}.", param="model", code="model_not_found")

    def chat(self, body: bytes, record: RequestLog) -> dict[str, Any]:
        try:
            request = ChatRequest.model_validate_json(body, strict=True)
        except ValidationError as exc:
            raise _validation_error(exc) from None
        if request.model not in self.model_ids:
            raise self.unknown_model(request.model)
        record.model = request.model
        if request.stream:
            raise ApiError(400, "streaming is not supported by this server; send stream: false (or leave it out).",
                           param="stream", code="unsupported_parameter")
        if request.n not in (None, 1):
            raise ApiError(400, "n must be 1: this server returns one choice per request.", param="n",
                           code="unsupported_value")
        for name, value in (("stop", request.stop), ("logprobs", request.logprobs or None)):
            if value is not None:
                raise ApiError(400, f"{name} is not supported by this server; leave it out.", param=name,
                               code="unsupported_parameter")
        for i, message in enumerate(request.messages):
            if message.tool_calls:
                raise ApiError(400, f"messages.{i}.tool_calls: tools are not supported by this server.",
                               param="messages", code="unsupported_parameter")
        max_new = request.max_completion_tokens or request.max_tokens or self.max_tokens
        if max_new > self.max_tokens:
            which = "max_completion_tokens" if request.max_completion_tokens else "max_tokens"
            raise ApiError(400, f"{which} is {max_new}, above this server's limit of {self.max_tokens} "
                                "(mahrem serve --max-tokens).", param=which, code="unsupported_value")
        adapter = None if request.model == self.base_name else request.model
        messages = [m.for_template() for m in request.messages]
        with self._queue_slot(), self.lock:
            try:
                result = self.models.generate(messages, adapter, max_new_tokens=max_new,
                                              temperature=request.temperature or 0.0, top_p=request.top_p,
                                              seed=request.seed)
            except ContextLengthExceeded as exc:
                raise ApiError(400, str(exc), param="messages", code="context_length_exceeded") from None
            except _template_errors() as exc:
                # The template's own complaint (e.g. roles must alternate); it names rules, not content.
                raise ApiError(400, f"the model's chat template refused these messages: {exc}",
                               param="messages", code="invalid_messages") from None
            text = self.guard(result.text) if self.guard is not None else result.text
        record.prompt_tokens, record.completion_tokens = result.prompt_tokens, result.completion_tokens
        return {
            "id": record.id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model,
            "system_fingerprint": None,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": result.finish_reason,
            }],
            "usage": {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
                      "total_tokens": result.prompt_tokens + result.completion_tokens},
        }


def _template_errors() -> tuple[type[BaseException], ...]:
    from jinja2 import TemplateError

    return (TemplateError,)


# ----------------------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    server: ChatServer
    server_version = "mahrem-serve"
    timeout = 120  # seconds a client may take to send its request

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        """The stdlib would log the raw request line (a client-chosen path); our own line replaces it."""

    def _send(self, status: int, body: dict[str, Any], record: RequestLog, headers: Mapping[str, str] = {}) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        record.status = status
        record.write()  # before the answer leaves: a client's next request always logs after this one
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", record.id)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        service = self.server.service
        path = self.path.split("?", 1)[0].rstrip("/")
        record = RequestLog(id=f"chatcmpl-{secrets.token_hex(12)}", route="other")
        try:
            try:
                self._check_host()
                if path == "/v1/chat/completions":
                    record.route = "chat.completions"
                    if method != "POST":
                        raise ApiError(405, "use POST for /v1/chat/completions.", code="method_not_allowed")
                    self._send(200, service.chat(self._body(), record), record)
                elif path == "/v1/models":
                    record.route = "models"
                    if method != "GET":
                        raise ApiError(405, "use GET for /v1/models.", code="method_not_allowed")
                    self._send(200, service.list_models(), record)
                elif path.startswith("/v1/models/"):
                    record.route = "models.retrieve"
                    if method != "GET":
                        raise ApiError(405, "use GET for /v1/models/{model}.", code="method_not_allowed")
                    name = path.removeprefix("/v1/models/")
                    if name not in service.model_ids:
                        raise service.unknown_model(name)
                    record.model = name
                    self._send(200, service.model_entry(name), record)
                else:
                    raise ApiError(404, "no such endpoint; this server has POST /v1/chat/completions, "
                                        "GET /v1/models and GET /v1/models/{model}.", code="unknown_url")
            except ApiError as exc:
                headers = dict(exc.headers)
                if exc.status == 405:
                    headers["Allow"] = "POST" if record.route == "chat.completions" else "GET"
                self._send(exc.status, exc.body(), record, headers)
            except Exception as exc:  # noqa: BLE001 - a server answers 500 and goes on; the type alone is logged
                log.error("request id=%s failed inside the server: %s (message withheld: it may quote data)",
                          record.id, type(exc).__name__)
                self._send(500, ApiError(500, "internal error in mahrem serve; the server log has the request id.",
                                         type="server_error", code="internal_error").body(), record)
        finally:
            record.write()  # once: a no-op when the answer went out

    def _check_host(self) -> None:
        """403 unless ``Host`` names this machine (DNS rebinding: a page on another site whose name now
        points at 127.0.0.1 sends its own name as Host)."""
        hosts = self.headers.get_all("Host") or []
        hostname = None
        if len(hosts) == 1:
            with contextlib.suppress(ValueError):
                hostname = urlsplit("//" + hosts[0].strip()).hostname
        if hostname is None or not self.server.host_allowed(hostname):
            raise ApiError(403, "the Host header does not name this server; use http://127.0.0.1:<port> (or "
                                "localhost, or the --host address it was started with).",
                           type="permission_error", code="host_not_allowed")

    def _body(self) -> bytes:
        if self.headers.get_content_type() != "application/json":
            raise ApiError(415, "send the body as JSON with the header Content-Type: application/json.",
                           code="unsupported_media_type")
        if self.headers.get("Transfer-Encoding"):
            raise ApiError(400, "send the body with a Content-Length (chunked transfer is not supported).")
        lengths = self.headers.get_all("Content-Length") or []
        text = lengths[0].strip() if len(lengths) == 1 else ""
        if not text.isascii() or not text.isdigit():  # refuses "-1", "+5", "1e3", "1, 1" and a repeated header
            raise ApiError(400, "a JSON body with a Content-Length header (a whole number of bytes, 0 or more) "
                                "is required.", code="invalid_content_length")
        length = int(text)
        if length > MAX_BODY_BYTES:
            raise ApiError(413, f"the body is {length} bytes; this server takes at most {MAX_BODY_BYTES}.",
                           code="request_too_large")
        return self.rfile.read(length)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's names
        self._route("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._route("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._route("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self._route("PATCH")


class ChatServer(ThreadingHTTPServer):
    """The HTTP server of one :class:`ChatService`. Bound at construction, listening only after :meth:`listen`."""

    daemon_threads = True
    service: ChatService | None = None

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        try:
            super().__init__((host, port), _Handler, bind_and_activate=False)
            self.server_bind()
        except OSError as exc:
            if hasattr(self, "socket"):
                self.socket.close()
            reason = exc.strerror or type(exc).__name__
            raise InputError(f"--host {host} --port {port}: cannot listen there ({reason}). "
                             "Choose another --port, or stop what is using it.") from None

    def host_allowed(self, hostname: str) -> bool:
        """A ``Host`` header's hostname that names this server: localhost, a loopback literal, the ``--host``
        address; behind a wildcard address (``0.0.0.0``, ``::``), any IP literal — never a DNS name."""
        name = hostname.lower().rstrip(".")
        if name in LOCAL_HOSTNAMES or name == self.host.strip("[]").lower().rstrip("."):
            return True
        try:
            literal = ipaddress.ip_address(name)
        except ValueError:
            return False
        try:
            wildcard = ipaddress.ip_address(self.host.strip("[]")).is_unspecified
        except ValueError:
            wildcard = self.host == ""
        return literal.is_loopback or wildcard

    def listen(self, service: ChatService) -> None:
        self.service = service
        self.server_activate()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    def server_close(self) -> None:
        """Stop listening and release the models (their verified copies are deleted)."""
        super().server_close()
        if self.service is not None:
            self.service.models.close()

    def handle_error(self, request, client_address) -> None:
        """A dropped connection or the like: its type only (the stdlib would print a traceback with messages)."""
        import sys

        log.warning("connection error: %s", type(sys.exc_info()[1]).__name__)


# ----------------------------------------------------------------------------- the output guard


def build_output_guard(policy: Path | None = None, params: Path | None = None) -> Guard:
    """The anonymizer as ``mahrem redact`` builds it: params.yaml's scan settings and policy when
    ``params`` exists, else the defaults and the KVKK policy shipped in the package."""
    from pipeline.anonymize.redact import Redactor
    from pipeline.config import PARAMS_FILE, ScanParams, load_params, policy_path
    from pipeline.policies_default import KVKK_POLICY

    params = Path(params or PARAMS_FILE)
    exists = params.exists()
    config = load_params("scan", ScanParams, params) if exists else ScanParams()
    redactor = Redactor(config, policy or (policy_path(params) if exists else KVKK_POLICY))
    return lambda text: redact_text(redactor, text)


def redact_text(redactor: Any, text: str) -> str:
    """``text`` anonymized line by line (the Redactor's plain-text unit); a dropped line becomes its notice."""
    if not text.strip():
        return text
    return "\n".join(redactor.lines([line.encode("utf-8") for line in text.split("\n")]).rows)


# ----------------------------------------------------------------------------- start-up


def open_server(
    adapters: Mapping[str, Path],
    public_key: Path,
    base: Path = Path("models/base"),
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    base_name: str = "base",
    dtype: str = "auto",
    device: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    guard: Guard | None = None,
    warnings_for: Callable[[Path], list[str]] = erasure_warnings,
    max_pending: int = DEFAULT_MAX_PENDING,
) -> ChatServer:
    """Bind, verify and load everything, then listen: a ready server (call ``serve_forever``).

    The port is bound first, so a busy one fails before minutes of loading; it listens only
    once every bundle has verified and loaded. ``server_close`` releases the models too.
    """
    if base_name in adapters:
        raise ConfigError(f"--base-name {base_name!r} is also an --adapter name; choose another --base-name.")
    if max_pending < 1:
        raise ConfigError(f"--max-pending {max_pending}: at least 1 request must be allowed to wait.")
    server = ChatServer(host, port)
    try:
        models = AdapterSet(adapters, public_key, base, dtype=dtype, device=device)
        try:
            service = ChatService(models, base_name=base_name, guard=guard, max_tokens=max_tokens,
                                  warnings_for=warnings_for, max_pending=max_pending)
        except BaseException:
            models.close()
            raise
    except BaseException:
        server.server_close()
        raise
    server.listen(service)
    return server
