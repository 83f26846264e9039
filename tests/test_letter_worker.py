"""The letter worker backs off while its queue is down, and says so once, not every tenth second."""
from __future__ import annotations

import logging

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
