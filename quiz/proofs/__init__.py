"""Running proofs, and remembering what they showed: the one package that imports a card's proof module.

- ``run.run_claim`` runs one claim in this process and judges what it returned (numpy scalars made plain).
- ``workers.prove_in_workers`` is where every proof runs: a pool of long-lived workers (``worker``: torch
  imported once), one child process per card (``child``) whose claims run one after another with the process state
  put back between them, a hard wall-clock limit and memory cap, output captured; a claim is judged by the record
  sent back over a pipe.
- ``key.proof_key`` hashes everything a card's evidence depends on: its proof module, every module of the
  ``answers`` package it imports (transitively), the shared modules that judge it, and torch's version.
- ``records.ProofCache`` keeps each card's results and figures under that key, so ``quiz verify``, ``quiz show
  --answer``, the ``p`` key of ``quiz take`` and the site answer from the same records. Only a card whose
  every claim passed is cached: a failure may be an accident of the run, and is proved again next time.
- ``records.prove`` reads cards from the cache or proves them in the workers.

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
