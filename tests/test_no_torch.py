"""The quiz's everyday commands never import torch: only running a proof does."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from quiz.cli import main
try:
    main({args!r}, standalone_mode=False)
finally:
    print("TORCH" if "torch" in sys.modules else "NO-TORCH", file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["list"], ["check"], ["list", "--json"]])
def test_command_does_not_import_torch(args):
    done = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, timeout=60)
    assert done.stderr.strip().splitlines()[-1] == "NO-TORCH", done.stderr


def test_the_probe_can_tell_a_process_that_imported_torch():
    probe = "import answers.causal_masking\n" + PROBE.format(args=["list"])
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stderr.strip().splitlines()[-1] == "TORCH", done.stderr


def test_verify_runs_the_proofs_in_workers_and_never_imports_torch_itself():
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=["verify", "causal-masking", "--json", "--fresh"])],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert '"passed": true' in done.stdout and done.stderr.strip().splitlines()[-1] == "NO-TORCH", done.stderr


WARM_PROBE = """
import sys
from quiz.cli import main
try:
    main({args!r}, standalone_mode=False)
finally:
    heavy = sorted(name for name in ("torch", "pydantic", "yaml") if name in sys.modules)
    print("HEAVY:" + ",".join(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["show", "causal-masking"], ["stats"]])
def test_reading_commands_on_a_warm_card_cache_import_neither_torch_pydantic_nor_yaml(args):
    def heavy() -> str:
        probe = WARM_PROBE.format(args=args)
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
        return done.stderr.strip().splitlines()[-1]

    assert heavy() == "HEAVY:pydantic,yaml", "the first run builds the card cache, so the probe can tell"
    assert heavy() == "HEAVY:"
