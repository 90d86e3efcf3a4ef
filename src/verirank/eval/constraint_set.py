"""Exclusion-query ("constraint") sets built from a judged BEIR collection, deterministically.

Each query of the collection becomes "<query>, but not mentioning <term>"; relevant documents that
mention the term lose their relevance (grade 0) and are listed as *violating*. Comparing a ranking's
nDCG on these judgements, and where the violating documents land, measures whether stage-2
verification demotes documents that break a query's exclusion.

The construction rule is ``RULE_TEMPLATE`` below: eight numbered steps (relevant set, mentions,
candidate terms, filters, choice, query, judgements, size) whose ``{...}`` thresholds are
:class:`ExclusionRule` fields, filled in by :func:`describe_rule` and stored with every set.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from verirank._version import __version__
from verirank.errors import ConfigError, InputError
from verirank.index.ondisk import file_digest
from verirank.mentions import noun_forms, term_forms
from verirank.types import Document

log = logging.getLogger(__name__)

FORMAT = "verirank-constraint-set"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CONSTRAINTS = "constraints.jsonl"
CUES = ("but not mentioning {term}", "but not about {term}", "excluding {term}", "without mentioning {term}")
# Words that say nothing about a topic, on top of spaCy's stop words (corpus frequency catches the rest).
GENERIC_WORDS = frozenset("""
    paper study result method case problem number value way use work type form part order term effect
    example fact kind basis respect author article report purpose question information data area field
    range set point level time year amount means aspect factor feature condition quantity procedure
    technique investigation discussion description comparison consideration attention interest importance
    need possibility development application mention thing lot approach account addition regard view
    other new same different various several certain such present possible general particular specific
    high low large small good great many few little much first second third last further recent
    previous similar important main major total whole available usual given following due
    history determination expression evaluation estimation summary review survey introduction
    conclusion note detail attempt extent manner situation consequence difficulty idea concept
    emphasis existence presence absence role nature character
""".split())
_WORD = re.compile(r"[^\W_]+")
_JOINER = re.compile(r"[\s-]+")
_TRAILING = " \t\n.?!;:"
# The construction rule, written out; stored (filled in) in every set's manifest.
RULE_TEMPLATE = """\
1. Relevant set. For each query q, in the order of the queries file, R = its judged documents with
   grade > 0 that are in the corpus. Skip q when |R| < {min_relevant}.
2. Mentions. A document mentions a term Y when its text (title + text), lower-cased and split into
   words (maximal runs of letters and digits), contains the words of Y in order and adjacent,
   separated by nothing but spaces or hyphens; the last word may take any noun form of its lemma
   (the forms in the lemminflect lexicon, plus the regular plural in -s, -es or -ies).
3. Candidates. Y is a candidate when the spaCy parse of a document in R holds it: the lemma of a
   noun (one word), or the lemma of a noun with the word right before it (or right before a hyphen
   before it) when that word is a compound or adjectival modifier of the noun (two words, the
   modifier as written). The lemma is spaCy's when the lemminflect lexicon lists it among the
   word's noun lemmas or does not know the word, else the lexicon's first noun lemma; a word the
   lexicon knows, but not as a noun ("semantic", "operating"), is no noun. Every word of Y is alphabetic, has at least {min_word_chars} letters, is
   neither a spaCy stop word nor in GENERIC_WORDS (listed in the manifest). No word of Y, nor any
   of its noun forms, is a word of q or the spaCy lemma of one, or shares its first
   {query_prefix_chars} letters with one; a one-word Y is not the initials of 2 to 6 consecutive
   words of q (an acronym, "sle" for "systemic lupus erythematosus").
4. Filters. Keep Y when at most {max_doc_share} of the corpus documents mention it; when m, the
   number of documents of R that mention Y, satisfies 1 <= m <= floor({max_violating_share} * |R|)
   and |R| - m >= {min_kept}; and when every document of R whose parse holds Y also mentions Y by
   rule 2 (no inflection that rule 2 would miss).
5. Choice. Among the kept candidates, those with the largest m split R most evenly; one of them is
   drawn by rng.choice over their sorted list, rng = random.Random("<seed>:<query id>"). Skip q
   when no candidate is kept.
