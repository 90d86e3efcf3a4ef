"""Word-pair flips shared by the lexical categories (spatial, comparative, exclusion)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from verirank.nearmiss.base import Perturbation, match_case, replace_spans
from verirank.types import Category


def symmetric(pairs: Mapping[str, str]) -> dict[str, str]:
    out = dict(pairs)
    out.update({v: k for k, v in pairs.items()})
    return out


def flip_one(doc: Any, rng: random.Random, table: Mapping[str, str], category: Category,
             allowed: Callable[[Any], bool] = lambda t: True) -> Perturbation | None:
    """Flip one (seeded choice) token found in ``table``; ``allowed`` filters by parse."""
    spots = [t for t in doc if t.lower_ in table and allowed(t)]
    if not spots:
        return None
    t = rng.choice(spots)
    return replace_spans(doc.text, [(t.idx, t.idx + len(t.text), match_case(table[t.lower_], t.text))], category)
