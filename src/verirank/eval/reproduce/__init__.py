"""``make reproduce``: the stage-2 trade-off and every alternative, from shipped data, in one report.

Steps (each cached under ``runs/reproduce/<scale>/``, so a rerun resumes where it stopped):

* ``data``      near-miss pair sets (held-out human sets, hand-written triples, generated) and the
                capped relevance collections;
* ``finetune``  model B (MNRL on relevance pairs + structural identity triplets), its control A'
                (relevance pairs only, same steps), and a MiniLM-L6 cross-encoder on the verifier's
                identity training pairs;
* ``cnn``       a small CNN over the token cosine map of frozen MiniLM states, on the cross-encoder's
                pairs (the trained member of the F0 mean-sim / F1 MaxSim family);
* ``paradox``   A vs B vs A': nDCG@10 / Recall@100 on every collection (B also against A'), cosine
                near-miss separation;
* ``stage2``    every stage-2 system on model A's top-100: relevance, near-miss pairs and cost;
* ``report``    ``reports/reproduction.md`` and its PNG plots.

Heavy imports (torch, transformers, bm25s, matplotlib) load inside the functions that need them.
"""

from verirank.eval.reproduce.config import SCALES, ReproConfig

__all__ = ["ReproConfig", "SCALES"]