6. Query. Strip trailing spaces and . ? ! ; : from q, then append ", " and a cue drawn by
   rng.choice from: {cues}.
7. Judgements. The documents of R that mention Y get grade 0 and are the violating documents; every
   other judgement of q keeps its grade. Query ids are kept, so runs pair with the original queries.
8. Size. With max_queries, queries are visited in the file order shuffled by random.Random(seed),
   and construction stops after max_queries kept queries; the output keeps the file order.
"""


@dataclass(frozen=True)
class ExclusionRule:
    """The thresholds of the construction rule (see the module docstring)."""

    min_relevant: int = 3  # |R| needed to build a query from q
    min_kept: int = 2  # relevant documents left that do not mention the term
    max_violating_share: float = 0.5  # at most this share of R may mention the term
    max_doc_share: float = 0.05  # terms in more of the corpus are too generic
    min_word_chars: int = 3
    query_prefix_chars: int = 5  # a term word sharing this many first letters with a query word overlaps it
    cues: tuple[str, ...] = CUES

    def validate(self) -> None:
        if self.min_relevant < self.min_kept + 1 or self.min_kept < 1:
            raise ConfigError(f"min_relevant={self.min_relevant}, min_kept={self.min_kept}; need "
                              "min_kept >= 1 and min_relevant >= min_kept + 1 (one document must violate)")
        if not 0.0 < self.max_violating_share < 1.0 or not 0.0 < self.max_doc_share <= 1.0:
            raise ConfigError(f"max_violating_share={self.max_violating_share}, max_doc_share="
                              f"{self.max_doc_share}; give shares in (0, 1), e.g. 0.5 and 0.05")
        if not self.cues or any("{term}" not in c for c in self.cues):
            raise ConfigError(f"cues={self.cues!r}; every cue needs a '{{term}}' slot, e.g. 'excluding {{term}}'")


def describe_rule(rule: ExclusionRule | None = None) -> str:
    """The written construction rule with ``rule``'s thresholds filled in, one line per step."""
    rule = rule or ExclusionRule()
    values = asdict(rule) | {"cues": " / ".join(f'"{c.format(term="Y")}"' for c in rule.cues),
                             "max_doc_share": f"{rule.max_doc_share:.0%}"}
    steps = re.split(r"\n(?=\d+\. )", RULE_TEMPLATE.strip())
    return "\n".join(" ".join(step.split()) for step in steps).format(**values)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConstraintCounts(_Frozen):
    """Size of a constraint set: queries, and per-query means of relevant and violating documents."""

    queries: int
    mean_relevant_before: float  # |R| of the source query
    mean_relevant: float  # relevant documents left (grade > 0)
    mean_violating: float


class ConstraintSet(_Frozen):
    """Exclusion queries with judgements; ``qrels[qid][doc_id] = grade``, violating documents at 0."""

    source: str = ""
    seed: int = 0
    rule: str
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    excluded: dict[str, str]  # the excluded term Y of each query
    violating: dict[str, list[str]]  # relevant documents of the source query that mention Y
    original_queries: dict[str, str] = {}
    cues: dict[str, str] = {}  # the cue template used, e.g. "excluding {term}"
    settings: dict[str, Any] = {}  # ExclusionRule fields, max_queries, parser model

    def counts(self) -> ConstraintCounts:
        n = len(self.queries)
        kept = [sum(g > 0 for g in self.qrels.get(q, {}).values()) for q in self.queries]
        violating = [len(self.violating.get(q, [])) for q in self.queries]
        return ConstraintCounts(
            queries=n,
            mean_relevant_before=sum(a + b for a, b in zip(kept, violating)) / n if n else 0.0,
            mean_relevant=sum(kept) / n if n else 0.0,
            mean_violating=sum(violating) / n if n else 0.0,
        )


# ---- mentions (rule 2: verirank.mentions) ---------------------------------------------------
def _word_grams(text: str) -> tuple[set[str], set[str]]:
    """Words and joined word pairs ("boundary layer" from "boundary-layer") of a lower-cased text."""
    lower = text.lower()
    words = list(_WORD.finditer(lower))
    bigrams = {f"{a.group()} {b.group()}" for a, b in zip(words, words[1:])
               if _JOINER.fullmatch(lower, a.end(), b.start())}
    return {w.group() for w in words}, bigrams


