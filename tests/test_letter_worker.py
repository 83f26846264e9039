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
