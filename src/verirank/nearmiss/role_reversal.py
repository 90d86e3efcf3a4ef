"""Role reversal: swap subject and object of a transitive verb (or the two sides of a passive).

"The dog bit the man." -> "The man bit the dog."; "The man was bitten by the dog." -> "The dog was
bitten by the man."  Both noun phrases must be short, of the same kind (two people, two
organisations, two places; by the named-entity tag or a list of person/organisation nouns), and
the verb must not be symmetric or light ("meet", "have", "take"): otherwise the swap reads as
nonsense ("The sound barrier broke SpaceShipOne") or means the same.  Verb agreement is redone
for the new subject; when it cannot be, the rule declines.
"""

from __future__ import annotations

import random
from typing import Any

from verirank.nearmiss._nlp import inflect
from verirank.nearmiss.base import (
    Perturbation, has_quote, is_plural, np_text_at, number_is_clear, replace_spans, simple_np, span_chars, token_edit,
)
from verirank.types import Category

# symmetric, light, possessive or idiomatic verbs: swapping their arguments means the same or nothing
SKIP_VERBS = {"have", "take", "make", "give", "reach", "win", "get", "do", "know", "rival", "resemble", "meet",
              "marry", "equal", "face", "play", "join", "hold", "reverse", "prevail", "cost", "place", "become",
              "include", "contain", "lack", "mean", "represent", "fight", "battle", "date", "divorce", "match",
              "tie", "lead", "say", "name", "call", "elect", "appoint", "let", "find", "need", "want", "use",
              "keep", "bring", "put", "set", "run", "own", "start", "form", "found", "create", "open", "close",
              "launch", "release", "publish", "produce", "show", "describe", "present", "receive", "draw",
              "cover", "host", "feature", "star", "encounter", "accompany", "partner", "merge", "share", "split",
              "trade", "swap", "exchange", "precede", "top", "trail", "lose", "owe", "charge", "cite", "quote",
              "report", "note", "mention", "date", "resemble", "befriend", "build", "construct", "design", "write",
              "compose", "paint", "manufacture", "develop", "invent", "patronise", "patronize", "reference"}
PLACE_PREPS = {"behind", "near", "beside", "next", "beneath", "above", "below", "under", "with", "without", "from",
               "of", "inside", "outside", "around", "between", "among", "opposite", "alongside", "front", "by"}
# powers one side holds over the other ("the FDA approved the drug", "a judge sentenced a man"): the
# swap makes the weaker side act with the stronger's authority, which reads as absurd, not reversed
AUTHORITY_VERBS = {"approve", "ban", "sentence", "arrest", "promote", "convict", "pardon", "indict", "fine",
                   "license", "accredit", "reimburse", "regulate", "employ", "hire", "fire", "sack", "fund",
                   "finance", "expel", "suspend", "punish", "bar", "compensate", "recruit", "audit", "detain",
                   "deport", "nominate", "dismiss", "discharge", "admit", "enroll", "ordain", "knight", "crown"}
PEOPLE = {
    "man", "woman", "boy", "girl", "child", "kid", "baby", "teacher", "student", "pupil", "doctor", "patient",
    "nurse", "surgeon", "physician", "officer", "policeman", "judge", "lawyer", "attorney", "prosecutor",
    "defendant", "plaintiff", "juror", "soldier", "customer", "client", "parent", "driver", "worker", "manager",
    "employee", "employer", "boss", "senator", "president", "minister", "governor", "mayor", "voter", "buyer",
    "seller", "landlord", "tenant", "author", "editor", "reader", "critic", "fan", "mother", "father", "brother",
    "sister", "son", "daughter", "wife", "husband", "friend", "neighbour", "neighbor", "king", "queen", "prince",
    "princess", "investor", "bidder", "attacker", "victim", "suspect", "witness", "researcher", "scientist",
    "engineer", "pilot", "passenger", "leader", "chairman", "director", "executive", "spokesman", "spokeswoman",
    "official", "agent", "detective", "guard", "prisoner", "inmate", "athlete", "player", "coach", "actor",
    "actress", "singer", "artist", "professor", "banker", "tourist", "secretary", "doctor", "dentist", "priest",
    "bishop", "pope", "candidate", "rival", "opponent", "colleague", "partner", "stranger", "lawmaker",
    "activist", "reporter", "journalist", "photographer", "farmer", "hunter", "thief", "robber", "gunman",
    "sheriff", "cop", "trooper", "commander", "general", "captain", "sergeant", "lieutenant", "manager",
    "athlete", "senator", "congressman", "representative", "ambassador", "diplomat", "consultant", "analyst",
    "banker", "trader", "broker", "student", "scholar", "tutor", "child", "grandmother", "grandfather", "uncle",
    "aunt", "cousin", "nephew", "niece", "girlfriend", "boyfriend", "fiancee", "bride", "groom",
}
ANIMALS = {"dog", "cat", "wolf", "lion", "tiger", "bear", "bird", "horse", "cow", "mouse", "rat", "snake", "shark",
           "fox", "rabbit", "monkey", "puppy", "kitten", "eagle", "hawk", "owl", "spider", "bee", "predator"}
