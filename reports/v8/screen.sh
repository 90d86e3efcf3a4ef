#!/bin/bash
# Screen a candidate checkpoint as reports/v8 did (seed 0), from the root of a *separate* git
# worktree of this repo (it overwrites that worktree's shipped checkpoint):
#   reports/v8/screen.sh runs/<run>/checkpoint runs/v7d OUT
# runs/v7d: `git archive 08b4705 src/verirank/checkpoints/verifier | tar -x --strip-components=4 -C runs/v7d`.
# The candidate gets v7d's fitted relevance settings (the keys a fresh run lacks) and its relevance
# reject threshold; then the demo, the held-out identity evaluation and the question groups.
set -eu
candidate=$1 previous=$2 out=$3
PY=${PY:-.venv/bin/python}
mkdir -p "$out"
$PY - "$candidate" "$previous" <<'PYEOF'
import json, shutil, sys
candidate, previous = sys.argv[1:]
new = json.load(open(f"{candidate}/verifier.json"))
old = json.load(open(f"{previous}/verifier.json"))
for key in set(old) - set(new):
    new[key] = old[key]
new["calibration"]["relevance"]["reject"] = old["calibration"]["relevance"]["reject"]
shutil.rmtree("src/verirank/checkpoints/verifier")
shutil.copytree(candidate, "src/verirank/checkpoints/verifier")
json.dump(new, open("src/verirank/checkpoints/verifier/verifier.json", "w"), indent=2)
PYEOF
$PY examples/demo.py > "$out/demo.txt" 2>&1
$PY benchmarks/eval_verifier.py --previous "$previous" --max-pairs 2000 --seed 0 --skip-ndcg --out "$out/eval"
$PY benchmarks/question_polarity.py --out "$out/question_polarity.json"
