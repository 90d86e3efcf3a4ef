# Quick start: `make demo` and `make test` each set up .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast clean reports verifier

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not postgres"

clean:
	rm -rf $(VENV) build *.egg-info

# Every figure in README.md and reports/ (needs ../shared/data; slow: run it in the background).
reports: $(STAMP)
	$(BIN)/python benchmarks/eval_verifier.py --seed 0 --out reports/verifier_eval
	$(BIN)/python benchmarks/eval_verifier.py --checkpoint runs/ablation_frozen/checkpoint --seed 0 --skip-ndcg \
		--out reports/verifier_eval_ablation_frozen_head
	$(BIN)/python benchmarks/verify_latency.py --seed 0 --out reports/bench/verify_latency.json
	$(BIN)/python benchmarks/index_npl.py --out reports/bench/index_npl.json
	$(BIN)/verirank profile --corpus ../shared/data/cranfield/corpus.jsonl.gz \
		--queries ../shared/data/cranfield/queries.jsonl --qrels ../shared/data/cranfield/qrels/test.tsv \
		--generated-anchors 5000 --seed 0 --out reports/profile_cranfield_minilm
	$(BIN)/python benchmarks/audit_nearmiss.py summarize --out reports/nearmiss_audit/round3
	$(BIN)/python benchmarks/audit_nearmiss.py summarize --out reports/nearmiss_audit/round4 \
		--earlier reports/nearmiss_audit/round3
	$(BIN)/python benchmarks/audit_nearmiss.py summarize --out reports/nearmiss_audit/round5 \
		--earlier reports/nearmiss_audit/round1 reports/nearmiss_audit/round2 reports/nearmiss_audit/round3 \
		reports/nearmiss_audit/round4
	$(BIN)/python benchmarks/audit_nearmiss.py summarize --out reports/nearmiss_audit/round6 \
		--earlier $(foreach r,1 2 3 4 5,reports/nearmiss_audit/round$(r))
	$(BIN)/python benchmarks/audit_nearmiss.py summarize --out reports/nearmiss_audit/round7 \
		--earlier $(foreach r,1 2 3 4 5 6,reports/nearmiss_audit/round$(r))
	$(BIN)/python benchmarks/audit_nearmiss.py summarize --out reports/nearmiss_audit/round8 \
		--earlier $(foreach r,1 2 3 4 5 6 7,reports/nearmiss_audit/round$(r))
	$(BIN)/python benchmarks/audit_nearmiss.py summarize --out reports/nearmiss_audit/round9 \
		--earlier $(foreach r,1 2 3 4 5 6 7 8,reports/nearmiss_audit/round$(r))
	$(BIN)/python benchmarks/audit_nearmiss.py summarize --out reports/nearmiss_audit/round10 \
		--earlier $(foreach r,1 2 3 4 5 6 7 8 9,reports/nearmiss_audit/round$(r))
	$(BIN)/python benchmarks/audit_nearmiss.py summarize --out reports/nearmiss_audit/round11 \
		--earlier $(foreach r,1 2 3 4 5 6 7 8 9 10,reports/nearmiss_audit/round$(r))
	$(BIN)/python benchmarks/audit_nearmiss.py summarize --out reports/nearmiss_audit/round12 \
		--earlier $(foreach r,1 2 3 4 5 6 7 8 9 10 11,reports/nearmiss_audit/round$(r))

# The shipped verifier checkpoint (about 25 min on 2 cores), then its held-out card.
verifier: $(STAMP)
	$(BIN)/verirank train --config configs/verifier.json --out runs/verifier
	rm -rf src/verirank/checkpoints/verifier && cp -r runs/verifier/checkpoint src/verirank/checkpoints/verifier
	$(BIN)/python benchmarks/tune_rerank.py --apply --out reports/bench/tune_rerank.json
	$(BIN)/python benchmarks/eval_verifier.py --seed 0 --out reports/verifier_eval --update-card
