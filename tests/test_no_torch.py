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


def test_verify_does_import_torch_so_the_probe_can_tell():
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=["verify", "causal-masking", "--json"])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stderr.strip().splitlines()[-1] == "TORCH", done.stderr
