"""Spatial / directional flips: left<->right, north<->south, upstream<->downstream, upper<->lower ...

Each word is flipped only in its spatial use, checked on the parse: "left" and "right" only for
sides ("the left lung", "to the right of"), "upper"/"lower" only on parts ("the upper surface"),
compass words only in lower case outside names.  Words inside names, hyphenated compounds or
idioms ("top aide") are left alone, and so is a word whose opposite the sentence already uses.

"above"/"below" and "inside"/"outside" only after a verb of physical position ("hangs above the
table"): elsewhere the audits found amounts, rankings and domains ("above the control weights",
"outside the area of").

Not flipped, because the audits (reports/nearmiss_audit) found them wrong too often for a rule on
the parse to fix: before/after (78% valid: an effect put before its cause), downstream, downwind and
trailing towards the other side (see ONE_WAY), vertical/horizontal (one contradicts "beneath" or a
datum), internal/external ("external loads" are applied loads, "internal loads" are stresses),
uphill/downhill ("the downhill method"), upward/downward ("downward spiral", price moves),
inbound/outbound, "the interior of" as a noun, and "from A to B" between places (a range whose two
ends mean the same either way).
"""

from __future__ import annotations

import random
from typing import Any

from verirank.nearmiss.base import (
    Perturbation, default_rng, replace_word, whole_word,
)
from verirank.types import Category

PAIRS = {
    "left": "right", "above": "below", "inside": "outside", "north": "south", "east": "west",
    "northern": "southern", "eastern": "western", "northward": "southward", "eastward": "westward",
    "northwards": "southwards", "upstream": "downstream", "upper": "lower",
    "inner": "outer", "interior": "exterior",
    "ascending": "descending", "leftward": "rightward",
    "forward": "backward", "forwards": "backwards", "windward": "leeward", "clockwise": "counterclockwise",
    "leading": "trailing", "inlet": "outlet", "upwind": "downwind", "top": "bottom", "northeast": "southwest",
    "northwest": "southeast", "northeastern": "southwestern",
    "northwestern": "southeastern", "overhead": "underfoot",
}
FLIPS = {**PAIRS, **{v: k for k, v in PAIRS.items()}}
FLIPS["anticlockwise"] = "clockwise"
del FLIPS["underfoot"], FLIPS["overhead"]
# One way only: a flow carries its effects downstream and downwind, and leaves a wing at the trailing
# edge, so these words often state a consequence that cannot happen on the other side ("lake-effect
# snow downwind of the lakes", "the Kutta condition at the trailing edge").  Audit rounds 6-9:
# downstream->upstream 19/25 valid, downwind->upwind 3/7, trailing->leading 15/18; the reverse
# flips 20/20 and 94/94.
ONE_WAY = {"downstream", "downwind", "trailing"}
for _word in ONE_WAY:
    del FLIPS[_word]

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
# "above"/"below", "inside"/"outside" only after a verb of physical position, on a plain common noun
PLACING_VERBS = {"hang", "sit", "lie", "hover", "float", "mount", "place", "position", "install", "locate", "situate",
                 "park", "store", "sleep", "stand", "fly", "wait", "stay", "hide", "keep", "put", "attach", "fix",
                 "play", "build", "fasten", "suspend", "bury", "plant", "lock", "seat", "nest", "perch", "rest"}
MOTION_VERBS = {"move", "step", "lean", "tilt", "roll", "slide", "shift", "travel", "run", "walk", "drive", "swim",
                "fly", "push", "pull", "fall", "swing", "rotate", "turn", "sweep", "bend", "jump", "propagate",
                "lurch", "pitch", "spin", "flow", "extend", "advance", "crawl", "drift", "stretch", "deflect"}
REGION_NOUNS = {"part", "region", "area", "coast", "border", "boundary", "side", "half", "edge", "shore", "slope",
                "end", "city", "state", "province", "town", "suburb", "flank", "range", "portion", "sector", "zone",
                "hemisphere", "country", "district", "county", "village", "front", "wall", "wing", "bank", "outskirts"}
HEART_CHAMBERS = {"ventricle", "ventricles", "atrium", "atria", "ventricular", "atrial"}
CIRCULATION_CUES = {"arterial", "venous", "aortic", "aorta", "pulmonary", "systemic", "mitral", "tricuspid", "vena",
                    "retrograde"}
VERTICAL_CUES = {"downstairs", "upstairs", "cap", "top", "bottom", "above", "below", "beneath", "underneath", "overlying",
                 "underlying"}
SCALES = {"scale", "range", "spectrum", "distribution", "scope", "limit", "bound", "purview", "remit", "realm",
          "domain", "hierarchy", "ranking", "class"}
PLACE_ENTS = {"GPE", "LOC", "NORP", "FAC"}
PLACE_LISTS = {"including", "include", "includes", "where", ":", "such", "e.g.", "like"}


def perturb(doc: Any, rng: random.Random | None = None) -> Perturbation | None:
    """Flip one spatial word (seeded choice among the safe ones)."""
    rng = default_rng(rng)
    spots = [t for t in doc if t.lower_ in FLIPS and _allowed(t)]
    if not spots:
        return None
    t = rng.choice(spots)
    if t.lower_ == "left" and t.pos_ == "VERB":
        return None
    return replace_word(doc, t, FLIPS[t.lower_], Category.SPATIAL)  # redoes "a"/"an": "an upper" -> "a lower"


