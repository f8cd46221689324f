#!/usr/bin/env python3
"""End-to-end checks of the compose bundle through its front door (nginx).

smoke.py HOST PORT PASSWORD METRICS_TOKEN

Python standard library only (the test machine has no WebSocket package):
a small RFC 6455 client below. Prints one line per check and exits 1 when
any failed. Run by scripts/test-docker.sh."""
import base64
import gzip
import http.client
import json
import os
import re
import socket
import struct
import sys
import time

HOST, PORT, PASSWORD, METRICS_TOKEN = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(("PASS " if ok else "FAIL ") + name + ("" if ok or not detail else ": " + str(detail)[:400]))
    sys.stdout.flush()
    return ok


def request(method, path, body=None, headers=None, timeout=10):
    c = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    raw = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, raw


def http_json(method, path, body=None, token=None):
    h = {"Authorization": "Bearer " + token} if token else {}
    status, _, raw = request(method, path, body, h)
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, {"raw": raw[:200].decode(errors="replace")}


def wait_for(probe, timeout):
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


class WebSocket:
    """A client for text frames: masks what it sends, answers pings."""

    def __init__(self, path, headers=None, timeout=10):
        self.sock = socket.create_connection((HOST, PORT), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{PORT}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the upgrade")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ", 2)[1])
        if self.status != 101:
            raise ConnectionError("upgrade refused: " + head.decode(errors="replace"))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, obj):
        self._frame(0x1, json.dumps(obj).encode())

    def recv(self, timeout=10):
        """The next text frame as JSON; None on timeout or close."""
        self.sock.settimeout(timeout)
        try:
            while True:
                b0, b1 = self._read(2)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack(">H", self._read(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", self._read(8))[0]
                payload = self._read(n)
                opcode = b0 & 0x0F
                if opcode == 0x9:
                    self._frame(0xA, payload)
                elif opcode == 0x8:
                    return None
                elif opcode == 0x1:
                    return json.loads(payload)
        except (socket.timeout, ConnectionError):
            return None

    def recv_until(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frame = self.recv(max(0.1, deadline - time.monotonic()))
            if frame is None:
                return None
            if predicate(frame):
                return frame
        return None

    def close(self):
        try:
            self._frame(0x8, struct.pack(">H", 1000))
        except OSError:
            pass
        self.sock.close()


# -- health, through the proxy
status, body = http_json("GET", "/livez")
check("GET /livez through nginx", status == 200 and body.get("status") == "up", (status, body))
status, body = http_json("GET", "/readyz")
check("GET /readyz through nginx", status == 200 and body.get("status") == "ready", (status, body))
status, body = http_json("GET", "/api/v1/controller/health")
check("GET health: database up (PostgreSQL)", status == 200 and body.get("database") == "up",
      (status, body))

# -- login with the first start's password
status, body = http_json("POST", "/api/v1/internal/auth/login",
                         {"username": "admin", "password": PASSWORD})
token = body.get("user", {}).get("token", "") if status == 200 else ""
check("login with the first-start password from the log", bool(token), (status, body))
if not token:
    sys.exit(1)

# -- the dashboard's index and an asset, pre-compressed and cacheable
status, hdrs, raw = request("GET", "/")
page = raw.decode(errors="replace")
check("dashboard index served", status == 200 and '<div id="root">' in page, (status, page[:200]))
check("index revalidated (Cache-Control: no-cache)", hdrs.get("cache-control") == "no-cache", hdrs)
assets = re.findall(r'src="(/assets/[^"]+\.js)"', page)
if check("index names a hashed script", bool(assets), page[:300]):
    status, hdrs, raw = request("GET", assets[0], headers={"Accept-Encoding": "gzip"})
    ok = status == 200 and hdrs.get("content-encoding") == "gzip"
    try:
        js = gzip.decompress(raw) if ok else b""
    except OSError:
        ok, js = False, b""
    check("asset sent gzip-encoded and decodes", ok and len(js) > 1000, (status, hdrs))
    check("asset immutable for a year", "immutable" in hdrs.get("cache-control", ""), hdrs)

# -- where the dashboard finds its live stream: the page's origin is not the REST port
status, body = http_json("GET", "/api/v1/internal/ui-config", token=token)
check("ui-config tells the REST port (the page is proxied when they differ)",
      status == 200 and body.get("rest_port") == 8765 and body.get("events_path") == "/api/v1/events",
      (status, body))

# -- an orchestrator over /ws through the proxy, the live stream beside it
http_json("POST", "/api/v1/internal/organizations",
          {"organization_id": "docker-org", "name": "Docker org"}, token)
status, body = http_json("POST", "/api/v1/internal/orchestrators",
                         {"orchestrator_id": "docker-o1", "organization_id": "docker-org",
                          "name": "in a container"}, token)
credential = body.get("data", {}).get("token", "") if status == 201 else ""
check("orchestrator credential issued", bool(credential), (status, body))

live = None
try:
    live = WebSocket("/api/v1/events")
    live.send({"type": "subscribe", "token": token})
    sub = live.recv()
    check("live stream (/api/v1/events) subscribed through nginx",
          bool(sub) and sub.get("type") == "subscribed", sub)
except (OSError, ConnectionError) as e:
    check("live stream (/api/v1/events) upgraded through nginx", False, e)

orch = None
try:
    orch = WebSocket("/ws")
    hello = orch.recv()
    check("/ws through nginx: handshake_ack", bool(hello) and hello.get("type") == "handshake_ack", hello)
    orch.send({"type": "register", "orchestrator_id": "docker-o1", "organization_id": "docker-org",
               "metadata": {"version": "docker"}, "token": credential})
    prov = orch.recv()
    check("register answered with provisioning", bool(prov) and prov.get("type") == "provisioning", prov)
    orch.send({"type": "i_am_alive", "orchestrator_id": "docker-o1"})
    ack = orch.recv()
    check("heartbeat acked (processed)", bool(ack) and ack.get("type") == "heartbeat_ack"
          and ack.get("processed") is True, ack)
    status, body = http_json("PUT", "/api/v1/internal/orchestrators/docker-o1/independence",
                             {"is_independent": True}, token)
    check("independence toggled over REST", status == 200, (status, body))
    pushed = orch.recv_until(lambda f: f.get("type") == "stop_monitoring", 10)
    check("the toggle reached the orchestrator (stop_monitoring)", pushed is not None, pushed)
    orch.send({"type": "i_am_alive", "orchestrator_id": "docker-o1"})
    ack = orch.recv_until(lambda f: f.get("type") == "heartbeat_ack", 10)
    check("next heartbeat not processed while independent",
          bool(ack) and ack.get("processed") is False, ack)
except (OSError, ConnectionError) as e:
    check("orchestrator over /ws through nginx", False, e)

if live is not None:
    ev = live.recv_until(lambda f: f.get("type") == "event" and f.get("kind") == "independence_changed", 10)
    check("live stream delivered the toggle event through nginx", ev is not None
          and ev.get("orchestrator_id") == "docker-o1", ev)
    live.close()
if orch is not None:
    orch.close()

# -- metrics with the scrape token through the proxy
status, hdrs, raw = request("GET", "/metrics", headers={"Authorization": "Bearer " + METRICS_TOKEN})
text = raw.decode(errors="replace")
check("/metrics with the scrape token", status == 200 and "moolai_build_info{" in text
      and "moolai_heartbeat_ack_seconds_count" in text, (status, text[:300]))
status, _, _ = request("GET", "/api/v1/internal/plugins", headers={"Authorization": "Bearer " + METRICS_TOKEN})
check("the scrape token opens nothing else", status == 401, status)

failed = results.count(False)
print(f"smoke: {len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
