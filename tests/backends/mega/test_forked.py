"""``backends.mega.forked`` and the tree build it speeds up: a forked child's value comes back whole, any
failure of the child gives None (and the caller does the work itself), no fork happens beside another
thread, and a big tree built half in a child equals the same tree built in one process.

Each check runs in a fresh interpreter, so that the thread count is the script's own and not whatever the
test runner or an earlier test left behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forking is used on Linux only")


def _run(code: str) -> Any:
    """What the script ``code`` prints as JSON on its last line."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_childs_value_comes_back_whole() -> None:
    result = _run(
        """
        import json, os
        from backends.mega import forked
        assert forked.fork_available()
        # far more than a pipe's buffer
        rows = [(f"h{i}", i, bytes([i % 256]) * 32, None, "n\\udcff") for i in range(50_000)]
        child = forked.start(lambda: [(*row, os.getpid()) for row in rows])
        assert child is not None
        got = child.result()
        print(json.dumps({
            "same": [row[:5] for row in got] == rows,
            "other_process": {row[5] for row in got} != {os.getpid()},
            "again": child.result(),
        }))
        """
    )
    assert result == {"same": True, "other_process": True, "again": None}


@pytest.mark.parametrize(
    "work",
    [
        pytest.param("lambda: 1 / 0", id="raises"),
        pytest.param("lambda: object()", id="not-marshallable"),
        pytest.param("lambda: os.kill(os.getpid(), signal.SIGKILL)", id="killed"),
        pytest.param("lambda: os._exit(3)", id="exits-non-zero"),
    ],
)
def test_a_failing_child_gives_none(work: str) -> None:
    result = _run(
        f"""
        import json, os, signal
        from backends.mega import forked
        child = forked.start({work})
        assert child is not None
        print(json.dumps({{"result": child.result()}}))
        """
    )
    assert result == {"result": None}


def test_an_abandoned_child_is_killed_and_reaped() -> None:
    result = _run(
        """
        import json, os, time
        from backends.mega import forked
        child = forked.start(lambda: time.sleep(60))
        pid = child._pid
        child.close()
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        print(json.dumps({"alive": alive, "result": child.result()}))
        """
    )
    assert result == {"alive": False, "result": None}


def test_no_fork_beside_another_thread() -> None:
    result = _run(
        """
        import json, threading
        from backends.mega import forked
        alone = forked.fork_available()
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)
        other.start()
        beside = forked.fork_available(), forked.start(lambda: 1)
        stop.set()
        other.join()
        print(json.dumps({"alone": alone, "beside": [beside[0], beside[1] is None]}))
        """
    )
    assert result == {"alone": True, "beside": [False, True]}


_TREE_SCRIPT = """
    import json, os
    from backends.mega import crypto, forked, nodes
    from backends.mega.fingerprint import fingerprint

    master, share = os.urandom(16), os.urandom(16)
    raw = [{"h": "ROOT", "t": 2, "ts": 1}]
    for i in range(30_000):
        folder = i % 50 == 0
        key = os.urandom(16 if folder else 32)
        attrs = {"n": f"name-{i}" + ("/\\udcff" if i % 997 == 0 else "")}
        if not folder:
            attrs["c"] = fingerprint(bytes(16), 1_600_000_000 + i)
        node = {
            "h": f"H{i:07d}", "p": "ROOT", "t": 1 if folder else 0, "ts": i, "s": i,
            "a": crypto.encrypt_attributes(attrs, crypto.fold_key(key)),
        }
        if i % 101 == 0:  # under the share key of a folder of ours
            node["k"] = "SHARE:" + crypto.b64encode(crypto.aes_ecb_encrypt(share, key))
        elif i % 499 == 0:  # attributes under another key: skipped
            node["k"] = "ME:" + crypto.b64encode(crypto.aes_ecb_encrypt(master, os.urandom(len(key))))
        else:
            node["k"] = "ME:" + crypto.b64encode(crypto.aes_ecb_encrypt(master, key))
        raw.append(node)

    def rows(mode):
        keyring = nodes.Keyring(master, "ME", {"SHARE": share})
        started = forked.start
        seen = []
        def start(work):
            if mode == "serial":
                return None
            child = started(work)
            seen.append(child is not None)
            if child is not None and mode == "child-fails":
                child.result = lambda: None
            return child
        forked.start = start
        try:
            return [node.row() for node in keyring.decrypt(raw)], seen
        finally:
            forked.start = started

    serial, _ = rows("serial")
    parallel, forks = rows("parallel")
    fallback, fallback_forks = rows("child-fails")
    print(json.dumps({
        "count": len(serial),
        "forked": forks + fallback_forks,
        "parallel_same": parallel == serial,
        "fallback_same": fallback == serial,
    }))
"""


def test_a_tree_built_half_in_a_child_equals_one_built_in_one_process() -> None:
    result = _run(_TREE_SCRIPT)
    skipped = len([i for i in range(30_000) if i % 101 != 0 and i % 499 == 0])
    assert result == {
        "count": 1 + 30_000 - skipped,
        "forked": [True, True],
        "parallel_same": True,
        "fallback_same": True,
    }