ORGS = {"company", "firm", "bank", "government", "court", "team", "union", "committee", "board", "agency",
        "university", "club", "airline", "retailer", "supplier", "manufacturer", "startup", "party", "council",
        "ministry", "department", "newspaper", "network", "studio", "school", "hospital", "insurer", "bidder",
        "rival", "competitor", "regulator", "corporation", "group"}
ORG_VERBS = {"acquire", "buy", "purchase", "sue", "defeat", "hire", "fund", "finance", "overtake", "sponsor",
             "support", "back", "criticize", "criticise", "accuse", "fine", "investigate", "regulate", "supply",
             "attack", "invade", "surpass", "outsell", "outperform", "employ", "sell", "license", "warn", "urge",
             "pressure", "fire", "sack", "recruit", "bail", "rescue", "absorb", "target", "blame", "condemn",
             "praise", "thank", "reject", "approve", "endorse", "oppose", "lobby", "advise", "audit", "compensate",
             "reimburse", "invite", "bar", "ban", "expel", "suspend", "punish", "threaten", "beat", "overtook"}
# verbs relating two things, where swapping them reads naturally and reverses the claim
RELATIONAL_VERBS = {"affect", "influence", "cause", "induce", "inhibit", "stimulate", "suppress", "activate",
                    "block", "precede", "exceed", "replace", "dominate", "control", "trigger", "enhance", "reduce",
                    "prevent", "damage", "destroy", "absorb", "surround", "drive", "determine", "regulate",
                    "modulate", "limit", "excite", "stabilize", "destabilize", "outweigh", "outperform", "bind",
                    "degrade", "kill", "infect", "invade", "displace", "obscure", "amplify", "attenuate",
                    "counteract", "antagonize", "potentiate", "penetrate", "dwarf", "overshadow", "feed",
                    "protect", "accelerate", "delay", "deflect", "heat", "cool", "shield", "predict", "explain"}
ANIMAL_VERBS = {"bite", "chase", "attack", "follow", "see", "watch", "kill", "hunt", "scare", "frighten", "lick",
                "smell", "hear", "catch", "eat", "notice", "ignore", "fear", "approach", "avoid"}
BE_FORMS = {("VBZ", False): "is", ("VBZ", True): "are", ("VBP", False): "is", ("VBP", True): "are",
            ("VBD", False): "was", ("VBD", True): "were"}
SUBORDINATORS = {"before", "after", "while", "when", "since", "because", "although", "though", "if", "unless", "until",
                 "once", "as", "whereas"}
RELATIVES = {"who", "whom", "whose", "which"}
KIND_OF_ENT = {"PERSON": "person", "ORG": "org", "GPE": "place", "NORP": "group"}


def perturb(doc: Any, rng: random.Random | None = None) -> Perturbation | None:
    """Swap the arguments of the first suitable transitive verb; None when none fits (``rng`` unused)."""
    if has_quote(doc) or doc[-1].text == "?":
        return None
    if doc[0].lower_ in SUBORDINATORS and not any(t.text == "," for t in doc):
        return None  # "Before the tourists paid the banker helped the judges": where the clause ends is a guess
    if any(t.lower_ in RELATIVES for t in doc):
        return None  # "The judge who the scientists helped thanked the managers": the parser mixes the two clauses
    for verb in doc:
        args = _arguments(verb)
        if args is None:
            continue
        subj, obj = args
        if any(c.dep_ in ("acl", "relcl") for head in (subj, obj) for c in head.children):
            continue  # a clause on either noun would stay behind with the other one
        a, b = simple_np(subj), simple_np(obj)
        if a is None or b is None or a[1] > b[0] or doc[a[0] : a[1]].text.lower() == doc[b[0] : b[1]].text.lower():
            continue
        kind_a, kind_b = _kind(subj), _kind(obj)
        if (kind_a is None and verb.lemma_ in RELATIONAL_VERBS and _plain_thing(subj) and _plain_thing(obj)
                and subj.lemma_.lower() == obj.lemma_.lower()):
            kind_a = kind_b = "thing"  # "the prandtl number is replaced by the schmidt number": one kind of thing
        if {kind_a, kind_b} == {"animal", "person"} or kind_a == kind_b == "animal":
            if verb.lemma_ not in ANIMAL_VERBS:
                continue  # "hunters shoot wolves" -> "wolves shoot hunters" is nonsense
            kind_a = kind_b = "animal"
        if kind_a is None or kind_a != kind_b:
            continue
        if kind_a == "org" and verb.lemma_ not in ORG_VERBS:
            continue  # "IBM introduced the R8000" -> nonsense when the object is not a like agent
        if kind_a in ("place", "group") and verb.lemma_ not in ORG_VERBS:
            continue
        out = _swap(doc, verb, subj, obj, a, b)
        if out is not None:
            return out
    return None


