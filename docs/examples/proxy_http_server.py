"""A threaded web server that runs its work in forked workers, through a proxy.

From the repository root, with the three packages installed:

    python -m pip install ./packages/taskmaster-core ./packages/taskmaster-workers \
        ./packages/taskmaster-proxy
    python docs/examples/proxy_http_server.py

The server (an ``http.server.ThreadingHTTPServer``: one thread per request)
answers ``GET /primes?below=N`` by counting the primes below N in four tasks
that run in parallel.  Forking a process that runs threads is unsafe, so the
workers are ForkWorkers hosted by a ProcessProxy: a clean, single-threaded
process that the server starts once and that forks the workers for it.

The script starts the server on a free port, sends it three requests at the
same time from three threads, prints the answers and shuts down.
"""

import json
import os
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from taskmaster.core import Task, Taskmaster
from taskmaster.proxy import ProcessProxy
from taskmaster.workers import ForkWorker


class CountPrimes(Task):
    """Counts the primes in [low, high); reports which process did the work."""

    def __init__(self, low: int, high: int) -> None:
        self.low = low
        self.high = high

    def run(self) -> tuple[int, int, int]:
        count = sum(1 for n in range(self.low, self.high) if is_prime(n))
        return count, os.getpid(), os.getppid()


def is_prime(n: int) -> bool:
    if n < 2:
        return False
    return all(n % d for d in range(2, int(n**0.5) + 1))


class PrimeServer(ThreadingHTTPServer):
    """The server owns one taskmaster; a lock lets one request use it at a
    time (a Taskmaster is driven from one thread at a time), while the
    request's tasks run in parallel on the four workers."""

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, PrimeHandler)
        proxy = ProcessProxy()
        self.taskmaster = Taskmaster().add_workers(ForkWorker().set_proxy(proxy), 4)
        self.lock = threading.Lock()

    def count_primes(self, below: int) -> dict[str, object]:
        step = max(1, -(-below // 4))
        tasks = [
            CountPrimes(low, min(low + step, below)) for low in range(0, below, step)
        ]
        with self.lock:
            for task in tasks:
                self.taskmaster.run_task(task)
            self.taskmaster.wait()
        results = [task.get_promise().get_value() for task in tasks]
        return {
            "below": below,
            "primes": sum(count for count, _, _ in results),
            "worker_pids": sorted({pid for _, pid, _ in results}),
            "forked_by": sorted({parent for _, _, parent in results}),
            "server_pid": os.getpid(),
        }

    def server_close(self) -> None:
        self.taskmaster.stop()
        super().server_close()


class PrimeHandler(BaseHTTPRequestHandler):
    server: PrimeServer

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path != "/primes":
            self.send_error(404)
            return
        below = int(parse_qs(url.query).get("below", ["10000"])[0])
        body = json.dumps(self.server.count_primes(below)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the example's output to the answers


def fetch(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def main() -> None:
    server = PrimeServer(("127.0.0.1", 0))
    thread = threading.Thread(target=server.serve_forever, name="http-server")
    thread.start()
    try:
        port = server.server_address[1]
        urls = [
            f"http://127.0.0.1:{port}/primes?below={n}"
            for n in (10_000, 20_000, 30_000)
        ]
        with ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(fetch, urls))
    finally:
        server.shutdown()
        thread.join()
        server.server_close()

    for answer in answers:
        print(
            f"primes below {answer['below']}: {answer['primes']} "
            f"(workers {answer['worker_pids']} forked by {answer['forked_by']}, "
            f"not by the server {answer['server_pid']})"
        )


if __name__ == "__main__":
    main()
