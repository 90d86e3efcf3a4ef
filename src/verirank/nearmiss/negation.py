"""Negation: add or remove "not" on the main verb (with do-support), flip always/never, all/no.

Only simple main clauses are touched: no quotations, no participle or coordinated clauses whose
meaning would then contradict the negated one, and no polarity-sensitive words ("any", "also",
"already", "probably") that make a negated or un-negated sentence ungrammatical or odd.
"""

from __future__ import annotations

import random
from typing import Any

from verirank.nearmiss._nlp import inflect, is_verb
from verirank.nearmiss.base import (
    Perturbation, has_quote, is_title, match_case, replace_spans, root_of, token_edit, whole_word,
)
from verirank.types import Category

# words that need a negative context, or make one odd, anywhere in the sentence
POLARITY = {"any", "anything", "anyone", "anybody", "anywhere", "ever", "yet", "either", "neither", "nor", "no",
            "none", "nothing", "nobody", "nowhere", "never", "without", "only", "also", "too", "already", "still",
            "some", "something", "someone", "somebody", "somewhat", "somehow", "both", "even", "just", "rather",
            "quite", "pretty", "fairly", "hardly", "barely", "scarcely", "seldom", "rarely", "unless", "but",
            "instead", "however", "although", "though", "whereas", "while", "except", "nevertheless", "until",
            "all", "every", "each", "again", "else", "whether"}
# sentence adverbs that read badly after "not"
SENTENCE_ADVERBS = {"probably", "possibly", "certainly", "definitely", "likely", "perhaps", "maybe", "now",
                    "apparently", "clearly", "obviously", "usually", "often", "sometimes", "occasionally",
                    "generally", "typically", "frequently", "mostly", "largely", "mainly", "primarily", "especially",
                    "particularly", "notably", "reportedly", "allegedly", "currently", "presently", "really",
                    "actually", "indeed", "thus", "therefore", "hence", "then", "consequently", "accordingly",
                    "finally", "first", "initially", "later", "subsequently", "eventually", "recently", "previously",
                    "once", "twice", "unwittingly", "well", "alone", "furthermore", "moreover", "additionally",
                    "similarly", "likewise", "surely", "undoubtedly", "essentially", "basically", "simply"}
SPEECH_VERBS = {"say", "tell", "add", "state", "note", "write", "report", "explain", "announce", "claim", "argue",
                "insist", "warn", "predict", "suggest", "conclude", "believe", "think", "expect", "estimate"}
VAGUE_QUANTITIES = {"several", "many", "some", "few", "certain", "number", "numerous", "most", "various", "about",
                    "approximately", "nearly", "percent", "%", "majority", "part", "half", "little", "much"}
CONTRACTIONS = {"can't": "can", "won't": "will", "don't": "do", "doesn't": "does", "didn't": "did", "isn't": "is",
                "aren't": "are", "wasn't": "was", "weren't": "were", "shouldn't": "should", "couldn't": "could",
                "wouldn't": "would", "hasn't": "has", "haven't": "have", "hadn't": "had"}
DO_TENSE = {"does": "VBZ", "did": "VBD", "do": "VBP"}
AFTER_NOT_FIXED = {"only", "just", "even", "until", "yet", "always", "necessarily", "all", "every", "quite", "very",
                   "so", "too", "much", "merely", "simply", "exactly", "entirely", "completely", "fully", "least",
                   "to", "a", "one", "because", "as", "that", "enough", "really", "nearly", "far", "long"}
EMPHATIC = {"tell", "wait", "believe", "stress", "emphasize", "emphasise", "recommend", "thank", "imagine",
            "overstate", "say", "praise", "help"}
HEDGES = {"may", "might"}
NO_DO_SUPPORT = {"hope", "wish"}  # "I do not hope this place sticks around" is not said
AUXILIARIES = {"be", "have", "do", "will", "would", "can", "could", "shall", "should", "must", "need"}
# a fronted phrase giving the aim of the claim ("For purposes of simplicity ... is ignored"): negated,
# the aim contradicts it
AIMS = {"purpose", "simplicity", "convenience", "example", "illustration", "brevity", "clarity"}
LISTING = {"another", "further", "additional", "other", "example", "examples", "hypothesis", "instance", "following"}
QUANTIFIER_FLIPS = {"all": "no", "every": "no"}