class _MentionIndex:
    """Which documents mention a term (rule 2), from word and word-pair postings of the corpus."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.size = len(texts)
        self.postings: dict[str, set[str]] = {}
        for doc_id, text in texts.items():
            unigrams, bigrams = _word_grams(text)
            for gram in unigrams | bigrams:
                self.postings.setdefault(gram, set()).add(doc_id)
        self._cache: dict[str, frozenset[str]] = {}

    def docs(self, term: str) -> frozenset[str]:
        if term not in self._cache:
            found: set[str] = set()
            for form in term_forms(term):
                found |= self.postings.get(form, set())
            self._cache[term] = frozenset(found)
        return self._cache[term]


# ---- candidates -----------------------------------------------------------------------------
def _valid_word(word: str, rule: ExclusionRule, stop_words: frozenset[str]) -> bool:
    return (word.isalpha() and len(word) >= rule.min_word_chars and word not in stop_words
            and word not in GENERIC_WORDS)


def _noun_lemma(tok: Any) -> str | None:
    """Rule 3's lemma of a token spaCy tags NOUN, or None when the lexicon knows it only otherwise."""
    from verirank.nearmiss._nlp import _lemminflect

    known = _lemminflect().getAllLemmas(tok.lower_)
    if not known:
        return tok.lemma_.lower()
    nouns = [w.lower() for w in known.get("NOUN", ())]
    if not nouns:
        return None
    return tok.lemma_.lower() if tok.lemma_.lower() in nouns else nouns[0]


def candidate_terms(parsed: Any, rule: ExclusionRule, stop_words: frozenset[str]) -> set[str]:
    """Rule 3's one- and two-word noun terms of a spaCy ``Doc`` (before the query-overlap check)."""
    terms: set[str] = set()
    for tok in parsed:
        lemma = _noun_lemma(tok) if tok.pos_ == "NOUN" else None
        if lemma is None or not _valid_word(lemma, rule, stop_words):
            continue
        terms.add(lemma)
        prev = parsed[tok.i - 1] if tok.i > 0 else None
        if prev is not None and prev.text == "-" and tok.i > 1:
            prev = parsed[tok.i - 2]
        if (prev is not None and prev.i in {c.i for c in tok.children} and prev.dep_ in ("compound", "amod")
                and prev.pos_ in ("NOUN", "PROPN", "ADJ") and _valid_word(prev.lower_, rule, stop_words)):
            terms.add(f"{prev.lower_} {lemma}")
    return terms


@dataclass(frozen=True)
class _QueryOverlap:
    """What a term may not share with the query (rule 3): words, lemmas, word prefixes, acronyms."""

    words: frozenset[str]
    prefixes: frozenset[str]
    acronyms: frozenset[str]
    prefix_chars: int

    @classmethod
    def of(cls, query: str, parsed: Any, prefix_chars: int) -> _QueryOverlap:
        ordered = _WORD.findall(query.lower())
        words = set(ordered) | {t.lemma_.lower() for t in parsed}
        letters = [w for w in ordered if w.isalpha()]
        acronyms = {"".join(w[0] for w in letters[i:i + n]) for n in range(2, 7) for i in range(len(letters) - n + 1)}
        prefixes = {w[:prefix_chars] for w in words if len(w) >= prefix_chars}
        return cls(frozenset(words), frozenset(prefixes), frozenset(acronyms), prefix_chars)

    def overlaps(self, term: str) -> bool:
        words = term.split()
        if len(words) == 1 and words[0] in self.acronyms:
            return True
        for word in words:
            forms = noun_forms(word)
            if forms & self.words or any(f[: self.prefix_chars] in self.prefixes for f in forms
                                         if len(f) >= self.prefix_chars):
                return True
        return False


class _Choice(NamedTuple):
    query: str  # the exclusion query
    term: str
    cue: str
    violating: list[str]


def _as_texts(corpus: Sequence[Document] | Mapping[str, str]) -> dict[str, str]:
    if isinstance(corpus, Mapping):
        return {str(k): str(v) for k, v in corpus.items()}
    return {d.id: d.text for d in corpus}


