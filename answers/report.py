"""The readable report ``python -m answers.<card_id>`` prints: every claim function of the module, run
once, with its measurement, the expected value and how it was derived, and the counterfactual."""

from __future__ import annotations

import inspect
import sys
import time
from types import ModuleType

from answers.evidence import Evidence, format_value


def claim_functions(module: ModuleType) -> list:
    """Public functions of ``module`` declared to return Evidence, in source order."""
    found = [
        fn
        for name, fn in vars(module).items()
        if inspect.isfunction(fn)
        and fn.__module__ == module.__name__
        and not name.startswith("_")
        and inspect.signature(fn).return_annotation in (Evidence, "Evidence")
    ]
    return sorted(found, key=lambda fn: fn.__code__.co_firstlineno)


def print_report(module_name: str) -> None:
    module = sys.modules[module_name]
    title = (module.__doc__ or module_name).strip().splitlines()[0]
    print(title)
    print("=" * len(title))
    failures = 0
    for fn in claim_functions(module):
        start = time.perf_counter()
        ev: Evidence = fn()
        seconds = time.perf_counter() - start
        verdict = "PROVED" if ev.proved else "NOT PROVED"
        failures += not ev.proved
        unit = f" {ev.unit}" if ev.unit else ""
        doc = " ".join((fn.__doc__ or "").strip().split("\n\n")[0].split())
        print(f"\n{fn.__name__.replace('_', ' ')}  [{verdict}, {seconds * 1000:.0f} ms]")
        if doc:
            print(f"  {doc}")
        print(f"  measured:        {format_value(ev.measured)}{unit}")
        print(f"  expected:        {ev.criterion()}{unit}   ({ev.derivation})")
        print(f"  holds:           {'yes' if ev.holds else 'NO'}")
        cf = "still holds: the check cannot tell" if ev.counterfactual_holds else "fails, as it must"
        print(f"  counterfactual:  {ev.counterfactual}: {format_value(ev.counterfactual_measured)}{unit} → {cf}")
        for key, value in ev.details.items():
            print(f"    {key}: {format_value(value)}")
    sys.exit(1 if failures else 0)
