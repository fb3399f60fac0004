"""Provider leftovers for the run's reports: swept by marker when workers were disposed of and
at the end of the run (procs/sweep.py), each named with its provider and calling case."""
from __future__ import annotations

from orchestrator.procs import markers
from orchestrator.procs.sweep import sweep, take_provider_leftovers
from orchestrator.result.model import ProviderLeak


def provider_leaks_after_run() -> tuple[ProviderLeak, ...]:
    """After the pools are closed: kill whatever still carries the run's marker, and report
    what provider calls and workers left (a warning; `provider_leaks: fail` plans have also
    failed the calling cases)."""
    sweep()
    return tuple(ProviderLeak(provider=left.mark.provider or "?", pid=left.pid, cmdline=left.cmdline,
                              plan=left.mark.plan,
                              case=None if left.mark.case in ("-", "") else markers.case_name(left.mark.case))
                 for left in take_provider_leftovers())


def describe(leaks: tuple[ProviderLeak, ...]) -> list[str]:
    """One line per provider: 'provider echo left 2 process(es) running (killed): pid 5 (sleep 60) [E2E-1]; ...'."""
    by_provider: dict[tuple[str, str], list[ProviderLeak]] = {}
    for leak in leaks:
        by_provider.setdefault((leak.plan, leak.provider), []).append(leak)
    lines = []
    for (plan, provider), found in by_provider.items():
        shown = "; ".join(f"pid {p.pid} ({p.cmdline[:200]})" + (f" [case {p.case}]" if p.case else "")
                          for p in found)
        lines.append(f"provider {provider} (plan {plan}) left {len(found)} process(es) running, now killed: {shown}")
    return lines
