"""The explorer over HTTP, against `infogan explore RUN` started here in its own process on 127.0.0.1.

Three measurements, each one JSON line (run them on an otherwise idle machine):
  latency  p50/p95 of one image (PNG, and raw bytes) and of a 10 x 10 grid, one request at a time
  load     16 concurrent clients for 30 s, mixed image/grid/infer requests: served, p95, errors, the server's RSS
  fuzz     1,000 generated requests (hypothesis) to every JSON endpoint: status counts (no 5xx allowed), then a
           normal request must still succeed

Usage: python benchmarks/explore_server.py RUN [latency|load|fuzz ...] [--clients 16] [--seconds 30] [--fuzz 1000]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from infogan.explore.server import request_keys
from infogan.machine import cpu_name


def start_server(run: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "infogan", "explore", str(run), "--no-browser"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if " at http://" in line:
            return proc, line.split(" at ")[1].split()[0]
    raise RuntimeError("the explorer did not start")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(1000 * s for s in seconds)
    return {
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1),
        "n": len(ms),
    }


def client(url: str, timeout: float) -> httpx.Client:
    """An HTTP client that sends each request at once, as browsers do: without TCP_NODELAY a POST's body waits
    for the ACK of its headers, which the server delays by up to 40 ms (Nagle's algorithm meets delayed ACKs)."""
    transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    return httpx.Client(base_url=url, timeout=timeout, transport=transport)


def timed(http: httpx.Client, path: str, body: dict) -> float:
    start = time.perf_counter()
    response = http.post(path, json=body)
    response.raise_for_status()
    return time.perf_counter() - start


def drawing() -> bytes:
    from PIL import Image

    picture = Image.new("L", (280, 280), 0)
    picture.paste(255, (120, 40, 160, 240))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def latency(url: str, runs: dict) -> dict:
    continuous = next(c["name"] for c in runs["runs"][0]["codes"] if c["kind"] != "categorical")
    with client(url, 30) as http:
        for _ in range(20):  # warm-up
            timed(http, "/api/image", {"seed": 0})
        png = [
            timed(http, "/api/image", {"seed": i, "codes": {continuous: (i % 41) / 10 - 2}})
            for i in range(300)
        ]
        raw = [
            timed(http, "/api/image", {"seed": i, "codes": {continuous: (i % 41) / 10 - 2}, "format": "raw"})
            for i in range(300)
        ]
        grid = [
            timed(http, "/api/grid", {"seed": i, "code": continuous, "rows": 10, "columns": 10})
            for i in range(100)
        ]
    return {"image_png": percentiles(png), "image_raw": percentiles(raw), "grid_10x10": percentiles(grid)}


def load(url: str, pid: int, runs: dict, clients: int, seconds: float) -> dict:
    continuous = next(c["name"] for c in runs["runs"][0]["codes"] if c["kind"] != "categorical")
    picture = drawing()
    times: list[float] = []
    failures: Counter[str] = Counter()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client_loop(k: int) -> None:
        rng = random.Random(k)
        with client(url, 60) as http:
            while time.monotonic() < stop:
                kind = rng.choices(["image", "grid", "infer"], weights=[8, 1, 1])[0]
                start = time.perf_counter()
                try:
                    if kind == "image":
                        r = http.post(
                            "/api/image",
                            json={"seed": rng.randrange(10**6), "codes": {continuous: rng.uniform(-2, 2)}},
                        )
                    elif kind == "grid":
                        r = http.post("/api/grid", json={"seed": rng.randrange(10**6), "code": continuous})
                    else:
                        r = http.post("/api/infer", files={"file": ("d.png", picture, "image/png")})
                    ok = r.status_code == 200
                except httpx.HTTPError as exc:
                    ok, r = False, None
                    with lock:
                        failures[type(exc).__name__] += 1
                with lock:
                    if ok:
                        times.append(time.perf_counter() - start)
                    elif r is not None:
                        failures[str(r.status_code)] += 1

    def run_clients() -> None:
        threads = [threading.Thread(target=client_loop, args=(k,)) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    # a first round warms every path (allocator pools, lazily imported modules), so RSS is compared after it
    run_clients()
    times.clear()
    failures.clear()
    before = rss_mb(pid)
    stop = time.monotonic() + seconds
    run_clients()
    after = rss_mb(pid)
    return {
        "clients": clients,
        "seconds": seconds,
        "served": len(times),
        "per_second": round(len(times) / seconds, 1),
        **percentiles(times),
        "errors": dict(failures),
        "rss_mb_before": round(before, 1),
        "rss_mb_after": round(after, 1),
    }


def fuzz(url: str, examples: int) -> dict:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    statuses: Counter[int] = Counter()
    values = st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.none(),
        st.booleans(),
        st.lists(st.integers(), max_size=4),
        st.dictionaries(
            st.text(max_size=6), st.floats(allow_nan=True) | st.integers() | st.text(max_size=4), max_size=4
        ),
    )
    keys = [*request_keys(), "path"]  # every field the API reads, and one it does not
    http = client(url, 60)

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(
        path=st.sampled_from(["/api/image", "/api/grid", "/api/infer"]),
        body=st.dictionaries(st.sampled_from(keys), values, max_size=7),
        raw=st.binary(max_size=256),
    )
    def send(path: str, body: dict, raw: bytes) -> None:
        if path == "/api/infer":
            form = {k: str(v) for k, v in body.items() if k in ("run", "seed")}
            response = http.post(path, files={"file": ("x.png", raw, "image/png")}, data=form)
        else:
            response = http.post(
                path, content=json.dumps(body, allow_nan=True), headers={"content-type": "application/json"}
            )
        statuses[response.status_code] += 1
        assert response.status_code < 500, (path, body, response.text)

    send()
    after = http.post("/api/image", json={"seed": 1})
    http.close()
    return {
        "requests": sum(statuses.values()),
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": sum(v for k, v in statuses.items() if k >= 500),
        "normal_request_after": after.status_code,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("modes", nargs="*", default=["latency", "load", "fuzz"])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--fuzz", type=int, default=1000)
    args = parser.parse_args()
    proc, url = start_server(args.run)
    try:
        runs = httpx.get(url + "api/runs", timeout=30).json()
        for mode in args.modes:
            if mode == "latency":
                result = latency(url, runs)
            elif mode == "load":
                result = load(url, proc.pid, runs, args.clients, args.seconds)
            else:
                result = fuzz(url, args.fuzz)
            print(
                json.dumps(
                    {"benchmark": f"explore_{mode}", "run": str(args.run), "cpu": cpu_name(), **result}
                )
            )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
