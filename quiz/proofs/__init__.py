"""Running proofs, and remembering what they showed: the one package that imports a card's proof module.

- ``run.run_claim`` runs one claim with a time limit and judges what it returned. It is the seam for running each
  claim in a worker process of its own: callers only see the ``ClaimResult`` it sends back.
- ``key.proof_key`` hashes everything a card's evidence depends on: its proof module, every module of the
  ``answers`` package it imports (transitively), the shared modules that judge it, and torch's version.
- ``records.ProofCache`` keeps each card's results and figures under that key, so ``quiz verify``, ``quiz show
  --answer``, the ``p`` key of ``quiz take`` and the site answer from the same records. Only a card whose
  every claim passed is cached: a failure may be an accident of the run, and is proved again next time.
- ``records.prove`` runs (or reads) cards in this process; ``workers.prove_in_workers`` runs them in fresh
  processes.

torch is imported only through the proof modules, and only when a claim actually runs.
"""

from quiz.proofs.key import dependencies, proof_key, torch_version
from quiz.proofs.records import ProofCache, prove
from quiz.proofs.run import (
    CLAIM_TIMEOUT,
    ClaimResult,
    ClaimTimeout,
    ProvableCard,
    UntrustedAnswers,
    check_trust,
    proof_module,
    run_card,
    run_claim,
)
from quiz.proofs.workers import Job, prove_in_workers

__all__ = [
    "CLAIM_TIMEOUT",
    "ClaimResult",
    "ClaimTimeout",
    "Job",
    "ProofCache",
    "ProvableCard",
    "UntrustedAnswers",
    "check_trust",
    "dependencies",
    "proof_key",
    "proof_module",
    "prove",
    "prove_in_workers",
    "run_card",
    "run_claim",
    "torch_version",
]
