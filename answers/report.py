"""The readable report ``python -m answers.<card_id>`` prints: every claim function of the module, run
once, with its measurement, the expected value and how it was derived, and the counterfactual."""

from __future__ import annotations

import sys
import time

from answers.evidence import Evidence, evidence_text
from answers.protocol import claim_functions


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
        text = evidence_text(ev)
        doc = " ".join((fn.__doc__ or "").strip().split("\n\n")[0].split())
        print(f"\n{fn.__name__.replace('_', ' ')}  [{verdict}, {seconds * 1000:.0f} ms]")
        if doc:
            print(f"  {doc}")
        print(f"  measured:        {text.measured}")
        print(f"  expected:        {text.criterion}   ({text.derivation})")
        print(f"  holds:           {'yes' if text.holds else 'NO'}")
        outcome = text.counterfactual_outcome
        print(f"  counterfactual:  {text.counterfactual}: {text.counterfactual_measured} → {outcome}")
        for key, value in text.details.items():
            print(f"    {key}: {value}")
    sys.exit(1 if failures else 0)
