"""Yes/no questions asked the other way (verirank.questions), with the real spaCy parser."""

from __future__ import annotations

import pytest

pytest.importorskip("spacy")

from verirank.constraints import parse_constraints  # noqa: E402
from verirank.nearmiss._nlp import nlp  # noqa: E402
from verirank.questions import opposite_question  # noqa: E402


@pytest.mark.parametrize(("question", "opposite"), [
    ("Is breakfast included in the room price?", "Is breakfast not included in the room price?"),
    ("Is the man happy?", "Is the man not happy?"),
    ("Is the museum north of the river?", "Is the museum not north of the river?"),
    ("Did Brazil beat Germany in the final?", "Did Brazil not beat Germany in the final?"),
    ("Does the night train to Vienna have a dining car?", "Does the night train to Vienna not have a dining car?"),
    ("Can aspirin be taken with ibuprofen?", "Can aspirin not be taken with ibuprofen?"),
    ("Has the central bank raised interest rates?", "Has the central bank not raised interest rates?"),
    ("Is it possible to relate the pressure distributions?", "Is it not possible to relate the pressure distributions?"),
    # typed without the question mark
    ("is breakfast included in the room price", "is breakfast not included in the room price"),
    ("can the potential flow about a body of revolution be calculated by an electronic computer .",
     "can the potential flow about a body of revolution not be calculated by an electronic computer ."),
    # already negated: asked the other way, the negation goes
    ("Is the man not happy?", "Is the man happy?"),
    ("Isn't breakfast included in the room price?", "Is breakfast included in the room price?"),
    ("Can't I bring my dog?", "Can I bring my dog?"),
])
def test_yes_no_questions_turn_around(question, opposite):
    assert opposite_question(question, nlp()(question)) == opposite


@pytest.mark.parametrize("query", [
    "What is the capital of France?",  # not a yes/no question
    "flights from Boston to Denver",
    "The man is happy.",
    "Is there any hotel with a pool?",  # "any" would read oddly negated
    "Is it never cold in Lisbon?",
    "Is the man not unhappy and not sad?",  # two negations
    "Is it raining? I need to know.",  # two sentences
    "could you please give me articles about rectification using metallic devices",  # requests
    "Can you find papers on aeroelastic models?",
])
def test_other_queries_have_no_opposite(query):
    assert opposite_question(query, nlp()(query)) is None


def test_parse_constraints_gives_the_opposite_question_unless_something_is_excluded():
    assert parse_constraints("Is breakfast included in the room price?").opposite == \
        "Is breakfast not included in the room price?"
    assert parse_constraints("Does the hotel have a gym, but not a pool?").opposite is None
    assert parse_constraints("hotels in Lisbon").opposite is None