def _arguments(verb: Any) -> tuple[Any, Any] | None:
    lemma = verb.lemma_.lower()
    if verb.pos_ != "VERB" or lemma in SKIP_VERBS or lemma in AUTHORITY_VERBS or verb.dep_ == "advcl":
        return None  # advcl: "While the doctor paid the bankers mentioned ..." is a garden path
    if any(c.dep_ in ("prt", "dative", "xcomp", "ccomp", "oprd", "neg") for c in verb.children):
        return None  # "brought out", "named him chairman", "told X that ..."
    if any(c.dep_ == "prep" and c.lower_ in ("of", "for", "as") and c.i > verb.i for c in verb.children):
        return None  # "accused Lieberman of presiding over the economy": the charge fits only the object
    subj = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    if subj is None:
        return None
    if any(c.dep_ == "conj" for c in verb.children) or any(w.tag_ == "PRP$" for w in verb.doc):
        return None  # "proposed by X and seconded by Y"; "than her brother": a pronoun would change referent
    if any(w.lower_ in PLACE_PREPS for w in verb.doc[verb.i + 1 :] if w.i > _last_arg(verb)):
        return None  # "avoided the judge behind the doctors": whoever it attaches to, the phrase stays put
    if any(c.dep_ == "advcl" and c.tag_ == "VBN" and c.i > verb.i for c in verb.children):
        return None  # "stopped the president presented in the library": the participle would stay behind
    before = subj.left_edge.i - 1
    if before >= 0 and verb.doc[before].pos_ in ("VERB", "AUX"):
        return None  # "The author that helped the student stopped the actor": the subject is misparsed
    if any(w.text in (",", "(", ";") for w in verb.doc[subj.left_edge.i : verb.i]):
        return None  # "A new keyboard, for paper tape input will replace ...": its modifiers would stay behind
    if subj.dep_ == "nsubj":
        if verb.tag_ not in ("VBD", "VBZ", "VBP") and not any(c.dep_ == "aux" for c in verb.children):
            return None
        obj = next((c for c in verb.children if c.dep_ == "dobj"), None)
        return (subj, obj) if obj is not None and subj.i < verb.i < obj.i else None
    agent = next((c for c in verb.children if c.dep_ == "agent"), None)
    obj = next((c for c in agent.children if c.dep_ == "pobj"), None) if agent is not None else None
    return (subj, obj) if obj is not None and subj.i < verb.i < obj.i else None


def _last_arg(verb: Any) -> int:
    """Index of the object's head (the "by" agent's noun in a passive), or of the verb when there is none."""
    obj = next((c for c in verb.children if c.dep_ == "dobj"), None)
    agent = next((c for c in verb.children if c.dep_ == "agent"), None)
    if obj is None and agent is not None:
        obj = next((c for c in agent.children if c.dep_ == "pobj"), None)
    return obj.i if obj is not None else verb.i


def _plain_thing(head: Any) -> bool:
    """A common noun that is not a person, a pronoun, a number or part of a name."""
    return (head.pos_ == "NOUN" and not head.ent_type_ and head.lemma_.lower() not in PEOPLE
            and not any(w.like_num or w.pos_ in ("PRON", "PROPN") for w in head.subtree))


def _kind(head: Any) -> str | None:
    """"person", "org", "place" or "group", or None for anything that cannot act."""
    if head.pos_ == "PROPN":
        return KIND_OF_ENT.get(head.ent_type_)
    if head.ent_type_:
        return None
    lemma = head.lemma_.lower()
    if lemma in PEOPLE:
        return "person"
    if lemma in ANIMALS:
        return "animal"
    if lemma in ORGS:
        return "org"
    return None


def _swap(doc: Any, verb: Any, subj: Any, obj: Any, a: tuple[int, int], b: tuple[int, int]) -> Perturbation | None:
    if not (number_is_clear(subj) and number_is_clear(obj)):
        return None  # the verb's agreement with the new subject would be a guess
    edits = [(*span_chars(doc, *a), np_text_at(doc, b, sentence_start=a[0] == 0)),
             (*span_chars(doc, *b), np_text_at(doc, a, sentence_start=False))]
    new_plural, old_plural = is_plural(obj), is_plural(subj)
    if new_plural != old_plural:  # agreement with the new subject
        if any(c.dep_ == "conj" and c.pos_ in ("VERB", "AUX") for c in verb.children):
            return None  # "... and has" would need fixing too
        agree = next((t for t in (*[c for c in verb.children if c.dep_ in ("aux", "auxpass")], verb)
                      if t.tag_ in ("VBZ", "VBP") or (t.lemma_ == "be" and t.tag_ == "VBD")), None)
        if agree is not None:
            if agree.lemma_ == "be":
                form = BE_FORMS.get((agree.tag_, new_plural))
            elif agree.lemma_ == "have":
                form = "have" if new_plural else "has"
            elif agree.lemma_ == "do":
                form = "do" if new_plural else "does"
            else:
                form = inflect(agree.lemma_, "VBP" if new_plural else "VBZ")
            if form is None:
                return None
            edits.append(token_edit(agree, form))
    return replace_spans(doc.text, edits, Category.ROLE_REVERSAL)
