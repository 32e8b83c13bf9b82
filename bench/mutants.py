"""Mutation check of the proofs: break the mechanism on purpose and see which claim notices.

    python bench/mutants.py [--only NAME ...] [--json PATH] [--jobs 2]        (or: make mutants)

Two families of mutants:

- **semantic**: a catalogue of the mistakes people make, each applied to `answers/reference.py` as an exact
  text replacement (remove the 1/√d_k scale, hide the causal diagonal, `repeat` for `repeat_interleave`...);
- **generic**: every arithmetic operator and numeric constant of every function in `answers/formulas/`, changed
  one at a time by an `ast` rewrite (`+`↔`-`, `*`↔`/`, `**`→`*`, `//`→`/`, a constant c → c + 1).

Each mutant runs in a copy of `answers/`; nothing in the working tree is touched. A mutant is *killed* when some
claim that holds on the real code stops holding on the mutant, or raises. Every mutant must be killed, or be listed
in `docs/mutants.md` with why it is equivalent; the run exits 1 if an unlisted one survives. Not part of
`make test`: it runs every claim once per semantic mutant (a few minutes on two cores).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DOC = PROJECT / "docs" / "mutants.md"


@dataclass(frozen=True)
class Mutant:
    name: str
    what: str
    file: str  # relative to answers/
    replacements: tuple[tuple[str, str], ...] = ()
    source: str | None = None  # the whole mutated file, for generic mutants
    function: str = ""  # the formula function a generic mutant changes (to pick the claims that can see it)


def semantic(name: str, what: str, *replacements: tuple[str, str]) -> Mutant:
    return Mutant(name, what, "reference.py", tuple(replacements))


SEMANTIC = [
    semantic(
        "no-sqrt-dk-scale",
        "attention scores without the 1/√d_k scale",
        (
            "return scores / math.sqrt(q.shape[-1]) if scale else scores",
            "return scores",
        ),
    ),
    semantic(
        "scale-by-d-k",
        "scores divided by d_k instead of √d_k",
        ("scores / math.sqrt(q.shape[-1])", "scores / q.shape[-1]"),
    ),
    semantic(
        "causal-mask-hides-diagonal",
        "the causal mask also hides the diagonal (token t sees 1 … t−1)",
        ("diagonal=0 if include_diagonal else -1", "diagonal=-1"),
    ),
    semantic(
        "causal-mask-shows-next-token",
        "the causal mask lets each token see one token ahead",
        ("diagonal=0 if include_diagonal else -1", "diagonal=1 if include_diagonal else -1"),
    ),
    semantic(
        "decoder-block-hides-diagonal",
        "the decoder block's mask over cache + new tokens hides each token from itself",
        (".tril(diagonal=past)", ".tril(diagonal=past - 1)"),
    ),
    semantic(
        "decoder-block-ignores-cache-offset",
        "new tokens' mask ignores the cached prefix (tril from 0 over past + n keys)",
        (".tril(diagonal=past)", ".tril(diagonal=0)"),
    ),
    semantic(
        "mask-fill-zero",
        "masked scores set to 0 instead of −∞",
        ("scores = scores.masked_fill(~mask, fill)", "scores = scores.masked_fill(~mask, 0.0)"),
    ),
    semantic(
        "mask-fill-minus-one",
        "a finite fill (−1) that is not far below the scores",
        (
            "*, scale: bool = True, fill: float = -math.inf\n) -> Tensor:",
            "*, scale: bool = True, fill: float = -1.0\n) -> Tensor:",
        ),
    ),
    semantic(
        "mask-after-softmax",
        "the mask applied after the softmax (weights zeroed, rows no longer sum to 1)",
        (
            "    if mask is not None:\n        scores = scores.masked_fill(~mask, fill)\n"
            "    return torch.softmax(scores, dim=-1)",
            "    weights = torch.softmax(scores, dim=-1)\n"
            "    return weights if mask is None else weights.masked_fill(~mask, 0.0)",
        ),
    ),
    semantic(
        "softmax-over-queries",
        "the softmax taken over the query axis",
        (
            "    return torch.softmax(scores, dim=-1)\n\n\ndef attend",
            "    return torch.softmax(scores, dim=-2)\n\n\ndef attend",
        ),
    ),
    semantic(
        "kv-repeat-not-interleave",
        "`repeat` instead of `repeat_interleave` when expanding KV heads for GQA",
        ("return x.repeat_interleave(n_rep, dim=1)", "return x.repeat(1, n_rep, 1, 1)"),
    ),
    semantic(
        "sinusoid-sin-cos-swapped",
        "cos on even dimensions, sin on odd",
        ("pe[:, 0::2] = torch.sin(positions * omega)", "pe[:, 0::2] = torch.cos(positions * omega)"),
        ("pe[:, 1::2] = torch.cos(positions * omega)", "pe[:, 1::2] = torch.sin(positions * omega)"),
    ),
    semantic(
        "sinusoid-frequencies-grow",
        "ω_i = base^(+2i/d) instead of base^(−2i/d)",
        (
            "omega = base ** (-torch.arange(0, d_model, 2, dtype=F64) / d_model)",
            "omega = base ** (torch.arange(0, d_model, 2, dtype=F64) / d_model)",
        ),
    ),
    semantic(
        "rope-frequencies-half-exponent",
        "θ_i = base^(−i/d) (index i over pairs, without the factor 2)",
        (
            "base ** (-torch.arange(0, d_head, 2, dtype=F64) / d_head)",
            "base ** (-torch.arange(0, d_head // 2, dtype=F64) / d_head)",
        ),
    ),
    semantic(
        "rope-not-a-rotation",
        "a sign error in the RoPE rotation (even·cos + odd·sin)",
        ("rotated[..., 0::2] = even * cos - odd * sin", "rotated[..., 0::2] = even * cos + odd * sin"),
    ),
    semantic(
        "rope-positions-off-by-one",
        "RoPE positions start at 1 instead of 0",
        ("angles = positions.to(F64)[:, None]", "angles = (positions.to(F64) + 1)[:, None]"),
    ),
    semantic(
        "rope-cache-offset-ignored",
        "a decode step rotates the new token as if it were at position 0",
        ("offset = 0 if cache is None else cache.length", "offset = 0"),
    ),
    semantic(
        "alibi-bias-rewards-distance",
        "ALiBi's bias added with the wrong sign",
        (
            "return -alibi_slopes(n_heads)[:, None, None] * distance.to(F64)",
            "return alibi_slopes(n_heads)[:, None, None] * distance.to(F64)",
        ),
    ),
    semantic(
        "alibi-slopes-from-zero",
        "slopes 2^(−8h/n) for h = 0 … n−1 (the first head gets slope 1)",
        ("for h in range(1, n_heads + 1)]", "for h in range(0, n_heads)]"),
    ),
    semantic(
        "kv-cache-forgets",
        "the KV cache keeps only the newest token's keys and values",
        ("self.keys = k if self.keys is None else torch.cat([self.keys, k], dim=2)", "self.keys = k"),
        ("self.values = v if self.values is None else torch.cat([self.values, v], dim=2)", "self.values = v"),
    ),
    semantic(
        "split-heads-by-view",
        "heads split with a bare view to (B, h, n, d_head), no transpose",
        (
            "return x.view(batch, n, n_heads, self.d_head).transpose(1, 2)",
            "return x.view(batch, n_heads, n, self.d_head)",
        ),
    ),
    semantic(
        "merge-heads-without-transpose",
        "heads merged with a reshape that skips the transpose back",
        (
            "out.transpose(1, 2).reshape(batch, n, self.n_heads * self.d_head)",
            "out.reshape(batch, n, self.n_heads * self.d_head)",
        ),
    ),
    semantic(
        "cross-attention-reads-itself",
        "cross-attention takes its keys and values from the decoder instead of the encoder",
        ("source = x if memory is None else memory", "source = x"),
    ),
    semantic(
        "attention-without-biases",
        "the attention projections built without biases",
        ("        bias: bool = True,\n        rope_base", "        bias: bool = False,\n        rope_base"),
    ),
    semantic(
        "ffn-without-activation",
        "the FFN's ReLU dropped (two linear maps collapse into one)",
        ("hidden = F.relu(hidden)", "hidden = hidden"),
    ),
    semantic(
        "swiglu-without-gate",
        "SwiGLU's gate multiplication dropped (SiLU of the up-projection only)",
        ("hidden = F.silu(self.gate(x)) * hidden", "hidden = F.silu(hidden)"),
    ),
    semantic(
        "rmsnorm-wrong-axis",
        "RMSNorm's mean of squares taken over the sequence instead of the features",
        ("x.pow(2).mean(-1, keepdim=True)", "x.pow(2).mean(-2, keepdim=True)"),
    ),
    semantic(
        "rmsnorm-no-root",
        "RMSNorm divides by the mean square instead of its root",
        ("torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)", "1 / (x.pow(2).mean(-1, keepdim=True) + self.eps)"),
    ),
    semantic(
        "post-norm-becomes-pre-norm",
        "the post-norm encoder layer's attention sublayer written pre-norm",
        (
            "x = self.norm1(x + self.self_attn(x, mask=mask))\n        return self.norm2",
            "x = x + self.self_attn(self.norm1(x), mask=mask)\n        return self.norm2",
        ),
    ),
    semantic(
        "encoder-drops-residual",
        "the encoder layer's attention sublayer without its residual connection",
        (
            "x = self.norm1(x + self.self_attn(x, mask=mask))\n        return self.norm2",
            "x = self.norm1(self.self_attn(x, mask=mask))\n        return self.norm2",
        ),
    ),
    semantic(
        "decoder-block-skips-norm",
        "the pre-norm decoder block feeds attention the un-normalised stream",
        ("x = x + self.attn(self.norm1(x), mask=mask, cache=cache)", "x = x + self.attn(x, mask=mask, cache=cache)"),
    ),
    semantic(
        "parameters-without-biases",
        "a parameter count that skips biases and norm gains (only matrices)",
        (
            "return sum(p.numel() for p in module.parameters())",
            "return sum(p.numel() for p in module.parameters() if p.dim() > 1)",
        ),
    ),
    semantic(
        "online-softmax-without-rescale",
        "the online softmax forgets to rescale earlier blocks when the running maximum rises",
        (
            "correction = torch.exp(running_max - new_max) if rescale else torch.ones_like(new_max)",
            "correction = torch.ones_like(new_max)",
        ),
    ),
    semantic(
        "online-softmax-keeps-first-maximum",
        "the online softmax never updates its running maximum (stale reference after the first block)",
        ("        running_max = new_max\n", "        running_max = running_max.clamp(min=new_max.amin())\n"),
    ),
    semantic(
        "linear-attention-without-normaliser",
        "kernelised attention without its φ(Q)·Σφ(k) normaliser",
        ("    return (phi_q @ state) / normaliser", "    return phi_q @ state"),
    ),
    semantic(
        "linear-attention-raw-features",
        "kernelised attention with the identity feature map (weights may be negative)",
        ("    return F.elu(x) + 1", "    return x"),
    ),
]


# --------------------------------------------------------------------------------------------------
# Generic mutants of answers/formulas/: one operator or constant at a time


OPERATOR_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult}
OPERATOR_SWAPS[ast.FloorDiv] = ast.Div


class _Nth(ast.NodeTransformer):
    """Rewrite the n-th mutable node (an operator or a numeric constant) inside one function."""

    def __init__(self, function: str, target: int) -> None:
        self.function, self.target, self.seen, self.what = function, target, -1, ""
        self.inside = False

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        if node.name != self.function:
            return node
        self.inside = True
        node.body = [self.visit(statement) for statement in node.body]  # the body only: defaults stay
        self.inside = False
        return node

    def _hit(self) -> bool:
        self.seen += 1
        return self.inside and self.seen == self.target

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if self.inside and type(node.op) in OPERATOR_SWAPS and self._hit():
            new = OPERATOR_SWAPS[type(node.op)]
            self.what = f"{ast.unparse(node)}: {type(node.op).__name__} → {new.__name__}"
            node.op = new()
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if self.inside and isinstance(value, int | float) and not isinstance(value, bool) and self._hit():
            self.what = f"constant {value!r} → {value + 1!r}"
            return ast.copy_location(ast.Constant(value + 1), node)
        return node


def generic_mutants(formulas: Path) -> list[Mutant]:
    mutants = []
    for path in sorted(formulas.glob("*.py")):
        if path.name.startswith("_"):  # __init__ and private helpers (_trace renders the working): not formulas
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in (n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")):
            target = 0
            while True:
                rewriter = _Nth(function, target)
                mutated = rewriter.visit(ast.parse(path.read_text(encoding="utf-8")))
                if not rewriter.what:
                    break
                name = f"{path.stem}.{function}#{target}"
                mutants.append(
                    Mutant(name, rewriter.what, f"formulas/{path.name}", source=ast.unparse(mutated), function=function)
                )
                target += 1
    return mutants


# --------------------------------------------------------------------------------------------------
# Running the claims against a mutant


CHILD = r"""
# One child process runs many mutants: torch is imported once, and each mutant's proof modules are imported
# afresh from the mutated copy (bytecode caching off, so a same-size rewrite within a second is not missed).
import importlib, json, signal, sys, yaml
from pathlib import Path
sys.dont_write_bytecode = True
root, questions, jobs = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.stdin.read())
sys.path.insert(0, str(root))
cards = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(questions.glob("*/*.yaml"))]