# ---- construction ---------------------------------------------------------------------------
def build_exclusion_queries(
    corpus: Sequence[Document] | Mapping[str, str],
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    seed: int = 0,
    max_queries: int | None = None,
    *,
    rule: ExclusionRule | None = None,
    source: str = "",
) -> ConstraintSet:
    """Exclusion queries and judgements by the module's rule; ``corpus`` is Documents (their text
    holds title + text, as :func:`verirank.datasets.load_beir` gives) or ``{doc_id: text}``."""
    rule = rule or ExclusionRule()
    rule.validate()
    if max_queries is not None and max_queries < 1:
        raise ConfigError(f"max_queries={max_queries}; give a positive number or None for every query")
    from spacy.lang.en.stop_words import STOP_WORDS

    from verirank.nearmiss._nlp import model_id, nlp

    texts = _as_texts(corpus)
    if not texts:
        raise InputError("the corpus is empty; pass the documents the qrels refer to")
    index = _MentionIndex(texts)
    stop_words = frozenset(STOP_WORDS)
    parsed_terms: dict[str, set[str]] = {}  # doc id -> rule-3 terms, parsed once

    def terms_of(doc_ids: Iterable[str]) -> None:
        todo = [d for d in doc_ids if d not in parsed_terms]
        for doc_id, parsed in zip(todo, nlp().pipe((texts[d] for d in todo), batch_size=32, disable=["ner"])):
            parsed_terms[doc_id] = candidate_terms(parsed, rule, stop_words)

    order = list(queries)
    if max_queries is not None:
        random.Random(seed).shuffle(order)
    built: dict[str, _Choice] = {}
    for qid in order:
        if max_queries is not None and len(built) >= max_queries:
            break
        relevant = sorted(d for d, g in qrels.get(qid, {}).items() if g > 0 and d in texts)
        if len(relevant) < rule.min_relevant:
            continue
        terms_of(relevant)
        overlap = _QueryOverlap.of(queries[qid], nlp()(queries[qid], disable=["ner"]), rule.query_prefix_chars)
        choice = _choose_term(qid, queries[qid], overlap, relevant, parsed_terms, index, rule, seed)
        if choice is not None:
            built[qid] = choice

    kept = [q for q in queries if q in built]
    new_qrels = {}
    for qid in kept:
        violating = set(built[qid].violating)
        new_qrels[qid] = {d: (0 if d in violating else int(g)) for d, g in qrels[qid].items()}
    log.info("%s: %d of %d queries made exclusion queries", source or "corpus", len(kept), len(queries))
    settings = asdict(rule) | {"cues": list(rule.cues), "max_queries": max_queries, "parser": model_id(),
                               "generic_words": sorted(GENERIC_WORDS)}
    return ConstraintSet(
        source=source, seed=seed, rule=describe_rule(rule), settings=settings,
        queries={q: built[q].query for q in kept}, qrels=new_qrels,
        excluded={q: built[q].term for q in kept}, violating={q: built[q].violating for q in kept},
        original_queries={q: queries[q] for q in kept}, cues={q: built[q].cue for q in kept},
    )


def _choose_term(
    qid: str, query: str, overlap: _QueryOverlap, relevant: list[str], parsed_terms: Mapping[str, set[str]],
    index: _MentionIndex, rule: ExclusionRule, seed: int,
) -> _Choice | None:
    """The term, cue and exclusion query of rules 3-6, or None when no term qualifies."""
    max_violating = math.floor(rule.max_violating_share * len(relevant))
    proposed: dict[str, set[str]] = {}
    for doc_id in relevant:
        for term in parsed_terms[doc_id]:
            proposed.setdefault(term, set()).add(doc_id)
    best: list[str] = []
    best_m = 0
    for term, proposers in proposed.items():
        if overlap.overlaps(term):
            continue
        docs = index.docs(term)
        if len(docs) > rule.max_doc_share * index.size or not proposers <= docs:
            continue
        m = sum(d in docs for d in relevant)
        if not 1 <= m <= max_violating or len(relevant) - m < rule.min_kept:
            continue
        if m > best_m:
            best, best_m = [term], m
        elif m == best_m:
            best.append(term)
    if not best:
        return None
    rng = random.Random(f"{seed}:{qid}")
    term = rng.choice(sorted(best))
    cue = rng.choice(rule.cues)
    docs = index.docs(term)
    new_query = f"{query.rstrip(_TRAILING)}, {cue.format(term=term)}"
    return _Choice(new_query, term, cue, [d for d in relevant if d in docs])


