"""The proxy page's runnable example, a threaded web server, runs end to end."""

import re
import subprocess
import sys


def test_threaded_http_server_example_runs(tasks):
    example = tasks.REPO / "docs" / "examples" / "proxy_http_server.py"
    done = subprocess.run(
        [sys.executable, str(example)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tasks.REPO,
    )
    assert done.returncode == 0, done.stderr
    answers = re.findall(
        r"primes below (\d+): (\d+) \(workers \[([\d, ]+)\] forked by \[(\d+)\], "
        r"not by the server (\d+)\)",
        done.stdout,
    )
    assert [(below, count) for below, count, *_ in answers] == [
        ("10000", "1229"),
        ("20000", "2262"),
        ("30000", "3245"),
    ], done.stdout
    for _, _, workers, proxy, server in answers:
        # The workers are the proxy's children, never the threaded server's.
        assert proxy != server
        assert server not in workers.split(", ")
    assert len({proxy for *_, proxy, _ in answers}) == 1


def test_the_proxy_page_runs(tasks):
    checker = tasks.REPO / "docs" / "examples" / "check_docs.py"
    done = subprocess.run(
        [sys.executable, str(checker), str(tasks.REPO / "docs" / "proxy.md")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
