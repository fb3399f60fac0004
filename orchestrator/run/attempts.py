"""One case, run to its result: its attempts (re-run while it fails or errors, up to
`retries`), or its repetitions (`repeat`, `concurrency` of them at once), each attempt run by
run/case.run_attempt. The engine (run/engine.py) decides when and on which job a case runs."""
from __future__ import annotations

import threading
from dataclasses import replace
from typing import Mapping

from orchestrator.plan.model import CaseSpec, Plan
from orchestrator.procs.api import Pool
from orchestrator.procs.memory import PeakSampler
from orchestrator.result.model import Attempt, CaseResult, Status
from orchestrator.run.case import finish_case, run_attempt, unrun_case


_RETRIED = (Status.FAILED, Status.ERROR)


class CaseRunner:
    """Runs the engine's cases; keeps each finished attempt's peak RSS (what `-j auto` sizes by)."""

    def __init__(self, stop: threading.Event, environ: Mapping[str, str], repeat: int | None) -> None:
        self.stop = stop
        self.environ = environ  # what `env` shows every case's templates
        self.repeat = repeat  # `--repeat`: every case's `repeat`
        self.sampler: PeakSampler | None = None  # while the run samples its processes' memory
        self.peaks: list[int] = []

    def run(self, plan: Plan, case: CaseSpec, pools: Mapping[str, Pool], job: int) -> CaseResult:
        if self.stop.is_set():
            return unrun_case(plan, case, Status.INTERRUPTED, "not run: the run was interrupted")
        if case.skip is not None:
            return unrun_case(plan, case, Status.SKIPPED, case.skip)
        if self.repeat is not None:
            case = replace(case, repeat=self.repeat)
        if case.repeat > 1:
            attempts = self._repeat(plan, case, pools, job)
            if not attempts:
                return unrun_case(plan, case, Status.INTERRUPTED, "not run: the run was interrupted")
        else:
            attempts = self._with_retries(plan, case, pools, job)
        return finish_case(plan, case, attempts)

    def _with_retries(self, plan: Plan, case: CaseSpec, pools: Mapping[str, Pool], job: int) -> list[Attempt]:
        """One run of the case, re-run up to `retries` times while it fails or errors."""
        attempts = [self._attempt(plan, case, pools, job)]
        while (attempts[-1].status in _RETRIED and len(attempts) <= case.retries
               and not self.stop.is_set()):
            attempts.append(self._attempt(plan, case, pools, job))
        return attempts

    def _attempt(self, plan: Plan, case: CaseSpec, pools: Mapping[str, Pool], job: int) -> Attempt:
        attempt = run_attempt(plan, case, pools, self.stop, job, self.sampler, self.environ)
        if attempt.peak_rss_bytes:
            self.peaks.append(attempt.peak_rss_bytes)
        return attempt

    def _repeat(self, plan: Plan, case: CaseSpec, pools: Mapping[str, Pool], job: int) -> list[Attempt]:
        """`repeat` runs, `concurrency` of them at once (a stress test when more than one).

        Each repetition may retry (`retries`), so `--repeat 20` on a plan with retries hunts
        flakes: every attempt is kept, and attempts that disagree make the case flaky.
        With `stop_on_failure: true` no repetition starts after an attempt did not pass.
        """
        stop_on_failure = case.stop_on_failure
        failed = threading.Event()

        def one(_: int) -> list[Attempt]:
            if self.stop.is_set() or failed.is_set():
                return []
            attempts = self._with_retries(plan, case, pools, job)
            if stop_on_failure and any(a.status is not Status.PASSED for a in attempts):
                failed.set()
            return attempts

        if case.concurrency <= 1:
            found = [one(i) for i in range(case.repeat)]
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=case.concurrency, thread_name_prefix="repeat") as executor:
                found = list(executor.map(one, range(case.repeat)))
        return [a for repetition in found for a in repetition]
