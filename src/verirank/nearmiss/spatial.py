"""Spatial / directional flips: left<->right, above<->below, north<->south, inside<->outside ...

Each word is flipped only in its spatial use, checked on the parse: "left"
and "right" only for sides ("the left lung", "to the right of"), "upper"/"lower" only on parts
("the upper surface"), "above"/"below" only as prepositions of place, compass words only in
lower case outside names.  "from A to B" between two places is reversed.  Words inside names,
hyphenated compounds or idioms ("above all", "top aide") are left alone.

before<->after is not flipped: in the audits (rounds 3+4) 78% of its real-text flips were valid,
the rest put an effect before its cause, which the parse cannot see.
"""

from __future__ import annotations

import random
from typing import Any

from verirank.nearmiss.base import (
    Perturbation, default_rng, np_text_at, replace_spans, replace_word, simple_np, span_chars, whole_word,
)
from verirank.types import Category

PAIRS = {
    "left": "right", "above": "below", "north": "south", "east": "west",
    "northern": "southern", "eastern": "western", "northward": "southward", "eastward": "westward",
    "northwards": "southwards", "inside": "outside", "upstream": "downstream", "upper": "lower",
    "inner": "outer", "interior": "exterior", "upward": "downward", "upwards": "downwards",
    "ascending": "descending", "uphill": "downhill", "inbound": "outbound", "leftward": "rightward",
    "forward": "backward", "forwards": "backwards", "windward": "leeward", "clockwise": "counterclockwise",
    "leading": "trailing", "inlet": "outlet", "upwind": "downwind", "horizontal": "vertical",
    "horizontally": "vertically", "top": "bottom", "internal": "external", "northeast": "southwest", "northwest": "southeast", "northeastern": "southwestern",
    "northwestern": "southeastern", "overhead": "underfoot",
}
FLIPS = {**PAIRS, **{v: k for k, v in PAIRS.items()}}
FLIPS["anticlockwise"] = "clockwise"
del FLIPS["underfoot"], FLIPS["overhead"]

SIDE_NOUNS = {"side", "hand", "arm", "leg", "foot", "eye", "ear", "lung", "kidney", "ventricle", "atrium", "lobe",
              "wing", "bank", "lane", "turn", "half", "corner", "shoulder", "knee", "hip", "breast", "hemisphere",
              "border", "margin", "bronchus", "ovary", "testis", "arm", "wrist", "ankle", "elbow", "cheek", "flank",
              "field", "column", "panel", "engine", "wheel", "tire", "tyre", "door", "window", "seat", "edge",
              "temporal", "frontal", "femur", "thigh", "heart", "atrial", "coronary", "carotid", "artery", "vein"}
PART_NOUNS = {"surface", "side", "wall", "part", "portion", "end", "edge", "half", "limb", "limbs", "lip", "jaw",
              "lobe", "floor", "deck", "layer", "stage", "section", "region", "extremity",
              "extremities", "arm", "leg", "abdomen", "tract", "airway", "branch", "corner", "panel", "plate",
              "boundary", "body", "chamber", "reaches", "lid", "eyelid", "shell", "skin",
              "cylinder", "radius", "ring", "core", "ear", "membrane", "rim", "margin", "pole", "stratosphere",
              "troposphere", "mantle", "crust", "bank", "lobes", "row", "tier", "storey", "story", "floors",
              "wing", "fuselage", "nozzle", "duct", "pipe", "tube", "flow", "cone", "quadrant", "jaw", "teeth",
              "incisor", "molar", "back", "chest", "thorax", "esophagus", "gastrointestinal", "respiratory",
              "urinary", "flap", "hull", "segment", "sphere", "plane"}
PHYSICAL_NOUNS = PART_NOUNS | {"pressure", "heat", "structure", "diameter", "geometry", "load", "field",
                               "combustion", "organ", "organs", "flow", "flows", "tail", "axis", "direction",
                               "distance", "velocity", "component", "line", "position", "motion", "stabilizer",
                               "wind", "winds", "fin", "displacement", "acceleration", "gradient", "slope",
                               "jet", "beam", "shear", "movement", "profile", "coordinate", "aorta", "colon",
                               "order", "node", "edge", "edges", "fibers", "fibres", "bleeding", "ventilation"}
