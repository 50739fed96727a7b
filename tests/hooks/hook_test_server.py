"""A tiny scriptable Databricks stand-in for hook tests (the real emulator lives elsewhere).

Per-path FIFO scripts ("429 with Retry-After: 2, then 200") take precedence; otherwise a few
default handlers answer (OAuth, SCIM Me, an in-memory DBFS). Handler exceptions are kept and
re-raised by the fixture at teardown.
"""

from __future__ import annotations

import base64
import json
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TOKEN = "dapi-test-token-0123456789abcdef"  # the PAT every scripted-server test hook sends


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list → JSON, bytes/str → raw
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None  # "reset": close the socket without answering; "sleep": wait, then answer
    delay: float = 0.0


RESET = Reply(action="reset")


def ok(body: Any = None, **headers: str) -> Reply:
    return Reply(200, {} if body is None else body, dict(headers))


def err(status: int, error_code: Any = None, message: str = "", **headers: str) -> Reply:
    body = {"error_code": error_code, "message": message} if error_code is not None else {"message": message}
    return Reply(status, body, {k.replace("_", "-"): v for k, v in headers.items()})


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class ScriptedServer:
    def __init__(self, port: int = 0) -> None:
        self.scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self.requests: list[Seen] = []
        self.errors: list[BaseException] = []
        self.dbfs: dict[str, bytes] = {}
        self.handles: dict[int, tuple[str, bytearray]] = {}
        self.tokens_issued = 0
        self.token_lifetime = 3600
        self.require_bearer: str | None = None  # if set, API calls need "Bearer <prefix>..."
        self.rejected_tokens: set[str] = set()
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"owner": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def script(self, path: str, *replies: Reply) -> None:
        self.scripts[path].extend(replies)

    def reset(self) -> None:
        with self._lock:
            self.scripts.clear()
            self.requests.clear()
            self.errors.clear()
            self.dbfs.clear()
            self.handles.clear()
            self.tokens_issued = 0
            self.token_lifetime = 3600
            self.require_bearer = None
            self.rejected_tokens.clear()

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---- default behaviour ---------------------------------------------------------------------
    def default(self, seen: Seen) -> Reply:
        path = seen.path
        if path == "/oidc/.well-known/oauth-authorization-server":
            return ok({"token_endpoint": f"{self.url}/oidc/v1/token"}, **{"Content-Type": "application/json"})
        if path == "/oidc/v1/token":
            self.tokens_issued += 1
            return ok(
                {
                    "access_token": f"oauth-token-{self.tokens_issued}-secretish",
                    "token_type": "Bearer",
                    "expires_in": self.token_lifetime,
                    "scope": "all-apis",
                }
            )
        auth = seen.headers.get("Authorization", "")
        if self.require_bearer is not None and (
            not auth.startswith("Bearer " + self.require_bearer) or auth[7:] in self.rejected_tokens
        ):
            return err(401, 401, "Credential was not sent or was of an unsupported type for this API.")
        if path == "/api/2.0/preview/scim/v2/Me":
            return ok({"userName": "tester@example.com"}, **{"X-Databricks-Org-Id": "123"})
        if path.startswith("/api/2.0/dbfs/"):
            return self._dbfs(path.rsplit("/", 1)[1], seen)
        return ok({})

    def _dbfs(self, action: str, seen: Seen) -> Reply:
        args = seen.json() or {} if seen.method == "POST" else dict(seen.query)
        missing = err(
            404, "RESOURCE_DOES_NOT_EXIST", f"No file or directory exists on path {args.get('path')}."
        )
        if action == "create":
            if args["path"] in self.dbfs and not args.get("overwrite"):
                return err(400, "RESOURCE_ALREADY_EXISTS", "A file or directory already exists")
            handle = len(self.handles) + 1000
            self.handles[handle] = (args["path"], bytearray())
            return ok({"handle": handle})
        if action == "add-block":
            block = base64.b64decode(args["data"])
            if len(block) > 1024 * 1024:
                return err(400, "MAX_BLOCK_SIZE_EXCEEDED", "block too big")
            if args["handle"] not in self.handles:
                return err(404, "RESOURCE_DOES_NOT_EXIST", "bad handle")
            self.handles[args["handle"]][1].extend(block)
            return ok()
        if action == "close":
            path, data = self.handles.pop(args["handle"])
            self.dbfs[path] = bytes(data)
            return ok()
        if action == "get-status":
            if args["path"] not in self.dbfs:
                return missing
            return ok({"path": args["path"], "is_dir": False, "file_size": len(self.dbfs[args["path"]])})
        if action == "read":
            if args["path"] not in self.dbfs:
                return missing
            offset, length = int(args.get("offset", 0)), int(args.get("length", 512 * 1024))
            if length > 1024 * 1024:
                return err(400, "MAX_READ_SIZE_EXCEEDED", "too long")
            chunk = self.dbfs[args["path"]][offset : offset + length]
            return ok({"bytes_read": len(chunk), "data": base64.b64encode(chunk).decode()})
        return err(404, "ENDPOINT_NOT_FOUND", f"No API found for {action}")


class _Handler(BaseHTTPRequestHandler):
    owner: ScriptedServer
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # one segment per response: avoids Nagle + delayed-ACK stalls on keep-alive

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _handle(self) -> None:
        try:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(
                self.command, parts.path, dict(parse_qsl(parts.query)), dict(self.headers.items()), body
            )
            owner = self.owner
            with owner._lock:
                owner.requests.append(seen)
                queue = owner.scripts.get(parts.path)
                reply = queue.popleft() if queue else None
                if reply is None:
                    reply = owner.default(seen)
            if reply.action == "reset":
                # RST instead of FIN: the client sees "connection reset" after sending its request.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                return
            if reply.delay:
                time.sleep(reply.delay)
            payload = reply.body
            if isinstance(payload, (dict, list)):
                raw = json.dumps(payload).encode()
                ctype = "application/json"
            else:
                raw = payload.encode() if isinstance(payload, str) else (payload or b"")
                ctype = "text/html" if raw.lstrip().startswith(b"<") else "text/plain"
            self.send_response(reply.status)
            headers = {"Content-Type": ctype, **reply.headers}
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except BaseException as exc:  # re-raised at teardown
            self.owner.errors.append(exc)
            raise

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle
