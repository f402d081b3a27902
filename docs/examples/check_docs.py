"""Run the Python code blocks of documentation pages, in order, and report.

Usage (from the repository root, with the packages installed)::

    python docs/examples/check_docs.py                  # the default pages
    python docs/examples/check_docs.py docs/guide.md    # one page

The blocks of one page run one after another in the ``__main__`` module of
one interpreter, as if they were one script, so a later block may use what
an earlier one defined.
Each page runs in its own interpreter, in a fresh temporary working
directory.  A block preceded by the HTML comment ``<!-- not run -->`` is
skipped; one preceded by ``<!-- requires: some.module -->`` is skipped when
that module cannot be imported; one preceded by ``<!-- excerpt: path -->``
must appear word for word in that file (relative to the page) and runs.  The
exit status is non-zero when a block raised or an excerpt has drifted.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PAGES = [
    "README.md",
    "docs/index.md",
    "docs/guide.md",
    "docs/workers.md",
    "docs/writing-a-worker.md",
    "docs/proxy.md",
    "docs/limitations.md",
]

BLOCK = re.compile(
    r"(?:<!--\s*(?P<directive>[^>]*?)\s*-->\s*\n)?^```python\n(?P<code>.*?)^```",
    re.MULTILINE | re.DOTALL,
)

RUNNER = """
def _run_blocks():
    import importlib.util, json, sys, traceback

    blocks = json.loads(sys.stdin.read())
    namespace = sys.modules["__main__"].__dict__
    failed = 0
    for line, directive, code in blocks:
        label = f"{sys.argv[1]}:{line}"
        if directive == "not run":
            print(f"--- {label}: not run", flush=True)
            continue
        if directive.startswith("requires:"):
            module = directive.split(":", 1)[1].strip()
            if importlib.util.find_spec(module.split(".")[0]) is None or (
                "." in module and importlib.util.find_spec(module) is None
            ):
                print(f"--- {label}: skipped, {module} is not installed", flush=True)
                continue
        print(f"--- {label}", flush=True)
        try:
            exec(compile(code, label, "exec"), namespace)
        except BaseException:
            failed += 1
            traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
    return 1 if failed else 0


import sys

sys.exit(_run_blocks())
"""


def blocks_of(page: Path) -> list[tuple[int, str, str]]:
    """The Python blocks of ``page``: (line number, directive, code)."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code"))
        found.append((line, (match.group("directive") or "").strip(), match["code"]))
    return found


def excerpts_match(page: Path, blocks: list[tuple[int, str, str]]) -> bool:
    matched = True
    for line, directive, code in blocks:
        if directive.startswith("excerpt:"):
            source = page.parent / directive.split(":", 1)[1].strip()
            if code.rstrip() not in source.read_text(encoding="utf-8"):
                print(f"{page.name}:{line}: the block differs from {source.name}")
                matched = False
    return matched


def check(page: Path) -> bool:
    blocks = blocks_of(page)
    if not blocks:
        return True
    matched = excerpts_match(page, blocks)
    with tempfile.TemporaryDirectory() as workdir:
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, str(page.relative_to(ROOT))],
            input=json.dumps(blocks),
            text=True,
            cwd=workdir,
        )
    return matched and done.returncode == 0


def main(arguments: list[str]) -> int:
    pages = [Path(p).resolve() for p in arguments] or [ROOT / p for p in DEFAULT_PAGES]
    failures = [page for page in pages if not check(page)]
    for page in failures:
        print(f"FAILED: {page.relative_to(ROOT)}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