# ---- on disk --------------------------------------------------------------------------------
def write_constraint_set(
    cs: ConstraintSet, out_dir: str | Path, *, corpus_file: str | Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``cs`` as a BEIR folder (queries.jsonl, qrels/test.tsv) plus constraints.jsonl and
    manifest.json; with ``corpus_file`` the source corpus is copied in, so :func:`load_beir` reads
    the folder as it is. Written to a temp folder, then renamed over ``out_dir``."""
    out = Path(out_dir)
    tmp = out.parent / f".tmp-{out.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "qrels").mkdir(parents=True)
    with (tmp / "queries.jsonl").open("w", encoding="utf-8") as f:
        for qid, text in cs.queries.items():
            f.write(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) + "\n")
    with (tmp / "qrels" / "test.tsv").open("w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for qid, docs in cs.qrels.items():
            for doc_id, grade in docs.items():
                f.write(f"{qid}\t{doc_id}\t{grade}\n")
    with (tmp / CONSTRAINTS).open("w", encoding="utf-8") as f:
        for qid in cs.queries:
            row = {"qid": qid, "excluded": cs.excluded[qid], "violating": cs.violating[qid],
                   "cue": cs.cues.get(qid, ""), "original_text": cs.original_queries.get(qid, "")}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    if corpus_file is not None:
        source = Path(corpus_file)
        shutil.copyfile(source, tmp / ("corpus.jsonl.gz" if source.suffix == ".gz" else "corpus.jsonl"))
    files = sorted(p for p in tmp.rglob("*") if p.is_file())
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "verirank_version": __version__,
        "source": cs.source, "seed": cs.seed, "rule": cs.rule, "settings": cs.settings,
        "counts": cs.counts().model_dump(),
        "files": {p.relative_to(tmp).as_posix(): file_digest(p) for p in files},
        **dict(extra or {}),
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if out.exists():
        old = out.parent / f".old-{out.name}-{os.getpid()}"
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        os.rename(tmp, out)
    return out


def load_constraint_set(directory: str | Path) -> ConstraintSet:
    """Read a folder written by :func:`write_constraint_set`, checking format and checksums."""
    from verirank.datasets.beir import load_qrels, load_queries

    root = Path(directory)
    if not (root / MANIFEST).is_file():
        raise InputError(f"{root} has no {MANIFEST}; point at a folder written by write_constraint_set")
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise InputError(f"{root / MANIFEST}: format {manifest.get('format')!r} is not {FORMAT!r}")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise InputError(f"{root} has format version {manifest['format_version']}, newer than this verirank "
                         f"reads ({FORMAT_VERSION}); upgrade verirank")
    for name, digest in manifest.get("files", {}).items():
        if not (root / name).is_file() or file_digest(root / name) != digest:
            raise InputError(f"{root / name} is missing or differs from its manifest checksum; rebuild the set")
    queries = load_queries(root / "queries.jsonl")
    qrels = load_qrels(root / "qrels" / "test.tsv")
    excluded, violating, cues, originals = {}, {}, {}, {}
    for line in (root / CONSTRAINTS).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            qid = str(row["qid"])
            excluded[qid], violating[qid] = row["excluded"], list(row["violating"])
            cues[qid], originals[qid] = row.get("cue", ""), row.get("original_text", "")
    return ConstraintSet(source=manifest.get("source", ""), seed=int(manifest.get("seed", 0)),
                         rule=manifest["rule"], settings=manifest.get("settings", {}), queries=queries, qrels={q: qrels.get(q, {}) for q in queries},
                         excluded=excluded, violating=violating, original_queries=originals, cues=cues)


__all__ = [
    "ConstraintCounts",
    "ConstraintSet",
    "ExclusionRule",
    "build_exclusion_queries",
    "candidate_terms",
    "describe_rule",
    "load_constraint_set",
    "write_constraint_set",
]
