"""Stage 2: the near-miss verifier (torch is imported only when a checkpoint loads)."""
