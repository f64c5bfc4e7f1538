"""Concurrent builds: the second waits for the first; a killed holder leaves no lock."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from conftest import ROOT

HOLD = "import sys, time; from dlreport.lock import exclusive; from pathlib import Path\n" \
       "with exclusive(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)"
TAKE = "import sys, logging; logging.basicConfig(); from dlreport.lock import exclusive; from pathlib import Path\n" \
       "with exclusive(Path(sys.argv[1])):\n    print('acquired', flush=True)"


def test_second_holder_waits_with_a_message_and_a_killed_holder_frees_the_lock(tmp_path):
    lock = tmp_path / "cache" / "build.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    waiter = subprocess.Popen([sys.executable, "-c", TAKE, str(lock)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert waiter.poll() is None  # still waiting
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    out, err = waiter.communicate(timeout=20)
    assert out.strip() == "acquired"
    assert f"another build (pid {holder.pid})" in err and "waiting" in err