def perturb(doc: Any, rng: random.Random | None = None) -> Perturbation | None:
    """Negate (or un-negate) the main clause; None when not safe. ``rng`` is unused: the parse decides."""
    root = root_of(doc)
    if root is None or not _simple_clause(doc, root):
        return None
    negs = [c for c in root.children if c.dep_ == "neg" and c.lower_ in ("not", "n't")]
    if negs:
        return _remove(doc, root, negs[0])
    if any(c.dep_ == "neg" or c.lower_ in ("not", "n't", "never", "no") for c in doc):
        return None  # negation in another clause: adding a second one reads as a double negative
    adverb = next((c for c in root.children if c.dep_ == "advmod" and c.lower_ in ("always", "never")), None)
    if adverb is not None:
        return _flip_adverb(doc, adverb)
    quantifier = _flip_quantifier(doc, root)
    if quantifier is not None:
        return quantifier
    if any(t.lower_ in POLARITY or t.lower_ in SENTENCE_ADVERBS for t in doc):
        return None
    return _add(doc, root)


def _simple_clause(doc: Any, root: Any) -> bool:
    if root.pos_ not in ("VERB", "AUX") or doc[-1].text == "?" or has_quote(doc) or root.i == 0:
        return False
    if any(t.text == ":" for t in doc) or "as follows" in doc.text.lower():
        return False  # "the effects were as follows: ..." introduces a list, negating it reads as nonsense
    if any(w.lower_ in VAGUE_QUANTITIES for w in doc) or sum(w.like_num for w in doc) > 1:
        return False  # "several results were not derived" does not deny "several results were derived";
        # "revenues were not down 1 percent to $4.55 billion, from $4.59 billion" is refuted by its numbers
    subj = next((c for c in root.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    if subj is not None and any(w.like_num or w.lower_ in LISTING for w in subj.subtree):
        return False  # "Another example is not X", "A further hypothesis is not that ...",
        # "the following lysosomes are not described (a) ...": the list that follows says they are
    if any(c.dep_ in ("aux", "auxpass") and c.lower_ in HEDGES for c in root.children):
        return False  # "may not result" does not contradict "may result"
    if any(t.lower_ in ("where", "including", "include", "includes") or t.text in ("...", "…") for t in doc):
        return False  # "not found in X, where it has been recorded", "did not compete, including F2 athletes":
        # the clause or the list presupposes the claim
    if is_title(doc) or any(t.dep_ == "conj" and t.i > root.i for t in doc):
        return False  # a title ("comment on ... and authors reply"); "not washed out and unable to condense":
        # one conjunct negated, the other not
    if any(c.dep_ == "advmod" and c.tag_ == "RB" and c.lower_.endswith("ly") for c in root.children):
        return False  # "was not solved approximately": the negation lands on the manner adverb
    if any(t.dep_ == "mark" and t.lower_ in ("because", "since", "as", "although") for t in doc) or (
            "in that" in doc.text.lower()):
        return False  # a reason clause keeps presupposing the un-negated claim
    if any(t.text == "(" or t.text == "," and t.i + 1 < len(doc) and doc[t.i + 1].lower_ == "which"
           for t in doc[root.i + 1 :]):
        return False  # "not found in China (Sichuan, Tibet)", "does not switch ..., which makes it":
        # the bracket lists where it is found, the clause builds on the claim
    if any(t.text == "," and t.i + 1 < len(doc) and doc[t.i + 1].tag_ == "VBG" and t.i > root.i for t in doc):
        return False  # "refused to turn over the papers, asserting his right": the participle explains the claim
    if any(t.lemma_.lower() in AIMS and t.dep_ == "pobj" and t.i < root.i for t in doc):
        return False  # "As an example, the methods are applied to ...": the aim presupposes the claim
    if not any(c.dep_ in ("nsubj", "nsubjpass", "expl") and c.i < root.i for c in root.children):
        return False  # imperative, inverted or fragment
    opened = [t.i for t in doc[: root.i] if t.text == "("]
    if opened and not any(t.text == ")" for t in doc[opened[-1] : root.i]):
        return False  # the parsed main verb sits in a parenthesis: "(where 100 books have been produced)"
    finite = root.tag_ in ("VBD", "VBZ", "VBP") or any(
        c.dep_ in ("aux", "auxpass") and c.tag_ in ("VBD", "VBZ", "VBP", "MD") for c in root.children)
    if not finite:
        return False
    for c in root.children:
        if c.dep_ in ("conj", "parataxis", "csubj") and c.pos_ in ("VERB", "AUX"):
            return False  # "X passed 5,000 and hit 5,013": negating one part contradicts the other
        if c.dep_ == "advcl" and (c.tag_ in ("VBG", "VBN") or not any(m.dep_ == "mark" for m in c.children)):
            return False  # "..., hitting a total of 5,013"
        if c.dep_ == "ccomp" and c.i < root.i:
            return False  # 'X, he said' -- negating the speech tag
    if root.lemma_ in SPEECH_VERBS and any(c.dep_ == "ccomp" for c in root.children) and "," in doc.text:
        return False
    return True


def _add(doc: Any, root: Any) -> Perturbation | None:
    auxes = [c for c in root.children if c.dep_ in ("aux", "auxpass") and c.i < root.i]
    if auxes:
        aux = auxes[0]
        if aux.tag_ == "TO" or aux.text.startswith("'") or not whole_word(aux) or aux.i == 0:
            return None
        if aux.lemma_.lower() not in AUXILIARIES:
            return None  # "Levi became known": "became not known" is not English
        if aux.lower_ == "can" and (root.lemma_ == "be" or any(c.lemma_ == "be" for c in root.children)):
            return None  # "it can be difficult" -> "it cannot be difficult" reads as "it must be easy"
        new = match_case("cannot", aux.text) if aux.lower_ == "can" else f"{aux.text} {match_case('not', aux.text)}"
        return replace_spans(doc.text, [token_edit(aux, new)], Category.NEGATION)
    if root.lemma_ == "be":
        if root.text.startswith("'") or not whole_word(root) or any(c.dep_ == "expl" for c in root.children):
            return None  # "There is not speculation that ..." wants "no speculation"
        if _predicate_repeats(doc, root):
            return None  # "The script is bad, very bad": the repeat would contradict "is not bad"
        return replace_spans(doc.text, [token_edit(root, f"{root.text} {match_case('not', root.text)}")],
                             Category.NEGATION)  # "IS NOT" in all-caps text
    do = {"VBZ": "does", "VBD": "did", "VBP": "do"}.get(root.tag_)
    prev = doc[root.i - 1]
    if do is None or not whole_word(root) or prev.pos_ in ("ADV", "PUNCT") or root.text[:1].isupper():
        return None  # "The dog quickly bit" -> keep it simple and skip
    if _participle_in_noun_phrase(doc, root) or not is_verb(root.lemma_) or root.lemma_ in NO_DO_SUPPORT:
        return None  # "c3h/he sarcoma mc1m": a noun misread as the verb would get "do not sarcoma"
    if inflect(root.lemma_, root.tag_) != root.lower_:
        return None  # a wrong lemma: "hoped" -> "hop" would give "did not hop"
    subj = next((c for c in root.children if c.dep_ in ("nsubj", "expl")), None)
    if subj is None or subj.pos_ not in ("NOUN", "PROPN", "PRON"):
        return None  # "axisymmetric snap buckling of shells": a title misread as a clause
    if any(c.dep_ == "prt" for c in root.children) and root.lemma_ == "have":
        return None
    return replace_spans(doc.text, [token_edit(root, f"{do} not {root.lemma_}")], Category.NEGATION)


def _predicate_repeats(doc: Any, root: Any) -> bool:
    """A word of the predicate ("bad", "up") that the sentence says twice ("bad, very bad")."""
    words = {w.lower_ for c in root.children if c.dep_ in ("acomp", "attr", "advmod", "prep") for w in c.subtree
             if w.is_alpha and (w.pos_ in ("ADJ", "ADV", "NOUN") or w.lower_ in ("up", "down"))}
    return any(sum(w.lower_ == x for w in doc) > 1 for x in words)


def _participle_in_noun_phrase(doc: Any, root: Any) -> bool:
    """ "lipids in the x-ray irradiated rabbit organs": an -ed modifier misread as the main verb."""
    prev, nxt = doc[root.i - 1], doc[root.i + 1] if root.i + 1 < len(doc) else None
    return (root.tag_ == "VBD" and root.lower_.endswith("ed") and prev.dep_ in ("pobj", "compound")
            and nxt is not None and nxt.dep_ in ("compound", "amod"))


def _remove(doc: Any, root: Any, neg: Any) -> Perturbation | None:
    nxt = doc[neg.i + 1] if neg.i + 1 < len(doc) else None
    if nxt is not None and nxt.lower_ in AFTER_NOT_FIXED:
        return None  # "not only", "not until", "not just", "not because"
    if any(t.lower_ in ("any", "anything", "anyone", "anybody", "anywhere", "ever", "yet", "either", "neither", "nor",
                        "but", "much", "all", "whatsoever", "unless", "until", "instead", "rather", "without",
                        "anytime", "even")
           for t in doc):
        return None  # "did not have any" -> "had any"
    text = doc.text
    if neg.lower_ == "n't":
        aux = doc[neg.i - 1]
        whole = aux.text + neg.text
        base = CONTRACTIONS.get(whole.lower())
        if base is None or aux.i == 0:
            return None
        start, end = aux.idx, neg.idx + len(neg.text)
        if base in ("can", "could") and root.lemma_ in EMPHATIC:
            return None  # "I can't tell you how disappointed I was" is emphasis, not a negation
        if base in DO_TENSE:
            return _drop_do(doc, root, aux, base, start)
        return replace_spans(text, [(start, end, match_case(base, whole))], Category.NEGATION)
    prev = doc[neg.i - 1] if neg.i else None
    if prev is None or prev.i == 0:
        return None
    if prev.lower_ == "can" and not prev.whitespace_:  # "cannot" -> "can"
        return replace_spans(text, [(prev.idx, neg.idx + len(neg.text), prev.text)], Category.NEGATION)
    if prev.lower_ in DO_TENSE:
        return _drop_do(doc, root, prev, prev.lower_, prev.idx)
    if prev.dep_ not in ("aux", "auxpass", "ROOT") or prev.head.i not in (root.i, prev.i):
        return None
    return replace_spans(text, [(prev.idx, neg.idx + len(neg.text), prev.text)], Category.NEGATION)


def _drop_do(doc: Any, root: Any, do: Any, base: str, start: int) -> Perturbation | None:
    """ "did not bite" -> "bit", "does not run" -> "runs" (the verb must follow "not" directly)."""
    if root.tag_ != "VB" or doc[root.i - 1].dep_ != "neg" or do.head.i != root.i:
        return None
    form = inflect(root.lemma_, DO_TENSE[base])
    if form is None:
        return None
    return replace_spans(doc.text, [(start, root.idx + len(root.text), form)], Category.NEGATION)


def _flip_adverb(doc: Any, adverb: Any) -> Perturbation | None:
    nxt = doc[adverb.i + 1] if adverb.i + 1 < len(doc) else None
    if nxt is not None and nxt.lower_ in ("before", "again", "been", "ever", "once", "more", "less"):
        return None  # "never before" -> "always before"
    if adverb.lower_ == "never" and any(t.lower_ in POLARITY - {"never"} for t in doc):
        return None  # "never ... any" -> "always ... any"
    new = "never" if adverb.lower_ == "always" else "always"
    return replace_spans(doc.text, [token_edit(adverb, match_case(new, adverb.text))], Category.NEGATION)


def _flip_quantifier(doc: Any, root: Any) -> Perturbation | None:
    """ "All students passed." -> "No students passed." (sentence-initial determiner of the subject)."""
    first = doc[0]
    if first.lower_ not in QUANTIFIER_FLIPS or first.dep_ != "det" or first.head.dep_ not in ("nsubj", "nsubjpass"):
        return None
    if first.head.head.i != root.i or doc[1].lower_ in ("the", "of", "these", "those", "this", "that", "its", "their"):
        return None
    if first.lower_ == "all" and first.head.tag_ != "NNS" or first.lower_ == "every" and first.head.tag_ != "NN":
        return None
    if any(t.lower_ in POLARITY - {"all", "every"} or t.dep_ == "neg" for t in doc):
        return None
    return replace_spans(doc.text, [token_edit(first, match_case("no", first.text))], Category.NEGATION)
