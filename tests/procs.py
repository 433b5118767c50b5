"""Process helpers shared by the model-process tests: is a pid still running, wait until it is gone."""

from __future__ import annotations

import time


def alive(pid: int) -> bool:
    """True while ``pid`` runs.  A zombie whose threads have all exited counts as gone (it runs nothing, holds
    no memory, and its parent can reap it); a zombie leader whose other threads are still exiting does not."""
    try:
        status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status").read().splitlines() if ":" in line)
    except (FileNotFoundError, ProcessLookupError):
        return False
    return not (status.get("State", "").strip().startswith("Z") and int(status.get("Threads", "1")) <= 1)


def wait_gone(pid: int, limit: float = 5.0) -> bool:
    deadline = time.monotonic() + limit
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)