def expire(signum, frame):
    raise TimeoutError("claim ran past 30 s")

signal.signal(signal.SIGALRM, expire)

def run(only):
    for name in [m for m in sys.modules if m == "answers" or m.startswith("answers.")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    results = {}
    for card in cards:
        module_name = "answers." + card["id"].replace("-", "_")
        if only and module_name not in only:
            continue
        for claim in card["claims"]:
            key = card["id"] + "::" + claim["proof"]
            signal.alarm(30)
            try:
                evidence = getattr(importlib.import_module(module_name), claim["proof"])()
                results[key] = "holds" if evidence.holds else "fails"
            except BaseException as error:
                results[key] = "error: " + type(error).__name__ + ": " + str(error)[:120]
            finally:
                signal.alarm(0)
    return results

for job in jobs:
    target = root / "answers" / job["file"]
    original = target.read_text(encoding="utf-8") if job["file"] else None
    if job["file"]:
        target.write_text(job["source"], encoding="utf-8")
    try:
        print(json.dumps({"name": job["name"], "results": run(set(job["modules"]))}), flush=True)
    finally:
        if job["file"]:
            target.write_text(original, encoding="utf-8")
"""


def modules_using(function: str) -> list[str]:
    """The proof modules whose text names ``function``: only their claims can see a change to it."""
    pattern = re.compile(rf"\b{re.escape(function)}\b")
    return [
        f"answers.{p.stem}" for p in sorted((PROJECT / "answers").glob("*.py")) if pattern.search(p.read_text("utf-8"))
    ]


@dataclass
class Outcome:
    name: str
    what: str
    killed_by: list[str] = field(default_factory=list)

    @property
    def killed(self) -> bool:
        return bool(self.killed_by)


def mutated_source(mutant: Mutant) -> str:
    if mutant.source is not None:
        return mutant.source
    path = PROJECT / "answers" / mutant.file
    text = path.read_text(encoding="utf-8")
    for old, new in mutant.replacements:
        if text.count(old) != 1:
            raise SystemExit(f"mutant {mutant.name}: the text to replace occurs {text.count(old)} times in {path}")
        text = text.replace(old, new)
    return text


def run_batch(mutants: list[Mutant]) -> list[Outcome]:
    """Run the unmutated bank, then each mutant, in one child working on a private copy of answers/."""
    jobs = [{"name": "(baseline)", "file": "", "source": "", "modules": []}]
    jobs += [
        {
            "name": m.name,
            "file": m.file,
            "source": mutated_source(m),
            "modules": modules_using(m.function) if m.function else [],
        }
        for m in mutants
    ]
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        shutil.copytree(PROJECT / "answers", Path(tmp) / "answers", ignore=shutil.ignore_patterns("__pycache__"))
        done = subprocess.run(
            [sys.executable, "-c", CHILD, tmp, str(PROJECT / "questions")],
            input=json.dumps(jobs),
            capture_output=True,
            text=True,
            timeout=3600,
        )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines or lines[0]["name"] != "(baseline)":
        raise SystemExit(f"the mutant runner crashed: {done.stderr.strip()[-500:]}")
    baseline = lines[0]["results"]
    broken = sorted(k for k, v in baseline.items() if v != "holds")
    if broken:
        raise SystemExit(f"the unmutated bank has claims that do not hold: {', '.join(broken)}")
    finished = {line["name"]: line["results"] for line in lines[1:]}
    outcomes = []
    for m in mutants:
        if m.name not in finished:  # the child died on this mutant (a crash is a detection too)
            outcomes.append(Outcome(m.name, m.what, ["(the run crashed)"]))
            outcomes += [Outcome(rest.name, rest.what) for rest in mutants[mutants.index(m) + 1 :]]
            break
        results = finished[m.name]
        outcomes.append(Outcome(m.name, m.what, [k for k, v in results.items() if v != "holds"]))
    return outcomes


def equivalent_mutants() -> set[str]:
    """The mutants `docs/mutants.md` lists as equivalent: the rows of the table under "## Equivalent mutants" (and
    only there: a name in another table, such as the record of mutants since killed, excuses nothing), each
    starting with the mutant's name in backticks."""
    if not DOC.is_file():
        return set()
    section = re.search(r"^## Equivalent mutants\n(.*?)(?=^## |\Z)", DOC.read_text(encoding="utf-8"), re.M | re.S)
    return set(re.findall(r"^\| `([^`]+)` \|", section.group(1), flags=re.M)) if section else set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="run only the mutants with these names (or name prefixes)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2, one per core)")
    parser.add_argument("--json", type=Path, help="also write the outcomes here as JSON")
    parser.add_argument("--no-generic", action="store_true", help="skip the generic mutants of answers/formulas/")
    args = parser.parse_args()

    mutants = SEMANTIC + ([] if args.no_generic else generic_mutants(PROJECT / "answers" / "formulas"))
    if args.only:
        mutants = [m for m in mutants if any(m.name.startswith(prefix) for prefix in args.only)]
    print(f"{len(mutants)} mutants, in {args.jobs} child processes", flush=True)
    batches = [mutants[i :: args.jobs] for i in range(args.jobs)]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = [o for batch in pool.map(run_batch, batches) for o in batch]
    outcomes.sort(key=lambda o: [m.name for m in mutants].index(o.name))

    equivalent = equivalent_mutants()
    survivors = [o for o in outcomes if not o.killed]
    unexplained = [o for o in survivors if o.name not in equivalent]
    for o in outcomes:
        verdict = "killed" if o.killed else ("equivalent" if o.name in equivalent else "SURVIVED")
        first = o.killed_by[0] if o.killed_by else ""
        more = f" (+{len(o.killed_by) - 1})" if len(o.killed_by) > 1 else ""
        print(f"{verdict:10} {o.name:45} {first}{more}")
    semantic_names = {m.name for m in SEMANTIC}
    for label, group in (
        ("semantic (answers/reference.py)", [o for o in outcomes if o.name in semantic_names]),
        ("generic (answers/formulas/)", [o for o in outcomes if o.name not in semantic_names]),
    ):
        if group:
            killed = sum(o.killed for o in group)
            listed = sum(not o.killed and o.name in equivalent for o in group)
            print(f"{label}: {killed} of {len(group)} killed, {listed} listed as equivalent")
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=2) + "\n", encoding="utf-8")
    if unexplained:
        names = ", ".join(o.name for o in unexplained)
        raise SystemExit(f"{len(unexplained)} mutants survived and are not listed in docs/mutants.md: {names}")


if __name__ == "__main__":
    main()