LOCATIVE_HEADS = {"be", "lie", "sit", "hang", "locate", "place", "position", "mount", "fly", "hover", "remain",
                  "stand", "situate", "float", "appear", "park", "live", "store", "keep", "build", "grow",
                  "find", "occur", "form", "install", "attach", "fix", "set", "stay", "wait", "put", "see"}
MOTION_VERBS = {"move", "step", "lean", "tilt", "roll", "slide", "shift", "travel", "run", "walk", "drive", "swim",
                "fly", "push", "pull", "fall", "swing", "rotate", "turn", "sweep", "bend", "jump", "propagate",
                "lurch", "pitch", "spin", "flow", "extend", "advance", "crawl", "drift", "stretch", "deflect"}
REGION_NOUNS = {"part", "region", "area", "coast", "border", "boundary", "side", "half", "edge", "shore", "slope",
                "end", "city", "state", "province", "town", "suburb", "flank", "range", "portion", "sector", "zone",
                "hemisphere", "country", "district", "county", "village", "front", "wall", "wing", "bank", "outskirts"}
PLACE_ENTS = {"GPE", "LOC", "NORP", "FAC"}
PLACE_LISTS = {"including", "include", "includes", "where", ":", "such", "e.g.", "like"}


def perturb(doc: Any, rng: random.Random | None = None) -> Perturbation | None:
    """Flip one spatial word (seeded choice among the safe ones), or reverse "from A to B"."""
    rng = default_rng(rng)
    spots = [t for t in doc if t.lower_ in FLIPS and _allowed(t)]
    route = _from_to(doc)
    if route is not None and (not spots or rng.random() < 0.5):
        return route
    if not spots:
        return None
    t = rng.choice(spots)
    new = FLIPS[t.lower_]
    if t.lower_ == "left" and t.pos_ == "VERB":
        return None
    return replace_word(doc, t, new, Category.SPATIAL)  # redoes "a"/"an": "an upper" -> "a lower"


