"""Near-miss generator: seven structural categories plus paraphrase positives (spaCy, lazy)."""
