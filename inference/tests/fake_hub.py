"""A small Hugging Face hub on a local port, speaking the endpoints the real hub client calls.

What `huggingface_hub` (2.4) asks of a hub, read from its source:

* ``HfApi.model_info(repo, revision=R, files_metadata=True)``: ``GET /api/models/{repo}/revision/{R}?blobs=true``
  → JSON ``{id, sha, siblings: [{rfilename, size, blobId, lfs: {size, sha256, pointerSize}}]}``.
* ``get_hf_file_metadata`` (``HEAD /{repo}/resolve/{R}/{file}``, redirects followed only to hub hosts): needs
  ``X-Repo-Commit`` and an ``ETag`` (the git blob id; for an LFS file ``X-Linked-Etag`` = its sha256 and
  ``X-Linked-Size``); an LFS file answers 302 to a storage host, here ``localhost`` instead of ``127.0.0.1``,
  so that the client treats it as a CDN (no token sent there) as it does with the real hub.
* ``http_get``: ``GET`` with ``Range: bytes=N-`` to resume; the server answers 206 and ``Content-Range``.
* Errors carry ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``).

Faults for tests: drop the connection once part-way through a file, or serve other bytes than advertised; and
a rate limit, so that a pull lasts long enough to watch its progress (or cancel it).
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass
class RepoFile:
    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def blob_id(self) -> str:
        if self.lfs:  # the git blob of an LFS file is its pointer file
            pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\nsize {len(self.data)}\n"
            return git_blob_id(pointer.encode())
        return git_blob_id(self.data)


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    authorization: str | None


@dataclass
class FakeHub:
    repo: str
    commits: dict[str, dict[str, RepoFile]]  # commit → files
    branches: dict[str, str]  # "main" → commit
    requests: list[Request] = field(default_factory=list)
    drop_once: dict[str, int] = field(default_factory=dict)  # file name → bytes sent before the connection drops
    serve_instead: dict[str, bytes] = field(default_factory=dict)  # file name → bytes served instead of its own
    bytes_sent: dict[str, int] = field(default_factory=dict)
    rate_bytes_per_s: int | None = None  # None: as fast as the socket takes them
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                return None

            def do_HEAD(self) -> None:
                hub._handle(self, head=True)

            def do_GET(self) -> None:
                hub._handle(self, head=False)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-hub", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ----------------------------------------------------------------------------------- handling

    def _resolve(self, revision: str) -> str | None:
        commit = self.branches.get(revision, revision)
        return commit if commit in self.commits else None

    def _handle(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        parts = urlsplit(h.path)
        path = unquote(parts.path)
        with self._lock:
            self.requests.append(Request(h.command, path, h.headers.get("Range"), h.headers.get("Authorization")))
        api = re.fullmatch(r"/api/models/(.+)/revision/([^/]+)", path)
        resolve = re.fullmatch(r"/(.+?/.+?)/resolve/([^/]+)/(.+)", path)
        cdn = re.fullmatch(r"/cdn/([0-9a-f]{64})", path)
        if api:
            self._api(h, api.group(1), api.group(2))
        elif resolve:
            self._resolve_file(h, resolve.group(1), resolve.group(2), resolve.group(3), head)
        elif cdn:
            self._cdn(h, cdn.group(1), head)
        else:
            self._error(h, 404, "NotFound", f"no route {path}")

    def _error(
        self, h: BaseHTTPRequestHandler, status: int, code: str, message: str, commit: str | None = None
    ) -> None:
        body = json.dumps({"error": message}).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("X-Error-Code", code)
        h.send_header("X-Error-Message", message)
        if commit:
            h.send_header("X-Repo-Commit", commit)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _api(self, h: BaseHTTPRequestHandler, repo: str, revision: str) -> None:
        if repo != self.repo:
            self._error(h, 401, "RepoNotFound", "Repository not found")
            return
        commit = self._resolve(revision)
        if commit is None:
            self._error(h, 404, "RevisionNotFound", f"Invalid rev id: {revision}")
            return
        siblings = []
        for name, f in sorted(self.commits[commit].items()):
            entry: dict[str, Any] = {"rfilename": name, "size": len(f.data), "blobId": f.blob_id}
            if f.lfs:
                entry["lfs"] = {"size": len(f.data), "sha256": f.sha256, "pointerSize": 134}
                entry["size"] = len(f.data)
            siblings.append(entry)
        body = json.dumps({"id": repo, "modelId": repo, "sha": commit, "private": False, "siblings": siblings}).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _resolve_file(self, h: BaseHTTPRequestHandler, repo: str, revision: str, name: str, head: bool) -> None:
        if repo != self.repo:
            self._error(h, 401, "RepoNotFound", "Repository not found")
            return
        commit = self._resolve(revision)
        if commit is None:
            self._error(h, 404, "RevisionNotFound", f"Invalid rev id: {revision}")
            return
        f = self.commits[commit].get(name)
        if f is None:
            self._error(h, 404, "EntryNotFound", f"{name} does not exist at {revision}", commit)
            return
        if f.lfs:
            host = f"http://localhost:{self.port}"
            h.send_response(302)
            h.send_header("Location", f"{host}/cdn/{f.sha256}")
            h.send_header("X-Repo-Commit", commit)
            h.send_header("ETag", f'"{f.blob_id}"')
            h.send_header("X-Linked-Etag", f'"{f.sha256}"')
            h.send_header("X-Linked-Size", str(len(f.data)))
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        self._send_bytes(h, name, f.data, head, {"X-Repo-Commit": commit, "ETag": f'"{f.blob_id}"'})

    def _cdn(self, h: BaseHTTPRequestHandler, sha256: str, head: bool) -> None:
        for files in self.commits.values():
            for name, f in files.items():
                if f.lfs and f.sha256 == sha256:
                    self._send_bytes(h, name, f.data, head, {"ETag": f'"{sha256}"'})
                    return
        self._error(h, 404, "NotFound", "no such object")

    def _send_bytes(
        self, h: BaseHTTPRequestHandler, name: str, data: bytes, head: bool, headers: dict[str, str]
    ) -> None:
        data = self.serve_instead.get(name, data)
        start = 0
        ranged = h.headers.get("Range")
        if ranged:
            match = re.fullmatch(r"bytes=(\d+)-", ranged.strip())
            if match is None or int(match.group(1)) >= len(data):
                h.send_response(416)
                h.send_header("Content-Range", f"bytes */{len(data)}")
                h.send_header("Content-Length", "0")
                h.end_headers()
                return
            start = int(match.group(1))
        body = data[start:]
        h.send_response(206 if ranged else 200)
        for key, value in headers.items():
            h.send_header(key, value)
        h.send_header("Accept-Ranges", "bytes")
        if ranged:
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Content-Type", "application/octet-stream")
        h.end_headers()
        if head:
            return
        with self._lock:
            drop_at = self.drop_once.pop(name, None) if not ranged else None
        if drop_at is not None:
            h.wfile.write(body[:drop_at])
            h.wfile.flush()
            self._count(name, drop_at)
            # Drop the connection mid-body, as a flaky network does.
            h.connection.shutdown(socket.SHUT_RDWR)
            h.close_connection = True
            return
        if self.rate_bytes_per_s is None:
            h.wfile.write(body)
            self._count(name, len(body))
            return
        # 20 slices a second: the client sees the bytes arrive steadily, as from a slow network.
        step = max(1, self.rate_bytes_per_s // 20)
        for start_at in range(0, len(body), step):
            try:
                h.wfile.write(body[start_at : start_at + step])
                h.wfile.flush()
            except OSError:  # the client went away (a cancelled pull)
                return
            self._count(name, min(step, len(body) - start_at))
            time.sleep(step / self.rate_bytes_per_s)

    def _count(self, name: str, n: int) -> None:
        with self._lock:
            self.bytes_sent[name] = self.bytes_sent.get(name, 0) + n