def _allowed(t: Any) -> bool:
    word = t.lower_
    doc = t.doc
    if any(w.lower_ == FLIPS[word] for w in doc):
        return False  # "upstream and downstream sampling" would become "upstream and upstream"
    if t.ent_type_ or t.pos_ == "PROPN" or (t.text[:1].isupper() and t.i > 0) or t.text.isupper() and len(t.text) > 1:
        return False  # "East Bank", "Northern Ireland", "Left Behind"
    if not whole_word(t) or (t.i + 1 < len(doc) and doc[t.i + 1].text == "-") or (t.i > 0 and doc[t.i - 1].text == "-"):
        return False  # "east-southwest", "top-level"
    head, nxt = t.head, (doc[t.i + 1] if t.i + 1 < len(doc) else None)
    prev = doc[t.i - 1] if t.i > 0 else None
    if word in ("left", "right"):
        if t.pos_ == "ADJ" and t.dep_ == "amod":
            return head.lemma_.lower() in SIDE_NOUNS
        return (t.pos_ == "NOUN" and t.dep_ == "pobj" and prev is not None and prev.lower_ == "the"
                and t.head.lower_ in ("to", "on", "at", "from") and (nxt is None or nxt.lower_ in ("of", ",", ".")))
    if word in ("above", "below"):
        pobj = next((c for c in t.children if c.dep_ == "pobj"), None)
        if t.pos_ != "ADP" or pobj is None or pobj.lower_ in ("all", "average", "expectations", "par", "normal"):
            return False
        if any(w.like_num for w in pobj.subtree) or pobj.lemma_.lower() in ("level", "value", "threshold", "limit",
                                                                             "poverty", "line"):
            return False  # "levels above 12 mm hg" after "increased": a quantity, not a place
        return (head.pos_ in ("NOUN", "PROPN") and head.lemma_.lower() in PHYSICAL_NOUNS | {"area", "room", "sky", "cloud", "clouds", "ground", "water", "sea", "point", "shelf", "floor", "layer", "zone", "region"}) or (
            head.pos_ in ("VERB", "AUX") and head.lemma_ in LOCATIVE_HEADS and not any(w.like_num for w in pobj.subtree))
    if word in ("inside", "outside"):
        pobj = next((c for c in t.children if c.dep_ == "pobj"), None)
        return (t.pos_ == "ADP" and pobj is not None and pobj.pos_ == "NOUN"
                and pobj.lemma_.lower() not in ("range", "scope", "limit", "bound", "interval", "domain", "field", "money"))
    if word in ("north", "south", "east", "west", "northeast", "southwest", "northwest", "southeast"):
        return (nxt is not None and nxt.lower_ == "of") or (prev is not None and prev.lower_ == "the" and t.dep_ == "pobj")
    if word in ("northern", "southern", "eastern", "western", "northeastern", "southwestern", "northwestern",
                "southeastern"):
        if _other_places(t) or any(w.lower_ in PLACE_LISTS for w in doc):
            return False  # "eastern Africa, including Cameroon": the named places contradict the flip
        return (nxt is not None and nxt.pos_ == "PROPN") or head.lemma_.lower() in REGION_NOUNS
    if word in ("upstream", "downstream"):
        return t.pos_ == "ADV" or head.lemma_.lower() in PHYSICAL_NOUNS | {"side", "end", "station", "condition"}
    if word in ("upper", "lower"):
        return t.dep_ == "amod" and head.pos_ == "NOUN" and head.lemma_.lower() in PART_NOUNS and t.i + 1 == head.i
    if word in ("inner", "outer", "interior", "exterior", "internal", "external", "horizontal", "vertical"):
        if t.pos_ == "NOUN":
            return prev is not None and prev.lower_ == "the" and nxt is not None and nxt.lower_ == "of"
        if head.lemma_.lower() in ("field", "force", "pressure"):
            return False  # "an applied external field", "internal forces": terms, not places
        return t.dep_ == "amod" and head.pos_ == "NOUN" and head.lemma_.lower() in PHYSICAL_NOUNS
    if word in ("top", "bottom"):
        return (t.pos_ == "NOUN" and prev is not None and prev.lower_ == "the" and nxt is not None
                and nxt.lower_ == "of" and t.dep_ == "pobj" and t.head.lower_ in ("at", "on", "to", "from", "near"))
    if word in ("leading", "trailing"):
        return nxt is not None and nxt.lower_ in ("edge", "edges")
    if word in ("forward", "backward", "forwards", "backwards"):
        return t.pos_ == "ADV" and t.dep_ == "advmod" and head.lemma_ in MOTION_VERBS
    if word in ("ascending", "descending"):
        return t.dep_ == "amod" and head.pos_ == "NOUN"
    return True  # upstream, downstream, northern, inlet/outlet, upward, clockwise, windward, ...


def _other_places(t: Any) -> bool:
    """A named place in the sentence other than the one ``t`` modifies ("northern Italy")."""
    own = t.i + 1
    return any(w.ent_type_ in PLACE_ENTS and w.i != own and not (w.ent_iob_ == "I" and w.i > own and
               all(x.ent_iob_ == "I" for x in t.doc[own + 1 : w.i + 1])) for w in t.doc)


def _from_to(doc: Any) -> Perturbation | None:
    """ "flew from Paris to London" -> "flew from London to Paris" (two places of one verb)."""
    for frm in doc:
        if frm.lower_ != "from" or frm.dep_ != "prep":
            continue
        to = next((c for c in frm.head.children if c.lower_ == "to" and c.dep_ == "prep" and c.i > frm.i), None)
        if to is None:
            continue
        p1 = next((c for c in frm.children if c.dep_ == "pobj"), None)
        p2 = next((c for c in to.children if c.dep_ == "pobj"), None)
        if p1 is None or p2 is None or p1.ent_type_ not in ("GPE", "LOC", "FAC") or p2.ent_type_ not in ("GPE", "LOC", "FAC"):
            continue
        a, b = simple_np(p1), simple_np(p2)
        if a is None or b is None or doc[a[0] : a[1]].text == doc[b[0] : b[1]].text or a[1] != to.i:
            continue
        return replace_spans(doc.text, [(*span_chars(doc, *a), np_text_at(doc, b, False)),
                                        (*span_chars(doc, *b), np_text_at(doc, a, False))], Category.SPATIAL)
    return None
