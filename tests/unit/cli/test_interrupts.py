"""A stop signal stops the run whichever thread the kernel delivers it to."""
from __future__ import annotations

import signal
import threading

from orchestrator.cli.interrupts import Interrupts


def test_a_signal_delivered_to_another_thread_sets_stop_while_the_main_thread_is_blocked() -> None:
    # Python runs signal handlers in the main thread only, and a signal delivered to another
    # thread does not wake a main thread blocked on a lock: a run waiting for a `parallel`
    # step's sub-steps hung there. The watcher reads the signal from the wakeup pipe instead.
    interrupts = Interrupts().install()
    parked = threading.Event()
    release = threading.Event()

    def park() -> None:
        parked.set()
        release.wait(10)

    helper = threading.Thread(target=park, daemon=True)
    helper.start()
    try:
        assert parked.wait(5)
        assert helper.ident is not None
        signal.pthread_kill(helper.ident, signal.SIGUSR1)
        assert interrupts.stop.wait(3)  # the main thread blocked on a lock all along
        assert interrupts.stop.signum == signal.SIGUSR1
    finally:
        release.set()
        helper.join()
        interrupts.restore()
