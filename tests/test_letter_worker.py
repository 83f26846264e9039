"""The letter worker backs off while its queue is down, and says so once, not every tenth second."""
from __future__ import annotations

import logging
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from huey import MemoryHuey

from casework.letters.worker import ERROR_DELAY_MAX, BackoffWorker, LetterConsumer


class _Waits:
    def __init__(self):
        self.waits = []

    def wait(self, seconds):
        self.waits.append(seconds)

    def is_set(self):
        return False


def _worker(huey):
    return BackoffWorker(huey=huey, stop_flag=_Waits(), default_delay=0.1, max_delay=10, backoff=1.15)


def test_a_lost_queue_means_growing_waits_and_one_traceback(monkeypatch, caplog):
    huey = MemoryHuey("worker-test")
    worker = _worker(huey)

    def down():
        raise ConnectionError("Redis weg")

    monkeypatch.setattr(huey, "dequeue", down)
    with caplog.at_level(logging.INFO, logger="casework.letters.worker"):
        for _ in range(9):
            worker.loop()
    assert worker.stop_flag.waits == [1, 2, 4, 8, 16, 32, ERROR_DELAY_MAX, ERROR_DELAY_MAX, ERROR_DELAY_MAX]
    assert sum(1 for r in caplog.records if r.exc_info) == 1
    assert all("nog niet bereikbaar" in r.getMessage() for r in caplog.records[1:])

    monkeypatch.undo()  # the queue is back
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="casework.letters.worker"):
        worker.loop()
    assert worker.failures == 0
    assert any("weer bereikbaar" in r.getMessage() for r in caplog.records)
    assert worker.stop_flag.waits[-1] < 1  # an empty queue is polled as before, not after a minute


def test_the_worker_command_uses_this_worker():
    assert LetterConsumer.worker_class is BackoffWorker


def test_a_stop_signal_while_the_consumer_starts_stops_it_gracefully():
    """SIGINT between "gestart" and Huey's own signal handlers (installed after the worker
    processes are forked) is kept and honoured, not raised in the middle of start()."""
    import signal

    from huey.consumer import ConsumerStopped

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        consumer = LetterConsumer(MemoryHuey("early-signal"), workers=1, worker_type="thread")
        assert signal.getsignal(signal.SIGINT) == consumer._note_signal
        signal.raise_signal(signal.SIGINT)  # before start(): noted, nothing raised
        consumer.start()
        try:
            consumer.loop()
            raise AssertionError("the consumer went on after the early SIGINT")
        except ConsumerStopped:
            pass
        assert consumer._graceful and not consumer._restart
    finally:
        consumer.stop_flag.set()
        for s, handler in saved.items():
            signal.signal(s, handler)


CONSUMER_SCRIPT = """
import sys
from huey import MemoryHuey
from casework.letters.worker import LetterConsumer
consumer = LetterConsumer(MemoryHuey("orphans"), workers=2, worker_type="process")
consumer.start()
pids = [p.pid for _, p in consumer.worker_threads] + [consumer.scheduler.pid]
print(" ".join(map(str, pids)), flush=True)
while True:
    consumer.loop()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or not hasattr(os, "pidfd_open"),
                    reason="PR_SET_PDEATHSIG and pidfd are Linux's")
def test_worker_processes_end_with_a_consumer_that_is_killed():
    """Killed outright (SIGKILL), the consumer cannot stop its worker processes; they must not
    live on as orphans that wait for a stop flag nobody sets."""
    proc = subprocess.Popen([sys.executable, "-c", CONSUMER_SCRIPT], stdout=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parent.parent, text=True)
    try:
        with proc.stdout:
            pids = [int(x) for x in proc.stdout.readline().split()]
        assert len(pids) == 3, pids  # two workers and the scheduler
        fds = [os.pidfd_open(pid) for pid in pids]
    finally:
        proc.kill()
        proc.wait()
    try:
        waiting, deadline = set(fds), time.monotonic() + 10
        while waiting and time.monotonic() < deadline:
            # A pidfd is readable once its process has ended.
            ended, _, _ = select.select(list(waiting), [], [], deadline - time.monotonic())
            waiting -= set(ended)
        assert not waiting, "a worker process outlived its killed consumer"
    finally:
        for fd in fds:
            os.close(fd)