def _allowed(t: Any) -> bool:
    word = t.lower_
    doc = t.doc
    opposite = FLIPS[word][:5]
    if any(w.lower_.startswith(opposite) for w in doc):
        return False  # "upstream and downstream sampling"; "the southern end ... toward the north"
    if t.ent_type_ or t.pos_ == "PROPN" or (t.text[:1].isupper() and t.i > 0) or t.text.isupper() and len(t.text) > 1:
        return False  # "East Bank", "Northern Ireland", "Left Behind"
    if not whole_word(t) or (t.i + 1 < len(doc) and doc[t.i + 1].text == "-") or (t.i > 0 and doc[t.i - 1].text == "-"):
        return False  # "east-southwest", "top-level"
    head, nxt = t.head, (doc[t.i + 1] if t.i + 1 < len(doc) else None)
    prev = doc[t.i - 1] if t.i > 0 else None
    if word in ("left", "right"):
        if head.lower_ in HEART_CHAMBERS and any(w.lower_ in CIRCULATION_CUES for w in doc):
            return False  # "the left ventricle was entered by retrograde arterial catheterization": the route names the side
        if t.pos_ == "ADJ" and t.dep_ == "amod":
            return head.lemma_.lower() in SIDE_NOUNS
        return (t.pos_ == "NOUN" and t.dep_ == "pobj" and prev is not None and prev.lower_ == "the"
                and t.head.lower_ in ("to", "on", "at", "from") and (nxt is None or nxt.lower_ in ("of", ",", ".")))
    if word in ("above", "below", "inside", "outside"):
        pobj = next((c for c in t.children if c.dep_ == "pobj"), None)
        if word in ("above", "below") and head.lemma_.lower() == "lie":
            return False  # "the valley lies above the beach": the lie of the land, which the flip contradicts
        return (t.pos_ == "ADP" and head.pos_ == "VERB" and head.lemma_.lower() in PLACING_VERBS and pobj is not None
                and pobj.pos_ == "NOUN" and pobj.lemma_.lower() not in SCALES and not any(w.like_num or w.pos_ == "PROPN" or w.ent_type_ for w in pobj.subtree))
    if word in ("north", "south", "east", "west", "northeast", "southwest", "northwest", "southeast"):
        return (nxt is not None and nxt.lower_ == "of") or (prev is not None and prev.lower_ == "the" and t.dep_ == "pobj")
    if word in ("northern", "southern", "eastern", "western", "northeastern", "southwestern", "northwestern",
                "southeastern"):
        if _other_places(t) or any(w.lower_ in PLACE_LISTS or w.text == "(" for w in doc):
            return False  # "eastern Africa, including Cameroon", "northern India (Tamil Nadu)"
        if prev is not None and prev.lower_ == "off":
            return False  # "off northeastern Brazil": only a coast can be "off", and the flip may be inland
        if nxt is not None and nxt.pos_ == "PROPN":
            return nxt.ent_type_ in ("GPE", "LOC")  # not "Southern Paiute", a people's name
        return head.lemma_.lower() in REGION_NOUNS
    if word in ("upstream", "downstream"):
        if nxt is not None and nxt.lower_ in ("into", "to", "onto"):
            return False  # "bodies washed downstream into the lake": the water decides the direction
        return t.pos_ == "ADV" or head.lemma_.lower() in PHYSICAL_NOUNS | {"side", "end", "station", "condition"}
    if word in ("upper", "lower"):
        if any(w.lower_ in VERTICAL_CUES or w.lemma_.lower() in SCALES for w in doc):
            return False  # "apartments on the upper floors and the cafe downstairs", "the upper end of the scale"
        if head.dep_ == "conj" or any(c.dep_ == "conj" for c in head.children):
            return False  # "flooded basements or lower floors": the listed neighbour fixes the height
        return t.dep_ == "amod" and head.pos_ == "NOUN" and head.lemma_.lower() in PART_NOUNS and t.i + 1 == head.i
    if word in ("inner", "outer", "interior", "exterior"):
        if head.lemma_.lower() in ("field", "force", "pressure", "structure"):
            return False  # "an applied external field"; "the internal structure of the administration"
        return t.dep_ == "amod" and head.pos_ == "NOUN" and head.lemma_.lower() in PHYSICAL_NOUNS
    if word in ("top", "bottom"):
        return (t.pos_ == "NOUN" and prev is not None and prev.lower_ == "the" and nxt is not None
                and nxt.lower_ == "of" and t.dep_ == "pobj" and t.head.lower_ in ("at", "on", "to", "from", "near"))
    if word in ("leading", "trailing"):
        return nxt is not None and nxt.lower_ in ("edge", "edges")
    if word in ("forward", "backward", "forwards", "backwards"):
        return t.pos_ == "ADV" and t.dep_ == "advmod" and head.lemma_ in MOTION_VERBS
    if word in ("ascending", "descending"):
        return t.dep_ == "amod" and head.pos_ == "NOUN" and not any(w.lower_ in ("up", "down") for w in doc)
    if word in ("inlet", "outlet"):
        return prev is None or not (prev.pos_ == "PROPN" or prev.text[:1].isupper())  # "Narrawallee inlet", a name
    return True  # clockwise, windward, ...


def _other_places(t: Any) -> bool:
    """A named place in the sentence other than the one ``t`` modifies ("northern Italy")."""
    own = t.i + 1
    return any(w.ent_type_ in PLACE_ENTS and w.i != own and not (w.ent_iob_ == "I" and w.i > own and
               all(x.ent_iob_ == "I" for x in t.doc[own + 1 : w.i + 1])) for w in t.doc)
