"""Typed constraints parsed from a search query: what a candidate document must not violate.

``parse_constraints("Pelé's career, but don't mention Brazil")`` gives an ``exclusion`` on
"Brazil" and ``core == "Pelé's career"`` (the query without its exclusion clauses, for stage 1).
Other kinds: ``negation`` ("drugs that do not cause drowsiness" -> "cause drowsiness"), ``number``
("more than 5 years" -> op ">", value "5", unit "years"), ``comparative`` ("faster than a Porsche"),
``direction`` ("from Boston to Denver"; "Germany beat Brazil" -> agent / patient) and ``entity``
(named entities the query requires).  Rules only extract spans, with offsets into the query; a
learned scorer decides what they mean for relevance.  Cue words are regexes, phrase extents come
from the spaCy parse (loaded on first call).  Parse each query once.
"""

from __future__ import annotations

import re
from typing import Any

from verirank.errors import InputError
from verirank.nearmiss._nlp import nlp
from verirank.questions import opposite_question
from verirank.types import Constraint, ConstraintKind, QueryConstraints

MAX_QUERY_CHARS = 10_000


def parse_constraints(query: str) -> QueryConstraints:
    """Parse ``query`` into the constraints a matching document must not violate.

    Raises :class:`InputError` for a query that is not a string, is blank or is over-long.
    """
    if not isinstance(query, str):
        raise InputError(f"query must be a str, got {type(query).__name__}; pass the search text")
    if not query.strip():
        raise InputError(f"query {query!r} is blank; pass the search text, e.g. parse_constraints('flights to Denver')")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(f"query is {len(query)} characters, over the {MAX_QUERY_CHARS} limit; pass a search "
                         "query, not a document (split long text into passages first)")
    doc = nlp()(_parse_text(query))
    exclusions = _exclusions(doc)
    cuts = [cut for _, cut in exclusions]
    others = [*_negations(doc), *_numbers(doc), *_comparatives(doc), *_directions(doc), *_entities(doc)]
    numbers = [(c.start, c.end) for c in others if c.kind is ConstraintKind.NUMBER]
    kept = [c for c in others if not _overlaps(c, cuts)  # what is excluded is not also required
            and not (c.kind in (ConstraintKind.NEGATION, ConstraintKind.COMPARATIVE) and _overlaps(c, numbers))]
    unique = {(c.kind, c.start, c.end): c for c in [c for c, _ in exclusions] + kept}
    ordered = sorted(unique.values(), key=lambda c: (c.start, c.end, _KIND_ORDER[c.kind]))
    ordered = [c.model_copy(update={"text": query[c.start : c.end]}) for c in ordered]  # the query's own case
    opposite = None if exclusions else opposite_question(query, doc)
    return QueryConstraints(query=query, core=_core(query, cuts), constraints=ordered, opposite=opposite)


_KIND_ORDER = {kind: n for n, kind in enumerate(ConstraintKind)}


def _parse_text(query: str) -> str:
    """The text to parse: an all-capitals query is lower-cased (the tagger reads every shouted word as
    a name), when that keeps every character offset."""
    letters = [ch for ch in query if ch.isalpha()]
    shouted = len(letters) >= 8 and sum(ch.isupper() for ch in letters) > 0.8 * len(letters)
    lowered = query.lower()
    return lowered if shouted and len(lowered) == len(query) else query


# --- exclusions -------------------------------------------------------------------------------

