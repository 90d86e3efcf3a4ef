"""Relevance-mode training groups whose negatives violate a constraint of the query.

The inverse-cloze groups (``verifier.data``) teach "does this passage address the query"; they
never show a passage that addresses the query's topic and breaks one of its constraints. Two
kinds of groups add that, both built from training data only:

- **exclusion**: an inverse-cloze query plus a cue ("<query>, excluding <term>"). With a term
  its own passage mentions, that passage becomes a negative (category ``exclusion``); with a term
  only a stage-1 neighbour mentions, the passage stays the positive. Same passage, two queries:
  the only difference is whether the excluded thing is in it.
- **question**: a yes/no question made from a human-written statement (SNLI and Breaking NLI
  train splits). A passage *answers* it when it states the fact or its
  opposite ("Is the man happy?" <- "The man is sad.", "The man is not happy."), so the statement,
  its premise, its antonym rewrites and its negation are positives. A passage about another thing
  (Breaking NLI's swapped nouns, colours and materials: "Is breakfast included?" vs "Lunch is
  included.") or with the roles or the direction swapped ("The dog chases the cat." for "Does the
  cat chase the dog?", "from Denver to Boston" for "from Boston to Denver") is a negative.
  With a WordNet lexicon (``verifier.lexicon``) each statement also gets a sister-noun rewrite
  ("Lunch is included.": a negative) and an antonym rewrite ("Breakfast is excluded.": an answer).
  With ``question_opposites`` each question group also gets a twin asked the other way ("Is the
  man not happy?"), with the same passages and labels.
- **statement**: the same statement as the query itself, with the passages that state it (its
  premise, its synonym rewrites) as positives and the same negatives. Antonym rewrites and the
  negation are left out: they contradict a claim, so whether they are relevant to it is moot.
- **direction**: every training sentence with a route ("from Boston to Denver", "the train to
  Vienna"), as a query and as its yes/no question, against its direction swap.

Two kinds of *identity* groups keep these from leaking into identity mode, which reads the same
token maps: each question against its own negation ("Is the man happy?" / "Is the man not
happy?": an answer in relevance mode, the opposite prompt in identity mode), and each route
sentence against its swap.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from verirank.eval.constraint_set import GENERIC_WORDS
from verirank.mentions import mentions
from verirank.types import NearMissPair
from verirank.verifier import data as vdata

EXCLUSION_CUES = (
    "but not mentioning {term}", "but not about {term}", "excluding {term}", "without mentioning {term}",
    "without {term}", "except {term}", "other than {term}", "don't mention {term}", "leave out {term}",
)
# Breaking NLI replacement kinds that change *what* a statement is about (its entities and their
# attributes); the other kinds (antonyms, numbers, synonyms) change the asked fact, so a passage
# with them still answers the question.
ENTITY_KINDS = frozenset({"nationalities", "drinks", "countries", "rooms", "vegetables", "planets", "instruments",
                          "colors", "materials"})
ATTRIBUTE_KINDS = frozenset({"colors", "materials"})  # reported as binding, as in identity mode
ANSWER_KINDS = frozenset({"antonyms", "antonyms_wordnet"})  # numbers: ambiguous either way, unused
# swaps of the statement that break a constraint of its question: roles, attribute binding and
# direction. A spatial flip ("up" for "down") changes the asked predicate, so it would answer it.
QUESTION_SWAPS = ("role_reversal", "binding", "direction")  # the shipped v5 stage used the first two
# sets whose anchor is always the premise (counterfactual SNLI's anchor can be the hypothesis)
QUESTION_SOURCES = ("snli", "breaking_nli")
_WORD = re.compile(r"[a-z]+")
_ROUTE = re.compile(r"\b(?:from|to)\b", re.IGNORECASE)
_NOT_NOUN_ENDINGS = ("ing", "ed", "ly", "ous", "ive", "ful", "able", "ible")
_DO = {"VBD": "Did", "VBZ": "Does", "VBP": "Do"}
_CONTRACTED = {"'s": "is", "'re": "are", "'m": "am", "'ve": "have", "'d": "would", "'ll": "will"}


# ---- questions -----------------------------------------------------------------------------------
def question(doc: Any) -> str | None:
    """A yes/no question from a parsed statement that starts with its subject, else None.

    "A man is playing a guitar." -> "Is a man playing a guitar?"; "Two dogs chase a ball." ->
    "Do two dogs chase a ball?"; "The man sold his car." -> "Did the man sell his car?"
    """
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None or root.pos_ not in ("VERB", "AUX"):
        return None
    subject = next((c for c in root.children if c.dep_ in ("nsubj", "nsubjpass", "expl")), None)
    if subject is None or subject.left_edge.i != 0:
        return None
    aux = next((c for c in root.children if c.dep_ in ("aux", "auxpass") and c.i < root.i), None)
    if aux is None and root.lemma_ == "be":
        aux = root
    if aux is not None and aux.i <= subject.right_edge.i:
        return None
    words = [t.text_with_ws for t in doc]
    first = doc[0]
    if first.pos_ != "PROPN" and first.text != "I":
        words[0] = first.lower_ + first.whitespace_
    if aux is not None:
        front = _CONTRACTED.get(aux.lower_, aux.lower_)
        words[aux.i] = ""
        if aux.i > 0 and not words[aux.i - 1].endswith(" "):
            words[aux.i - 1] += " "
    elif root.tag_ in _DO:
        front = _DO[root.tag_]
        words[root.i] = root.lemma_ + root.whitespace_
    else:
        return None
    body = "".join(words).strip().rstrip(" .!?;:,")
    if len(body.split()) < 2:
        return None
    return f"{front.capitalize()} {re.sub(r'  +', ' ', body)}?"


def question_examples(pairs_by_source: dict[str, Sequence[NearMissPair]], held: set[str],
                      categories: Sequence[str] = QUESTION_SWAPS, negations: bool = True,
                      statements: bool = False, identity: bool = False, lexicon: Any = None,
                      seed: int = 0) -> list[vdata.Example]:
    """Relevance groups of questions made from human statements (see the module docstring); with
    ``negations`` a statement's negation answers its question; with ``statements`` also the
    statement groups; with ``identity`` also identity groups of each question against its negation
    (source ``question_negation``); with a ``lexicon`` (``verifier.lexicon.WordNet``) also each
    statement's WordNet rewrites (a sister noun, an antonym; drawn with ``seed``), filed as
    Breaking NLI's one-word rewrites are.

    ``pairs_by_source``: the ``train`` splits of snli / breaking_nli (``trainset``'s
    convention: anchor = premise, label 1 = entailment). ``held``: texts of held-out splits.
    """
    from verirank.nearmiss import negation
    from verirank.nearmiss._nlp import nlp
    from verirank.verifier.swaps import swaps

    supports: dict[str, set[str]] = {}  # statement -> passages that state it
    answers: dict[str, set[str]] = {}  # statement -> passages that answer its question otherwise
    negatives: dict[str, dict[str, int]] = {}  # statement -> passages about something else
    antonyms: list[tuple[str, str]] = []  # (statement, rewrite): an answer if the predicate changed
    for source, pairs in pairs_by_source.items():
        for p in pairs:
            kind = p.source.split(":", 1)[1] if ":" in p.source else ""
            if source == "breaking_nli":
                supports.setdefault(p.anchor, set())
                if kind in ENTITY_KINDS and p.label == 0:
                    category = vdata.CATEGORY_INDEX["binding"] if kind in ATTRIBUTE_KINDS else vdata.UNKNOWN
                    negatives.setdefault(p.anchor, {})[p.text] = category
                elif kind == "synonyms" and p.label == 1:
                    supports[p.anchor].add(p.text)
                elif kind in ANSWER_KINDS:
                    antonyms.append((p.anchor, p.text))
            elif p.label == 1:  # entailment: the premise states the hypothesis
                supports.setdefault(p.text, set()).add(p.anchor)
    found = [s for s in supports if s not in held and 3 <= len(s.split()) <= 30]
    parsed = dict(zip(found, nlp().pipe(found, batch_size=256)))
    if lexicon is not None:
        from verirank.verifier.lexicon import rewrites, vocabulary_of

        vocabulary, rng = vocabulary_of(parsed.values()), random.Random(seed)
        antonyms += [(statement, text) for statement, doc in parsed.items()
                     for text in rewrites(doc, lexicon, vocabulary, rng) if text not in held]
    for statement, rewrite in antonyms:  # "woman" -> "man", "little girl" -> "big girl" change who;
        doc = parsed.get(statement)     # "is happy" -> "is sad" changes the answer
        word = _replaced(doc, rewrite) if doc is not None else None
        if word is None:
            continue
        if word.pos_ in ("NOUN", "PROPN", "PRON") or word.dep_ in ("amod", "compound", "nmod", "poss"):
            negatives.setdefault(statement, {})[rewrite] = vdata.CATEGORY_INDEX["binding"] if word.dep_ == "amod" \
                else vdata.UNKNOWN
        else:
            answers.setdefault(statement, set()).add(rewrite)
    negated = {}
    for statement, doc in parsed.items() if negations or identity else ():
        made = negation.perturb(doc)
        if made is not None:
            negated[statement] = made.text
    for statement, text in negated.items() if negations else ():  # "Is he asleep?" <- "He is not asleep."
        answers.setdefault(statement, set()).add(text)
    for anchor, swapped, category in swaps(parsed.values(), categories):
        if swapped not in held:
            negatives.setdefault(anchor, {})[swapped] = vdata.CATEGORY_INDEX[category]
    mode, match = vdata.MODE_INDEX["relevance"], vdata.CATEGORY_INDEX["match"]

    def group(query: str, kind: str, positives: Iterable[str], statement: str) -> vdata.Example:
        ex = vdata.Example(mode, query, source=kind)
        for text in positives:
            if text not in held:
                ex.add(text, 1, match)
        for text, category in negatives[statement].items():
            ex.add(text, 0, category)
        return ex

    out = []
    for statement, doc in parsed.items():
        if not negatives.get(statement):
            continue
        asked = question(doc)
        if asked is not None and asked not in held:
            out.append(group(asked, "question", [statement, *sorted(supports[statement] | answers.get(statement, set()))],
                             statement))
        if statements and supports[statement] - {statement}:
            out.append(group(statement, "statement", sorted(supports[statement] - {statement}), statement))
    return out + (question_negation_examples(parsed, negated, held) if identity else [])


def opposite_question_examples(groups: Iterable[vdata.Example], held: set[str]) -> list[vdata.Example]:
    """A twin of every question group with its question asked the other way
    (``questions.opposite_question``: "Is the man happy?" -> "Is the man not happy?") and the same
    passages and labels: a passage answers both or neither, so the twin teaches that polarity."""
    from verirank.nearmiss._nlp import nlp
    from verirank.questions import opposite_question

    asked = [ex for ex in groups if ex.source == "question"]
    out = []
    for ex, doc in zip(asked, nlp().pipe([ex.query for ex in asked], batch_size=256)):
        opposite = opposite_question(ex.query, doc)
        if opposite is None or opposite in held:
            continue
        out.append(vdata.Example(ex.mode, opposite, list(ex.candidates), list(ex.labels), list(ex.categories),
                                 source=ex.source))
    return out


def question_negation_examples(parsed: dict[str, Any], negated: dict[str, str], held: set[str]) -> list[vdata.Example]:
    """Identity groups: the question of a statement, verbatim, against the question of its negation
    ("Is the man happy?" / "Is the man not happy?")."""
    from verirank.nearmiss._nlp import nlp

    mode, match, negation = vdata.MODE_INDEX["identity"], vdata.CATEGORY_INDEX["match"], vdata.CATEGORY_INDEX["negation"]
    out = []
    for statement, doc in zip(negated, nlp().pipe(list(negated.values()), batch_size=256)):
        asked, opposite = question(parsed[statement]), question(doc)
        if asked is None or opposite is None or asked == opposite or held & {asked, opposite}:
            continue
        ex = vdata.Example(mode, asked, source="question_negation")
        ex.add(asked, 1, match)
        ex.add(opposite, 0, negation)
        out.append(ex)
    return out


def direction_examples(texts: Iterable[str], held: set[str]) -> list[vdata.Example]:
    """Groups from every sentence whose route can be swapped (``swaps.direction_swap``): relevance
    groups (source ``direction``) with the sentence and its yes/no question as queries, the sentence
    as the positive and the swap as the negative; and identity groups (source ``directions``) of the
    sentence, verbatim, against its swap. Where the two ends can trade places without changing the
    trip ("to Denver from Boston", ``swaps.route_reorder``), that reordering is a second positive."""
    from verirank.nearmiss._nlp import nlp
    from verirank.verifier.swaps import route_reorder, swaps

    found = [t for t in dict.fromkeys(texts) if t not in held and 4 <= len(t.split()) <= 40 and _ROUTE.search(t)]
    parsed = dict(zip(found, nlp().pipe(found, batch_size=256)))
    match = vdata.CATEGORY_INDEX["match"]
    out = []
    for anchor, swapped, category in swaps(parsed.values(), ("direction",)):
        if swapped in held:
            continue
        asked, reordered = question(parsed[anchor]), route_reorder(parsed[anchor])
        for mode, query, source in ((vdata.MODE_INDEX["relevance"], anchor, "direction"),
                                    (vdata.MODE_INDEX["relevance"], asked, "direction"),
                                    (vdata.MODE_INDEX["identity"], anchor, "directions")):
            if query is None or query in held:
                continue
            ex = vdata.Example(mode, query, source=source)
            ex.add(anchor, 1, match)
            if reordered is not None and reordered not in held:
                ex.add(reordered, 1, match)
            ex.add(swapped, 0, vdata.CATEGORY_INDEX[category])
            out.append(ex)
    return out


def _replaced(doc: Any, rewrite: str) -> Any:
    """The first word of ``doc`` that ``rewrite`` no longer has (None if none)."""
    kept = set(_WORD.findall(rewrite.lower()))
    return next((t for t in doc if t.is_alpha and t.lower_ not in kept), None)


# ---- exclusions ----------------------------------------------------------------------------------
def topic_words(text: str, avoid: set[str], stop_words: Iterable[str]) -> list[str]:
    """Distinct lower-case words of ``text`` that could name something to exclude, in order
    (long words that are not stop words, generic nouns, or shaped like verbs and adverbs)."""
    stop = set(stop_words)
    words = (w for w in _WORD.findall(text.lower()) if len(w) >= 5 and w not in avoid and w not in stop
             and w not in GENERIC_WORDS and not w.endswith(_NOT_NOUN_ENDINGS))
    return list(dict.fromkeys(words))


def exclusion_examples(ict: Sequence[vdata.Example], rng: random.Random, stop_words: Iterable[str],
                       cues: Sequence[str] = EXCLUSION_CUES) -> list[vdata.Example]:
    """Two groups per inverse-cloze group (see the module docstring): "<query> <cue> <term in the
    passage>" (the passage is a negative) and "<query> <cue> <term only in a neighbour>" (the
    passage stays the positive, the neighbours that mention the term are negatives)."""
    stop = frozenset(stop_words)
    mode, exclusion = vdata.MODE_INDEX["relevance"], vdata.CATEGORY_INDEX["exclusion"]
    out = []
    for ex in ict:
        if ex.mode != mode or ":" in ex.source or 1 not in ex.labels:
            continue
        passage = ex.candidates[ex.labels.index(1)]
        neighbours = [t for t, label, c in zip(ex.candidates, ex.labels, ex.categories) if label == 0 and c < 0]
        avoid = set(_WORD.findall(ex.query.lower()))
        inside = topic_words(passage, avoid, stop)
        shared = [w for w in inside if any(mentions(w, t) for t in neighbours)]  # topical: prefer these
        inside = shared or inside
        outside = [w for t in neighbours for w in topic_words(t, avoid, stop) if not mentions(w, passage)]
        base = ex.query.rstrip(" .?!;:,")

        def group(term: str, passage_label: int, passage_category: int) -> vdata.Example:
            g = vdata.Example(mode, f"{base}, {rng.choice(cues).format(term=term)}", source="exclusion")
            g.add(passage, passage_label, passage_category)
            for text in neighbours:
                g.add(text, 0, exclusion if mentions(term, text) else vdata.UNKNOWN)
            return g

        if inside:
            out.append(group(rng.choice(inside), 0, exclusion))
        if outside:
            out.append(group(rng.choice(outside), 1, vdata.CATEGORY_INDEX["match"]))
    return out
