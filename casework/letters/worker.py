"""The letter worker's consumer: Huey's, with a back-off of its own while the queue is down.

Huey's worker waits the same growing delay (0.1 s up to 10 s) between polls of an empty queue
and between failed reads, and logs a traceback on every failed read. When the queue is down
this worker waits 1, 2, 4 … up to 60 seconds, logs the traceback once and after that one
short line per attempt, and says when the queue is back; an empty queue is polled as before."""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys

from huey.consumer import Consumer, Worker

log = logging.getLogger("casework.letters.worker")

ERROR_DELAY_FIRST = 1.0
ERROR_DELAY_MAX = 60.0


class BackoffWorker(Worker):
    failures = 0

    def error_delay(self) -> float:
        return min(ERROR_DELAY_MAX, ERROR_DELAY_FIRST * 2 ** (self.failures - 1))

    def loop(self, now=None):
        try:
            task = self.huey.dequeue()
        except Exception as exc:  # noqa: BLE001 - the queue's storage is down: wait, then retry
            self.failures += 1
            wait = self.error_delay()
            if self.failures == 1:
                log.exception("De wachtrij is niet bereikbaar; de verwerker probeert het over %s s "
                              "opnieuw", wait)
            else:
                log.warning("De wachtrij is nog niet bereikbaar (poging %s, %s); volgende poging "
                            "over %s s", self.failures, type(exc).__name__, wait)
            self.stop_flag.wait(wait)
            return
        if self.failures:
            log.info("De wachtrij is weer bereikbaar (na %s pogingen)", self.failures)
            self.failures = 0
        if task is not None:
            self.delay = self.default_delay
            self.task_count += 1
            try:
                self.huey.execute(task, now)
            except Exception:  # noqa: BLE001 - a task's own failure is recorded on its letter
                log.exception("Taak %s is mislukt", task.id)
        elif not self.huey.storage.blocking:
            self.sleep()


def _prctl():
    """Linux's prctl(), looked up in the consumer before it forks (no dlopen in a child)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _die_with_parent(prctl, parent: int) -> None:
    """This process gets SIGKILL when its parent ends (PR_SET_PDEATHSIG)."""
    if prctl is None:
        return
    prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent ended before prctl
        os._exit(1)


class LetterConsumer(Consumer):
    """Huey's consumer, which also stops gracefully when the stop signal comes while it starts.

    Huey installs its signal handlers at the end of start(), after forking the worker
    processes; a SIGINT before that raised KeyboardInterrupt in the middle of start(), and at exit
    the daemonic workers, which wait for a stop flag that nobody set, were joined forever. From
    construction on, a signal is noted and handed to Huey's handler once start() is done."""

    worker_class = BackoffWorker

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._early_signals: list[int] = []
        for signum in self._signal_actions:
            signal.signal(signum, self._note_signal)
        if self.environment.forks:
            # A forked worker (or the scheduler) dies with the consumer: killed outright (SIGKILL,
            # the OOM killer), the consumer never sets the stop flag they wait for.
            init_child, parent, prctl = self.environment.init_child, os.getpid(), _prctl()

            def init_and_die_with_parent(process):
                init_child(process)
                _die_with_parent(prctl, parent)

            self.environment.init_child = init_and_die_with_parent

    def _note_signal(self, signum, frame) -> None:  # noqa: ARG002
        self._early_signals.append(signum)

    #: called once started, Huey's signal handlers in place (the worker command's "gestart")
    on_started = None

    def start(self) -> None:
        super().start()
        for signum in self._early_signals:
            self._handle_signal(signum, None)
        if self.on_started is not None:
            self.on_started()