# The cue; the excluded phrase starts after it.  Earlier alternatives win at the same position.
_EXCLUSION_CUE = re.compile(
    r"\b(?:(?:(?:that|which|who)\s+)?(?:do|does|did)(?:\s+not|n['’]?t)\s+mention"
    r"|no\s+mention\s+of|(?:(?:i|we)\s+(?:am|are)\s+|(?:i|we)['’](?:m|re)\s+)?not\s+interested\s+in"
    r"|without(?:\s+any)?(?:\s+(?:mention(?:ing)?(?:\s+of)?|including|using))?"
    r"|not\s+(?:mentioning|about|including)|except(?:\s+for)?|excepting|excluding|other\s+than|with\s+no"
    r"|(?P<clausal>apart\s+from|not|no))\b",  # these three only as a clause of their own ("..., but no pool")
    re.IGNORECASE,
)
# What joins an exclusion clause to the query; cut from the core with it.
_EXCLUSION_LEAD = re.compile(r"(?:[,;]\s*)?(?:\b(?:but|and)\s+)?(?:please\s+)?$", re.IGNORECASE)
_JOINED = re.compile(r"[,;]|\b(?:but|and)\b", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[;:!?()\[\]]|,(?!\d{3})|\.(?!\d)")
_FIXED_AFTER_NOT = {"only", "just", "to", "even", "necessarily", "at", "so", "too", "very"}  # "not only"
# After a cue these start a condition or a claim, not the thing excluded: "except when", ", not all X do Y"
_NOT_EXCLUDED = _FIXED_AFTER_NOT | {"that", "when", "if", "where", "whether", "because", "as", "all", "every",
                                    "always", "many", "much", "quite", "really", "exactly", "enough", "yet",
                                    "longer", "more", "less", "matter", "doubt", "one"}  # "no longer", "no one"
_GERUND_AFTER = re.compile(r"\b(?:for|of|by|about|on|in|when|while)\s+$", re.IGNORECASE)  # "for excluding outliers"
_LEADING_DETERMINERS = {"a", "an", "the", "any"}


def _exclusions(doc: Any) -> list[tuple[Constraint, tuple[int, int]]]:
    """Each exclusion with the character range to cut from the core (joining words, cue, phrase)."""
    text = doc.text
    cues = []  # (cue match, where its joining words start, whether it is a clause of its own)
    for cue in _EXCLUSION_CUE.finditer(text):
        lead = _EXCLUSION_LEAD.search(text, max(0, cue.start() - 30), cue.start())
        lead_start = lead.start() if lead else cue.start()
        joined = bool(_JOINED.search(text, lead_start, cue.start()))
        own_clause = joined or not text[:lead_start].strip() or text[:lead_start].rstrip()[-1] in ".?!"
        after = text[cue.end() :].split(maxsplit=1)
        if cue.group("clausal") and cue.group("clausal").lower() == "no" and not joined:
            continue  # "no" excludes only after a joint (", but no pool"); "No smoking rooms" is the thing wanted
        if (cue.group("clausal") and not own_clause) or (after and after[0].lower() in _NOT_EXCLUDED):
            continue  # "cities that are not in Europe" is a negation; "far apart from" a distance
        if cue.group(0).lower().endswith("ing") and _GERUND_AFTER.search(text, 0, cue.start()):
            continue
        cues.append((cue, lead_start, own_clause))
    found = []
    for k, (cue, lead_start, own_clause) in enumerate(cues):
        clause_end = _CLAUSE_END.search(text, cue.end())
        limit = min(clause_end.start() if clause_end else len(text), cues[k + 1][1] if k + 1 < len(cues) else len(text))
        phrase = _phrase_in(doc, cue.end(), limit, whole=own_clause)
        if phrase is None or (cue.group("clausal") and any(
                t.tag_ in ("VBZ", "VBP", "VBD", "MD") for t in doc.char_span(*phrase, alignment_mode="expand"))):
            continue  # ", not Paris" excludes; ", not all authors will agree" is a claim
        cue_words = " ".join(cue.group(0).lower().replace("’", "'").split())
        quoted = text[phrase[0] - 1] in "\"“'‘" and text[phrase[1] : phrase[1] + 1] in ("\"", "”", "'", "’")
        cut = (lead_start, phrase[1] + quoted)  # with the closing quote of '"Brazil"'
        found.append((_make(doc, ConstraintKind.EXCLUSION, *phrase, cue=cue_words), cut))
    return found


def _phrase_in(doc: Any, start_char: int, limit_char: int, whole: bool) -> tuple[int, int] | None:
    """The phrase opening the window ``[start_char, limit_char)``: the whole window (a clause of its
    own: ", but don't mention the war in Iraq"), else the words hanging from the first word's highest
    ancestor in the window ("hotels without a pool near the beach" -> the parse decides "near")."""
    window = [t for t in doc if t.idx >= start_char and _end(t) <= limit_char]
    while window and (window[0].lower_ in _LEADING_DETERMINERS or window[0].is_punct):
        window = window[1:]
    if not window:
        return None
    inside = {t.i for t in window}
    top = window[0]
    while top.head.i in inside and top.head.i != top.i:
        top = top.head
    last = window[0].i
    for t in window[1:]:
        if not (whole or _hangs_from(t, top.i, inside)):
            break
        last = t.i
    while last > window[0].i and (doc[last].is_punct or doc[last].dep_ == "cc"):
        last -= 1
    return window[0].idx, _end(doc[last])


def _hangs_from(t: Any, top: int, inside: set[int]) -> bool:
    """Whether ``t`` reaches token ``top`` through heads inside the window, not through a relative
    clause (in "recipes without sugar that are quick" the recipes are quick)."""
    while t.i != top:
        if t.i not in inside or t.head.i == t.i or t.dep_ == "relcl":
            return False
        t = t.head
    return True


def _core(query: str, cuts: list[tuple[int, int]]) -> str:
    """``query`` without the cut ranges, whitespace and stray punctuation tidied."""
    if not cuts:
        return query
    kept, pos = [], 0
    for start, end in sorted(cuts):
        kept.append(query[pos : max(pos, start)])
        pos = max(pos, end)
    core = " ".join(("".join(kept) + query[pos:]).split())
    core = re.sub(r"\s+([,;:.!?])", r"\1", core)
    core = re.sub(r"[,;:]+\s*([,;:.!?])", r"\1", core)
    core = re.sub(r"([.!?])\s*[,;:.]+", r"\1", core).strip(" ,;:")
    return core or query


# --- negations --------------------------------------------------------------------------------

_OUTSIDE_PREDICATE = {"punct", "cc", "conj", "advcl", "mark", "parataxis", "relcl"}


def _negations(doc: Any) -> list[Constraint]:
    """The predicate a negation denies: "do not cause drowsiness" -> "cause drowsiness", "are not in
    Europe" -> "in Europe"."""
    out = []
    for neg in doc:
        if neg.dep_ != "neg" or (neg.i + 1 < len(doc) and doc[neg.i + 1].lower_ in _FIXED_AFTER_NOT):
            continue
        head, cue = neg.head, "not" if neg.lower_ in ("n't", "n’t") else neg.lower_
        if head.lower_ in ("longer", "more") and head.i == neg.i + 1:  # "no longer supported"
            neg, head, cue = head, head.head, f"{cue} {head.lower_}"
        if head.pos_ not in ("VERB", "AUX", "ADJ", "ADV"):
            continue  # ", not Paris" is an exclusion; a noun head is often a misparse
        start = head.i if head.i > neg.i else neg.i + 1
        rights = [w.i for c in head.rights if c.i > neg.i and c.dep_ not in _OUTSIDE_PREDICATE for w in c.subtree]
        end = max(rights + ([head.i] if head.i > neg.i else []), default=-1)
        end = next((t.i - 1 for t in doc[start : end + 1] if t.is_punct), end)
        if end >= start:
            out.append(_make(doc, ConstraintKind.NEGATION, doc[start].idx, _end(doc[end]), cue=cue))
    return out


# --- numbers ----------------------------------------------------------------------------------

_SMALL_NUMBERS = {w: str(n) for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_SCALES = {"hundred", "thousand", "million", "billion", "trillion", "dozen"}
_CURRENCY = "$€£¥₹"
_HIGHER = {"more", "greater", "higher", "larger", "bigger", "longer", "older", "heavier", "taller", "later",
           "faster", "wider", "deeper", "stronger", "hotter", "warmer", "above", "over"}
_LOWER = {"less", "fewer", "lower", "smaller", "shorter", "younger", "lighter", "earlier", "cheaper", "slower",
          "narrower", "shallower", "weaker", "colder", "cooler", "below", "under"}
# Operator words before a number, first match wins; "<word> than" takes its op from _HIGHER/_LOWER.
_NUMBER_OPS = [(re.compile(rf"\b(?:{words})\s*$", re.IGNORECASE), op) for words, op in [
    (r"no\s+more\s+than|not\s+more\s+than|no\s+greater\s+than|at\s+most|up\s+to|(?:a\s+)?maximum\s+of", "<="),
    (r"no\s+less\s+than|not\s+less\s+than|no\s+fewer\s+than|at\s+least|(?:a\s+)?minimum\s+of|since", ">="),
    (r"(?P<cmp>\w+)\s+than", "cmp"),
    (r"over|above|exceeding|in\s+excess\s+of|upwards\s+of|after", ">"),
    (r"under|below|beneath|before|prior\s+to", "<"),
    (r"exactly|precisely", "="),
    (r"about|around|approximately|roughly|nearly|almost|circa", "~"),
]]
_OR_MORE = re.compile(rf"^\s+or\s+(?P<word>{'|'.join(sorted(_HIGHER | _LOWER))})\b", re.IGNORECASE)
_RANGE_JOIN = re.compile(r"^\s*(?:and|to|through|until|-|–|—)\s*$", re.IGNORECASE)
_NAME_LABELS = {"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"}


def _numbers(doc: Any) -> list[Constraint]:
    """Quantities with their operator and unit: "under $50", "at least 3 bedrooms", "between 1990 and 2000"."""
    text, out = doc.text, []
    groups = _number_groups(doc)
    ranged = set()
    for k, group in enumerate(groups):
        if k in ranged:
            continue
        tokens, last = list(group), group[-1]
        start, end, unit = group[0].idx, _end(last), ""
        if group[0].i > 0 and group[0].nbor(-1).text in _CURRENCY:
            start, unit = group[0].nbor(-1).idx, group[0].nbor(-1).text
        detail = {"op": "=", "value": _value(group)}
        nxt = groups[k + 1] if k + 1 < len(groups) else None
        join = _RANGE_JOIN.match(text[end : nxt[0].idx].rstrip(_CURRENCY)) if nxt else None
        look_back = max(0, start - 40)  # operator words end right before the number
        opener = re.search(r"\b(between|from)\s*$", text[look_back:start], re.IGNORECASE)
        if nxt and join and (opener or join.group(0).strip().lower() != "and"):
            start = look_back + opener.start(1) if opener else start
            low, high = detail["value"], _value(nxt)
            detail = {"op": "between", "low": low, "high": high} if _ascending(low, high) else {
                "op": "=", "value": text[group[0].idx : _end(nxt[-1])]}  # a score: "7-1"
            tokens, last, end = tokens + nxt, nxt[-1], _end(nxt[-1])
            ranged.add(k + 1)
        else:
            found = _number_op(text[look_back:start], detail["value"])
            if found is None:
                continue  # "hotter than 40": a direction the table does not know; left to the comparative
            if found[0]:
                detail["op"], start = found[0], look_back + found[1]
        follower = doc[last.i + 1] if last.i + 1 < len(doc) else None
        if follower is not None and follower.text == "+" and detail["op"] == "=":  # "5+ years"
            detail["op"], end = ">=", _end(follower)
            follower = doc[follower.i + 1] if follower.i + 1 < len(doc) else None
        if follower is not None and follower.text == "-" and follower.idx == end and follower.i + 1 < len(doc):
            word = doc[follower.i + 1]  # "two-dimensional", "5-star"
            if word.is_alpha and word.idx == _end(follower):
                unit, end = word.text, _end(word)
        if not unit and follower is not None and (follower.text == "%" or (follower.pos_ in ("NOUN", "PROPN") and (
                follower.i in {t.head.i for t in tokens} or follower.head.i in {t.i for t in tokens}))):
            unit, end = follower.text, _end(follower)  # "5 years", "20%", "5-10 km"
        more = _OR_MORE.match(text[end:])
        if more and detail["op"] == "=":  # "3 bedrooms or more"
            detail["op"] = ">=" if more.group("word").lower() in _HIGHER else "<="
            end += more.end()
        out.append(_make(doc, ConstraintKind.NUMBER, start, end, **detail, **({"unit": unit} if unit else {})))
    return out


def _number_groups(doc: Any) -> list[list[Any]]:
    """Runs of number tokens that are quantities ("5", "1.5 million"), not names ("Apollo 11")."""
    groups: list[list[Any]] = []
    for t in doc:
        if not _is_number(t):
            continue
        if groups and groups[-1][-1].i == t.i - 1 and t.lower_ in _SCALES:
            groups[-1].append(t)
        else:
            groups.append([t])
    return [g for g in groups if not _is_identifier(g[0])]


def _is_number(t: Any) -> bool:
    if not t.like_num or (t.lower_ == "one" and t.dep_ != "nummod"):  # "the one with ..."
        return False
    return any(ch.isdigit() for ch in t.text) or t.lower_ in _SMALL_NUMBERS or t.lower_ in _SCALES or t.tag_ == "CD"


def _is_identifier(t: Any) -> bool:
    """A number naming something ("Apollo 11", "iPhone 12", a list marker "(2)"); "the 2014 World Cup"
    keeps its year."""
    prev = t.nbor(-1) if t.i > 0 else None
    if prev is not None and prev.text in "([" and t.i + 1 < len(t.doc) and t.doc[t.i + 1].text in ")]":
        return True
    if _followed_by_number(t):
        return False  # a score or a range: "Brazil 7-1", "Windows 7-10"
    if prev is not None and _is_name(prev) and _end(prev) + 1 >= t.idx:
        return True
    ent = _entity_of(t)
    return ent is not None and t.ent_type_ in _NAME_LABELS and any(not (w.like_num or w.pos_ == "DET") for w in ent)


def _value(group: list[Any]) -> str:
    return " ".join(_SMALL_NUMBERS.get(t.lower_, t.text.replace(",", "")) for t in group)


def _ascending(low: str, high: str) -> bool:
    try:
        return float(low) <= float(high)
    except ValueError:  # "1.5 million", "two hundred": trust the words
        return True


def _number_op(before: str, value: str) -> tuple[str, int] | None:
    """The operator ending ``before`` and where it starts: ("", 0) for none, None for "not a number
    constraint" (an unknown "<adjective> than")."""
    for pattern, op in _NUMBER_OPS:
        m = pattern.search(before)
        if not m:
            continue
        if op == "cmp":
            word = m.group("cmp").lower()
            if word not in _HIGHER | _LOWER:
                return None
            op = ">" if word in _HIGHER else "<"
        if op == "~" and re.fullmatch(r"1[5-9]\d\d|20\d\d", value):
            return "", 0  # "about 1984" is a topic, not an approximate year
        return op, m.start()
    return "", 0


# --- comparatives -----------------------------------------------------------------------------

_QUANTIFIERS = {"more", "less", "fewer"}


def _comparatives(doc: Any) -> list[Constraint]:
    """A comparative and what it is compared with: "faster than a Porsche", "more expensive",
    "more calories than rice"."""
    out = []
    for t in doc:
        if t.tag_ not in ("JJR", "RBR") or t.lower_ in ("further", "rather", "else") or _hyphenated(t):
            continue  # "navier-stokes" is no comparative
        if t.i > 0 and t.nbor(-1).lower_ in ("no", "any", "much", "or"):
            continue  # "no longer", "any more", "or later"
        nxt = doc[t.i + 1] if t.i + 1 < len(doc) else None
        than = next((w for w in doc[t.i + 1 : t.i + 4] if w.lower_ == "than"), None)
        prop, last = t, t
        if t.lower_ in _QUANTIFIERS and nxt is not None and nxt.lower_ != "than":
            if nxt.pos_ in ("ADJ", "ADV") and nxt.tag_ not in ("JJR", "RBR"):
                prop, last = nxt, nxt  # "more expensive"
            elif than is not None and nxt.pos_ == "NOUN":
                prop, last = nxt, nxt  # "more calories than rice"
            else:
                continue  # "more information"
        detail = {"direction": "less" if t.lower_ in ("less", "fewer", "lesser") else "more",
                  "property": prop.lemma_.lower()}
        obj = next((c for c in than.children if c.dep_ in ("pobj", "pcomp")), None) if than is not None else None
        if obj is not None and than.i <= last.i + 2:
            first_i, last_i = min(w.i for w in obj.subtree), max(w.i for w in obj.subtree)
            detail["than"], last = doc[first_i : last_i + 1].text, doc[last_i]
        out.append(_make(doc, ConstraintKind.COMPARATIVE, t.idx, _end(last), **detail))
    return out


# --- directions and roles ---------------------------------------------------------------------

_PLACES = {"GPE", "LOC", "FAC"}
_TO_WORDS = {"to", "into", "toward", "towards"}


def _directions(doc: Any) -> list[Constraint]:
    """Where from and where to ("from Boston to Denver", "Boston to Denver", "imports from China"),
    and who does what to whom ("Germany beat Brazil")."""
    out = []
    for t in doc:
        src = _object(t) if t.lower_ == "from" else None
        to = doc[src[1] + 1] if src is not None and src[1] + 1 < len(doc) else None
        dest = _object(to) if to is not None and to.lower_ in _TO_WORDS else None
        if dest is not None:
            out.append(_make(doc, ConstraintKind.DIRECTION, t.idx, _end(doc[dest[1]]),
                             **{"from": _words(doc, src), "to": _words(doc, dest)}))
    paired = [(c.start, c.end) for c in out]
    places = [e for e in doc.ents if e.label_ in _PLACES]
    for e in places:
        before = doc[e.start - 1] if e.start > 0 else None
        if before is None or before.lower_ not in _TO_WORDS | {"from"} or _overlaps((before.idx, e.end_char), paired):
            continue
        source = next((p for p in places if p.end == before.i and before.lower_ != "from"), None)
        if source is not None:  # "Boston to Denver flights"
            detail, start = {"from": source.text, "to": e.text}, source.start_char
        else:  # "imports from China", "trains to Paris"
            detail, start = {"from" if before.lower_ == "from" else "to": e.text}, before.idx
        out.append(_make(doc, ConstraintKind.DIRECTION, start, e.end_char, **detail))
    return out + _roles(doc)


def _object(prep: Any) -> tuple[int, int] | None:
    """Token range of a preposition's noun-phrase object, determiners dropped; None if it has a number."""
    obj = next((c for c in prep.children if c.dep_ == "pobj"), None)
    if obj is None or obj.pos_ not in ("NOUN", "PROPN") or any(w.like_num for w in obj.subtree):
        return None
    words = [w for w in obj.subtree if w.pos_ != "DET" and not w.is_punct]
    return (words[0].i, words[-1].i) if words else None


def _roles(doc: Any) -> list[Constraint]:
    """A transitive verb between two nouns: agent and patient, active or passive."""
    out = []
    for verb in doc:
        finite = verb.tag_ in ("VB", "VBD", "VBZ", "VBP") or any(c.dep_ == "auxpass" for c in verb.children)
        kids: dict[str, Any] = {}
        for c in verb.children if verb.pos_ == "VERB" and finite and verb.dep_ not in ("acl", "amod") else ():
            kids.setdefault(c.dep_, c)  # the first object: "beat Brazil 7-1"
        by = next((c for c in kids["agent"].children if c.dep_ == "pobj"), None) if "agent" in kids else None
        if "nsubj" in kids and "dobj" in kids:
            agent, patient = kids["nsubj"], kids["dobj"]
        elif "nsubjpass" in kids and by is not None:
            agent, patient = by, kids["nsubjpass"]
        else:
            continue
        if agent.pos_ not in ("NOUN", "PROPN") or patient.pos_ not in ("NOUN", "PROPN"):
            continue  # "What causes X", "drugs that cause X": no second noun to swap with
        a, p = _compact(agent), _compact(patient)
        start, end = min(a[0], p[0], verb.i), max(a[1], p[1], verb.i)
        out.append(_make(doc, ConstraintKind.DIRECTION, doc[start].idx, _end(doc[end]), agent=_words(doc, a),
                         verb=verb.text, patient=_words(doc, p)))
    return out


def _compact(t: Any) -> tuple[int, int]:
    """Token range naming a noun: its entity ("the" dropped), else its compounds and adjectives."""
    ent = _entity_of(t)
    if ent is not None and t.ent_type_ in _NAME_LABELS:
        return ent.start + (ent[0].lower_ == "the"), ent.end - 1
    left = [w.i for c in t.lefts if c.dep_ in ("compound", "amod", "nmod") for w in c.subtree]
    return min([*left, t.i]), t.i


# --- entities ---------------------------------------------------------------------------------


def _entities(doc: Any) -> list[Constraint]:
    """Named entities, plus names the tagger saw but NER missed ("Pelé"); "the" dropped, a model
    number kept ("Apollo 11")."""
    spans = [(e.start + (e[0].lower_ == "the"), e.end, e.label_) for e in doc.ents
             if e.label_ in _NAME_LABELS and any(_capitalised(w) for w in e)]
    taken = {i for start, end, _ in spans for i in range(start, end)}
    run: list[int] = []
    for t in [*doc, None]:
        if t is not None and _is_name(t) and _capitalised(t) and t.i not in taken:
            run.append(t.i)
        elif run:
            spans.append((run[0], run[-1] + 1, "PROPN"))
            run = []
    out = []
    for start, end, label in spans:
        if end < len(doc) and doc[end].like_num and doc[end].idx == _end(doc[end - 1]) + 1 and not (
                _followed_by_number(doc[end])):
            end += 1  # "Apollo 11", "iPhone 12"
        out.append(_make(doc, ConstraintKind.ENTITY, doc[start].idx, _end(doc[end - 1]), label=label))
    return out


def _capitalised(t: Any) -> bool:
    """Has a capital letter: the small NER model tags lower-case words ("linear", "code") as names."""
    return any(ch.isupper() for ch in t.text)


def _is_name(t: Any) -> bool:
    """A proper-name word: PROPN, or mixed case inside the word ("iPhone", "eBay")."""
    return t.pos_ == "PROPN" or (t.is_alpha and any(ch.isupper() for ch in t.text[1:]))


# --- helpers ----------------------------------------------------------------------------------


def _hyphenated(t: Any) -> bool:
    return t.i + 1 < len(t.doc) and t.doc[t.i + 1].text == "-" and t.doc[t.i + 1].idx == _end(t)


def _followed_by_number(t: Any) -> bool:
    """``t`` starts "7-1", "5–10", "3:2"."""
    doc = t.doc
    return t.i + 2 < len(doc) and doc[t.i + 1].text in "-–—:" and doc[t.i + 2].like_num


def _entity_of(t: Any) -> Any:
    """The entity span ``t`` is in (label: ``t.ent_type_``), or None."""
    if not t.ent_type_:
        return None
    doc, start, end = t.doc, t.i, t.i + 1
    while doc[start].ent_iob_ == "I":
        start -= 1
    while end < len(doc) and doc[end].ent_iob_ == "I":
        end += 1
    return doc[start:end]


def _overlaps(span: Constraint | tuple[int, int], others: list[tuple[int, int]]) -> bool:
    start, end = (span.start, span.end) if isinstance(span, Constraint) else span
    return any(start < o_end and o_start < end for o_start, o_end in others)


def _words(doc: Any, span: tuple[int, int]) -> str:
    return doc[span[0] : span[1] + 1].text


def _end(t: Any) -> int:
    return t.idx + len(t.text)


def _make(doc: Any, kind: ConstraintKind, start: int, end: int, **detail: str) -> Constraint:
    return Constraint(kind=kind, text=doc.text[start:end], start=start, end=end, detail=detail)


__all__ = ["MAX_QUERY_CHARS", "Constraint", "ConstraintKind", "QueryConstraints", "parse_constraints"]
