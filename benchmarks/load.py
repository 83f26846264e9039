"""Load generator for scripts/benchmark.py: its own process, one thread per connection.

    python -m benchmarks.load < spec.json > result.json

spec: {"host": "127.0.0.1", "port": 8000, "connections": 4,
       "requests": [{"method": "POST", "path": "/...", "body": {...} or null,
                     "headers": {...}}, ...]}
Each thread keeps one http.client connection open (keep-alive; it reconnects when the server
closes it, as gunicorn's sync workers do after every response) and takes the next request
from the shared list until it is empty. Result: {"wall": seconds, "latencies": [seconds per
request, in the order they finished], "codes": [their statuses], "statuses": {"200": n, ...}, "errors": [first few]}.
Only the standard library: the generator must not cost more than it has to.
"""
from __future__ import annotations

import http.client
import json
import sys
import threading
import time


def run(spec: dict) -> dict:
    requests = spec["requests"]
    host, port = spec.get("host", "127.0.0.1"), int(spec["port"])
    lock = threading.Lock()
    position = [0]
    latencies: list[float] = []
    codes: list[int] = []
    statuses: dict[str, int] = {}
    errors: list[str] = []
    start_gate = threading.Barrier(int(spec["connections"]) + 1)

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=120)
        start_gate.wait()
        while True:
            with lock:
                i = position[0]
                if i >= len(requests):
                    break
                position[0] = i + 1
            req = requests[i]
            body = json.dumps(req["body"]).encode() if req.get("body") is not None else None
            headers = dict(req.get("headers") or {})
            if body is not None:
                headers["Content-Type"] = "application/json"
            began = time.perf_counter()
            try:
                conn.request(req.get("method", "GET"), req["path"], body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=120)
                status, payload = 0, str(exc).encode()
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                codes.append(status)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if status not in (200, 201) and len(errors) < 5:
                    errors.append(f"{status} {req['path']}: {payload[:300]!r}")
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(int(spec["connections"]))]
    for t in threads:
        t.start()
    start_gate.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return {"wall": time.perf_counter() - began, "latencies": latencies, "codes": codes,
            "statuses": statuses,
            "errors": errors}


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
