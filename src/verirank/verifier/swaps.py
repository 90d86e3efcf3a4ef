"""Word-order near-misses for training: swap two noun phrases, or two modifiers, of one sentence.

"The laptop is inside the train." -> "The train is inside the laptop."; "A man in a red shirt
pets a black dog." -> "A man in a black shirt pets a red dog."  Same words, same bag, different
meaning: the near-misses a pooled embedding cannot see and the verifier must.  Plus the one-word
spatial flips that ride along with them ("on the mat" -> "under the mat", "north" -> "south").
And direction swaps: "from Boston to Denver" -> "from Denver to Boston", "the train to Vienna" -> "from Vienna".

The audited generator (``verirank.nearmiss``) declines most such swaps to keep its test sets
valid; training wants them plentiful, so these rules are broader: two noun phrases in different
roles (never two conjuncts, never across a symmetric relation such as "next to" or "with"), or
two adjectives on different nouns.  Some results read oddly ("A bike rides a man"); they are
still not what the anchor says.  Training material only, never a test set.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

# relations whose two sides can trade places without changing the meaning
SYMMETRIC_PREPS = {"with", "beside", "near", "alongside", "and", "or", "between", "among", "opposite", "next",
                   "against", "versus", "vs", "like", "to"}
SYMMETRIC_VERBS = {"meet", "marry", "resemble", "equal", "face", "touch", "hug", "kiss", "join", "date",
                   "accompany", "fight", "play", "match", "share", "talk", "chat", "compete"}
SUBJECTS = {"nsubj", "nsubjpass"}
OBJECTS = {"dobj", "pobj", "agent", "dative"}  # not "attr": "X is a Y" swaps into a restatement
# nouns that name a part or a place of another ("on top of the car"): swapping them breaks the phrase
RELATIONAL = {"top", "part", "front", "side", "middle", "edge", "bottom", "back", "left", "right", "end", "center",
              "centre", "rest", "kind", "type", "sort", "number", "lot", "couple", "group", "pair", "piece", "bunch"}


def noun_phrase_swap(doc: Any) -> str | None:
    """Swap the subject's noun phrase with a later object's; None when no pair fits."""
    chunks = [c for c in doc.noun_chunks
              if c.root.pos_ in ("NOUN", "PROPN") and len(c) <= 5 and c.root.lemma_.lower() not in RELATIONAL]
    subjects = [c for c in chunks if c.root.dep_ in SUBJECTS]
    objects = sorted((c for c in chunks if c.root.dep_ in OBJECTS), key=lambda c: (c.root.dep_ != "dobj", c.start))
    for a in subjects:
        verb = a.root.head
        for b in objects:
            if (b.start <= a.end or _same(a, b) or not _asymmetric(a, b) or _plural(a) != _plural(b)
                    or a.root in b.root.ancestors or verb not in b.root.ancestors):
                continue  # b must hang off a's verb, not off a itself ("a man in a red shirt")
            return _swap_spans(doc, (a.start_char, a.end_char), (b.start_char, b.end_char))
    return None


def modifier_swap(doc: Any) -> str | None:
    """Swap two adjectives that modify two different nouns; None when no pair fits."""
    mods = [t for t in doc if t.dep_ == "amod" and t.pos_ == "ADJ" and t.head.pos_ == "NOUN" and t.i < t.head.i
            and t.is_alpha and t.whitespace_ and (t.i == 0 or doc[t.i - 1].whitespace_)]
    for i, a in enumerate(mods):
        for b in mods[i + 1 :]:
            if a.lower_ != b.lower_ and a.head.i != b.head.i and a.head.lemma_ != b.head.lemma_:
                return _swap_spans(doc, (a.idx, a.idx + len(a)), (b.idx, b.idx + len(b)))
    return None


# spatial relations and their opposites (either direction)
OPPOSITES = {"on top of": "underneath", "on": "under", "above": "below", "over": "under", "left": "right", "north": "south", "east": "west",
             "inside": "outside", "behind": "in front of", "into": "out of", "up": "down", "top": "bottom",
             "front": "back", "beneath": "above", "northern": "southern", "eastern": "western",
             "upstairs": "downstairs", "ahead of": "behind", "before": "after"}
_FLIPS = {**OPPOSITES, **{v: k for k, v in OPPOSITES.items() if v not in OPPOSITES}}


def spatial_flip(doc: Any) -> str | None:
    """Replace the first spatial word (or "in front of", "out of") with its opposite."""
    text = doc.text
    for t in doc:
        for size in (3, 2, 1):
            words = doc[t.i : t.i + size]
            phrase = words.text.lower()
            if len(words) == size and phrase in _FLIPS and (size > 1 or t.pos_ in ("ADP", "ADV", "ADJ", "NOUN")):
                if phrase == "on" and t.head.pos_ == "VERB" and t.dep_ == "prt":
                    continue  # "turned on the light": a particle, not a place
                new = _FLIPS[phrase]
                new = new[:1].upper() + new[1:] if words.text[:1].isupper() else new
                return text[: words.start_char - doc[0].idx] + new + text[words.end_char - doc[0].idx :]
    return None


DESTINATIONS = {"to", "into", "towards", "toward"}
# words of going somewhere: a lone "to"/"from" on these names an end of the trip (lemmas)
MOTION = {"train", "flight", "bus", "ferry", "boat", "road", "route", "way", "trip", "journey", "voyage",
          "go", "fly", "travel", "drive", "move", "sail", "walk", "ride", "commute", "send", "ship", "head",
          "return", "leave"}
NOT_PLACES = {"sleep", "waste", "rest", "war", "length", "piece"}  # "go to sleep", "went to great lengths"
PLACE_ENTS = {"GPE", "LOC", "FAC"}
# "from head to toe" reads the same either way round
EXTENTS = {frozenset(p) for p in (("head", "toe"), ("top", "bottom"), ("start", "finish"), ("beginning", "end"))}


def direction_swap(doc: Any) -> str | None:
    """Swap the two ends of "from A to B"; else flip a lone "to"/"from" on a trip ("the train to Vienna" ->
    "the train from Vienna").  None for infinitives, recipients ("gave it to her") and idioms."""
    for f, a, d, b in _routes(doc):
        first, second = sorted((_phrase(a, d), _phrase(b, f)))
        if first[1] > second[0] or not all(_endpoint(doc[i:j]) for i, j in (first, second)):
            continue
        x, y = doc[first[0] : first[1]], doc[second[0] : second[1]]
        if x.text.lower() == y.text.lower() or frozenset((x.root.lemma_.lower(), y.root.lemma_.lower())) in EXTENTS:
            continue
        return _swap_spans(doc, (x.start_char, x.end_char), (y.start_char, y.end_char))
    preps = {t.lower_ for t in doc if t.dep_ in ("prep", "dative")}
    if "from" in preps and preps & DESTINATIONS:
        return None  # "from time to time", "From Boston the flight to Denver": neither end may flip alone
    for t in doc:
        if t.lower_ not in ("to", "from") or t.tag_ != "IN" or t.dep_ not in ("prep", "dative"):
            continue  # "to" of an infinitive is tag TO, dep aux
        place, head = _pobj(t), t.head
        if head.lower_ == "back" and t.i > 0 and doc[t.i - 1] == head:
            head = head.head  # "flew back to Paris"
        elif t.i > 0 and doc[t.i - 1].pos_ in ("ADV", "ADP", "PART"):
            continue  # "moved away from", "drove home from work", "up to"
        if (place is None or place.pos_ not in ("NOUN", "PROPN") or head.lemma_.lower() not in MOTION
                or place.lemma_.lower() in NOT_PLACES or place.ent_type_ not in ("", "ORG", *PLACE_ENTS)
                or _recipient(t, place)):
            continue
        new = "from" if t.lower_ == "to" else "to"
        new = _upper_first(new) if t.text[:1].isupper() else new
        return doc.text[: t.idx] + new + doc.text[t.idx + len(t) :]
    return None


def route_reorder(doc: Any) -> str | None:
    """The same trip with its two prepositional phrases in the other order ("flights from Boston to
    Denver" -> "flights to Denver from Boston"): a paraphrase of what ``direction_swap`` breaks, so
    a direction group can show that order alone does not decide. None unless the two phrases are
    adjacent siblings on one head, or for a range of numbers."""
    for f, a, d, b in _routes(doc):
        if d.head != f.head:
            continue
        (s1, e1), (s2, e2) = sorted(((f.i, a.right_edge.i + 1), (d.i, b.right_edge.i + 1)))
        ends = [doc[p.left_edge.i : p.right_edge.i + 1] for p in (a, b)]
        if e1 != s2 or not all(_endpoint(end) and end.root.pos_ != "NUM" for end in ends):
            continue  # "from 1951 to 1958" is said in one order only
        first, second = doc[s1:e1], doc[s2:e2]
        return _swap_spans(doc, (first.start_char, first.end_char), (second.start_char, second.end_char))
    return None


def _pobj(prep: Any) -> Any:
    return next((c for c in prep.children if c.dep_ == "pobj"), None)


def _routes(doc: Any) -> Iterator[tuple[Any, Any, Any, Any]]:
    """(from, its pobj, to, its pobj) for each "from A to B" / "to B from A" the parse links: the two
    prepositions on one head, "to" under "from" or under its pobj, or "from" under the pobj of "to"."""
    for f in doc:
        if f.lower_ != "from" or f.dep_ != "prep" or (a := _pobj(f)) is None:
            continue
        near = [*f.head.children, *f.children, *a.children]
        if f.head.dep_ == "pobj":
            near.append(f.head.head)  # "To Denver from Boston"
        for d in near:
            if d.lower_ in DESTINATIONS and d.dep_ in ("prep", "dative") and (b := _pobj(d)) is not None:
                yield f, a, d, b


def _phrase(root: Any, other: Any) -> tuple[int, int]:
    """Token range of ``root``'s phrase, cut short where ``other`` (the opposite preposition) hangs in it."""
    start, end = root.left_edge.i, root.right_edge.i + 1
    if start <= other.i < end:
        end = other.i if other.i > root.i else end
        start = other.right_edge.i + 1 if other.i < root.i else start
    return start, end


def _endpoint(span: Any) -> bool:
    return 0 < len(span) <= 8 and span.root.pos_ in ("NOUN", "PROPN", "NUM")


def _recipient(prep: Any, place: Any) -> bool:
    """To whom, not to where: "sent a letter to her brother", "left the house to her son"."""
    if place.ent_type_ in PLACE_ENTS:
        return False
    if prep.dep_ == "dative" or place.ent_type_ == "PERSON":
        return True
    return prep.lower_ == "to" and any(c.dep_ == "dobj" for c in prep.head.children) \
        and any(c.dep_ == "poss" for c in place.children)


RULES = {"role_reversal": noun_phrase_swap, "binding": modifier_swap, "spatial": spatial_flip,
         "direction": direction_swap}


# the near-miss category each rule's output is labelled with (a rule named after no category)
REPORTED_AS = {"direction": "role_reversal"}  # source and destination trade roles


def swaps(docs: Iterable[Any], categories: Iterable[str] = tuple(RULES)) -> Iterator[tuple[str, str, str]]:
    """(anchor, swapped text, category) for every parsed sentence a rule of ``categories`` fits;
    the category is the rule's name, or the one ``REPORTED_AS`` labels it with."""
    rules = [(RULES[c], REPORTED_AS.get(c, c)) for c in categories]
    for doc in docs:
        for rule, category in rules:
            text = rule(doc)
            if text and text.lower() != doc.text.lower():
                yield doc.text, text, category


def _plural(chunk: Any) -> bool:
    return chunk.root.tag_ in ("NNS", "NNPS")


def _same(a: Any, b: Any) -> bool:
    return a.root.lemma_.lower() == b.root.lemma_.lower() or a.text.lower() == b.text.lower()


def _asymmetric(a: Any, b: Any) -> bool:
    """Not conjuncts, and not the two sides of a symmetric verb or preposition."""
    if b.root.dep_ == "conj" or a.root.dep_ == "conj":
        return False
    head = b.root.head
    if b.root.dep_ == "pobj" and head.lower_ in SYMMETRIC_PREPS:
        return False
    verb = a.root.head
    return verb.lemma_.lower() not in SYMMETRIC_VERBS and head.lemma_.lower() not in SYMMETRIC_VERBS


def _swap_spans(doc: Any, first: tuple[int, int], second: tuple[int, int]) -> str:
    """``doc.text`` with two non-overlapping character spans exchanged; sentence case kept."""
    text = doc.text
    (s1, e1), (s2, e2) = first, second
    a, b = text[s1:e1], text[s2:e2]
    if s1 == 0:  # the phrase moving to the front takes the capital, the other loses it
        a, b = _lower_first(a, doc), _upper_first(b)
    out = text[:s1] + b + text[e1:s2] + a + text[e2:]
    return out


def _upper_first(s: str) -> str:
    return s[:1].upper() + s[1:]


def _lower_first(s: str, doc: Any) -> str:
    first = doc[0]
    keep = first.pos_ == "PROPN" or first.text == "I" or first.text.isupper() and len(first.text) > 1
    return s if keep else s[:1].lower() + s[1:]
