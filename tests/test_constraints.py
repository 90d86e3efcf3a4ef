"""Query constraints on hand-written queries, with the real spaCy parser: exact spans, offsets, core."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

pytest.importorskip("spacy")

from verirank.constraints import (  # noqa: E402
    MAX_QUERY_CHARS, Constraint, ConstraintKind, QueryConstraints, parse_constraints,
)
from verirank.errors import InputError  # noqa: E402

Kind = ConstraintKind


def of_kind(parsed: QueryConstraints, kind: ConstraintKind) -> list[Constraint]:
    return [c for c in parsed.constraints if c.kind is kind]


def only(parsed: QueryConstraints, kind: ConstraintKind) -> Constraint:
    found = of_kind(parsed, kind)
    assert len(found) == 1, f"expected one {kind.value} in {parsed.query!r}, got {found}"
    return found[0]


# --- exclusions -------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "excluded", "core"), [
    ("Pelé's career, but don't mention Brazil", ["Brazil"], "Pelé's career"),
    ("Pelé’s career, but don’t mention Brazil or Santos", ["Brazil or Santos"], "Pelé’s career"),
    ("European capitals, not Paris", ["Paris"], "European capitals"),
    ("cats but not lions", ["lions"], "cats"),
    ("recipes without any sugar", ["sugar"], "recipes"),
    ("recipes without sugar and without gluten", ["sugar", "gluten"], "recipes"),
    ("Everything except for the kitchen sink", ["kitchen sink"], "Everything"),
    ("EU countries other than France", ["France"], "EU countries"),
    ("countries with no army", ["army"], "countries"),
    ("articles about Pelé that do not mention Brazil", ["Brazil"], "articles about Pelé"),
    ("Tell me about whales and please don't mention Moby Dick.", ["Moby Dick"], "Tell me about whales."),
    ("Tell me about WW2, but don't mention the war in Iraq", ["war in Iraq"], "Tell me about WW2"),
    ("Without using a calculator, how do you compute square roots?", ["calculator"],
     "how do you compute square roots?"),
    ("apart from Python, which languages are fast?", ["Python"], "which languages are fast?"),
    ("shock waves on wings, but not mentioning boundary layer", ["boundary layer"], "shock waves on wings"),
    ("shock waves on wings, but not about heat transfer", ["heat transfer"], "shock waves on wings"),
    ("shock waves on wings, without mentioning flutter", ["flutter"], "shock waves on wings"),
    ("a hotel in Lisbon, but no pool", ["pool"], "a hotel in Lisbon"),
    ("cheap flights, no layovers", ["layovers"], "cheap flights"),
])
def test_exclusions_and_core(query, excluded, core):
    parsed = parse_constraints(query)
    assert parsed.exclusions == excluded
    assert parsed.core == core


def test_exclusion_detail_names_the_cue_and_offsets_point_at_the_phrase():
    query = "Pelé's career, but don't mention Brazil"
    exclusion = only(parse_constraints(query), Kind.EXCLUSION)
    assert (exclusion.start, exclusion.end) == (33, 39)
    assert query[exclusion.start : exclusion.end] == "Brazil"
    assert exclusion.detail == {"cue": "don't mention"}


def test_an_excluded_name_is_not_also_a_required_entity_or_a_negation():
    parsed = parse_constraints("Pelé's career, but don't mention Brazil")
    assert [c.text for c in of_kind(parsed, Kind.ENTITY)] == ["Pelé"]
    assert of_kind(parsed, Kind.NEGATION) == []


def test_a_relative_clause_after_an_inline_exclusion_stays_in_the_core():
    parsed = parse_constraints("recipes without sugar that do not taste bland")
    assert parsed.exclusions == ["sugar"]
    assert parsed.core == "recipes that do not taste bland"
    assert only(parsed, Kind.NEGATION).text == "taste bland"


def test_a_query_that_is_all_exclusion_keeps_itself_as_core():
    parsed = parse_constraints("no mention of Trump")
    assert parsed.exclusions == ["Trump"]
    assert parsed.core == "no mention of Trump"


@pytest.mark.parametrize("query", [
    "cities that are not in Europe",  # a negation, not an exclusion clause
    "methods for excluding outliers",  # excluding is the topic
    "how far apart from each other are the stars",  # a distance
    "not only fast but also cheap",
    "No smoking rooms in Paris",  # "no" excludes only after a joint
    "there is no doubt, he won",
])
def test_cue_words_that_do_not_exclude(query):
    parsed = parse_constraints(query)
    assert parsed.exclusions == []
    assert parsed.core == query


# --- negations --------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "text", "cue"), [
    ("drugs that do not cause drowsiness", "cause drowsiness", "not"),
    ("cities that are not in Europe", "in Europe", "not"),
    ("laptops that aren't heavy", "heavy", "not"),
    ("older adults who never smoke", "smoke", "never"),
    ("no longer supported", "supported", "no longer"),
])
def test_negations(query, text, cue):
    negation = only(parse_constraints(query), Kind.NEGATION)
    assert negation.text == text
    assert query[negation.start : negation.end] == text
    assert negation.detail == {"cue": cue}


# --- numbers ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "text", "detail"), [
    ("engineers with more than 5 years of experience", "more than 5 years",
     {"op": ">", "value": "5", "unit": "years"}),
    ("movies between 1990 and 2000", "between 1990 and 2000", {"op": "between", "low": "1990", "high": "2000"}),
    ("laptops under $50", "under $50", {"op": "<", "value": "50", "unit": "$"}),
    ("at least 3 bedrooms", "at least 3 bedrooms", {"op": ">=", "value": "3", "unit": "bedrooms"}),
    ("at most two hours", "at most two hours", {"op": "<=", "value": "2", "unit": "hours"}),
    ("houses with 3 bedrooms or more", "3 bedrooms or more", {"op": ">=", "value": "3", "unit": "bedrooms"}),
    ("salaries from $50,000 to $80,000", "from $50,000 to $80,000",
     {"op": "between", "low": "50000", "high": "80000", "unit": "$"}),
    ("no more than 20% fat", "no more than 20%", {"op": "<=", "value": "20", "unit": "%"}),
    ("books published after 1990 about whales", "after 1990", {"op": ">", "value": "1990"}),
    ("temperatures hotter than 40 degrees", "hotter than 40 degrees", {"op": ">", "value": "40", "unit": "degrees"}),
    ("5-10 km runs", "5-10 km", {"op": "between", "low": "5", "high": "10", "unit": "km"}),
    ("5+ years of Python", "5+ years", {"op": ">=", "value": "5", "unit": "years"}),
    ("a population of 1.5 million people", "1.5 million people",
     {"op": "=", "value": "1.5 million", "unit": "people"}),
])
def test_numbers_and_ranges(query, text, detail):
    parsed = parse_constraints(query)
    number = only(parsed, Kind.NUMBER)
    assert (number.text, number.detail) == (text, detail)
    assert query[number.start : number.end] == text
    assert of_kind(parsed, Kind.COMPARATIVE) == []  # "more than 5" is the number's operator


def test_a_model_number_is_part_of_a_name_not_a_quantity():
    parsed = parse_constraints("Apollo 11 crew")
    assert of_kind(parsed, Kind.NUMBER) == []
    assert only(parsed, Kind.ENTITY).text == "Apollo 11"


@pytest.mark.parametrize(("query", "numbers"), [
    ("a two-dimensional aerofoil", [("two-dimensional", {"op": "=", "value": "2", "unit": "dimensional"})]),
    ("the map shows (1) author groups and (2) their locations", []),  # list markers
    ("Germany beat Brazil 7-1", [("7-1", {"op": "=", "value": "7-1"})]),  # a score, not a range
])
def test_numbers_that_are_not_plain_quantities(query, numbers):
    assert [(c.text, c.detail) for c in of_kind(parse_constraints(query), Kind.NUMBER)] == numbers


def test_an_all_capitals_query_is_parsed_lower_case_but_spans_keep_its_case():
    query = "I AM INTERESTED IN INFORMATION POLICY, NOT IN LIBRARIES IN FRANCE"
    parsed = parse_constraints(query)
    assert parsed.exclusions == ["IN LIBRARIES IN FRANCE"]
    assert parsed.core == "I AM INTERESTED IN INFORMATION POLICY"
    assert of_kind(parsed, Kind.ENTITY) == []  # every word is capitalised: no signal for names


# --- comparatives -----------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "text", "detail"), [
    ("cars faster than a Porsche", "faster than a Porsche",
     {"direction": "more", "property": "fast", "than": "a Porsche"}),
    ("more expensive laptops", "more expensive", {"direction": "more", "property": "expensive"}),
    ("a less expensive option", "less expensive", {"direction": "less", "property": "expensive"}),
    ("a cheaper alternative to Photoshop", "cheaper", {"direction": "more", "property": "cheap"}),
    ("more calories than rice", "more calories than rice",
     {"direction": "more", "property": "calorie", "than": "rice"}),
])
def test_comparatives(query, text, detail):
    comparative = only(parse_constraints(query), Kind.COMPARATIVE)
    assert (comparative.text, comparative.detail) == (text, detail)


def test_a_quantifier_without_comparison_is_not_a_comparative():
    assert of_kind(parse_constraints("more information about whales"), Kind.COMPARATIVE) == []


# --- directions and roles ---------------------------------------------------------------------

@pytest.mark.parametrize(("query", "text", "detail"), [
    ("flights from Boston to Denver", "from Boston to Denver", {"from": "Boston", "to": "Denver"}),
    ("Boston to Denver flights", "Boston to Denver", {"from": "Boston", "to": "Denver"}),
    ("a letter from Einstein to Bohr", "from Einstein to Bohr", {"from": "Einstein", "to": "Bohr"}),
    ("imports from China", "from China", {"from": "China"}),
    ("Germany beat Brazil", "Germany beat Brazil", {"agent": "Germany", "verb": "beat", "patient": "Brazil"}),
    ("Brazil was beaten by Germany", "Brazil was beaten by Germany",
     {"agent": "Germany", "verb": "beaten", "patient": "Brazil"}),
])
def test_directions_and_roles(query, text, detail):
    direction = only(parse_constraints(query), Kind.DIRECTION)
    assert (direction.text, direction.detail) == (text, detail)
    assert query[direction.start : direction.end] == text


def test_a_numeric_from_to_is_a_range_not_a_direction():
    parsed = parse_constraints("movies from 1990 to 2000")
    assert of_kind(parsed, Kind.DIRECTION) == []
    assert only(parsed, Kind.NUMBER).detail == {"op": "between", "low": "1990", "high": "2000"}


def test_exclusion_and_direction_together():
    query = "flights from Boston to Denver, excluding United Airlines"
    parsed = parse_constraints(query)
    assert parsed.core == "flights from Boston to Denver"
    assert parsed.exclusions == ["United Airlines"]
    assert only(parsed, Kind.DIRECTION).detail == {"from": "Boston", "to": "Denver"}
    assert [c.text for c in of_kind(parsed, Kind.ENTITY)] == ["Boston", "Denver"]
    assert [c.kind for c in parsed.constraints] == [Kind.DIRECTION, Kind.ENTITY, Kind.ENTITY, Kind.EXCLUSION]


# --- entities ---------------------------------------------------------------------------------

def test_entities_include_names_the_ner_missed():
    parsed = parse_constraints("What did Einstein say about God?")
    assert [(c.text, c.detail["label"]) for c in of_kind(parsed, Kind.ENTITY)] == [
        ("Einstein", "PERSON"), ("God", "PROPN")]
    assert of_kind(parsed, Kind.DIRECTION) == []  # "What" is no noun to carry a role


# --- no constraints, invariants, errors -------------------------------------------------------

@pytest.mark.parametrize("query", ["What causes the aurora borealis?", "transonic flow over a wing"])
def test_queries_without_constraints(query):
    parsed = parse_constraints(query)
    assert parsed.empty
    assert parsed.constraints == [] and parsed.exclusions == []
    assert parsed.core == query


ALL_QUERIES = [
    "Pelé's career, but don't mention Brazil", "drugs that do not cause drowsiness", "laptops under $50",
    "flights from Boston to Denver, excluding United Airlines", "cars faster than a Porsche",
    "Tell me about WW2, but don't mention the war in Iraq", "salaries from $50,000 to $80,000",
    "Brazil was beaten by Germany", "phones cheaper than the iPhone 12",
]


@pytest.mark.parametrize("query", ALL_QUERIES)
def test_every_span_is_the_query_text_at_its_offsets(query):
    parsed = parse_constraints(query)
    assert not parsed.empty
    for c in parsed.constraints:
        assert 0 <= c.start < c.end <= len(query)
        assert query[c.start : c.end] == c.text
    assert [(c.start, c.end) for c in parsed.constraints] == sorted((c.start, c.end) for c in parsed.constraints)


def test_parsing_is_deterministic():
    for query in ALL_QUERIES:
        assert parse_constraints(query) == parse_constraints(query)
        assert parse_constraints(query).model_dump() == parse_constraints(query).model_dump()


def test_results_refuse_offsets_that_do_not_match_the_query():
    with pytest.raises(ValidationError, match="offsets"):
        QueryConstraints(query="Paris hotels", core="Paris hotels",
                         constraints=[Constraint(kind=Kind.ENTITY, text="Rome", start=0, end=5)])
    with pytest.raises(ValidationError, match="empty"):
        Constraint(kind=Kind.ENTITY, text="", start=3, end=3)


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_blank_query_is_an_input_error_saying_what_to_pass(query):
    with pytest.raises(InputError, match="pass the search text"):
        parse_constraints(query)


def test_non_string_query_is_an_input_error():
    with pytest.raises(InputError, match="must be a str"):
        parse_constraints(None)  # type: ignore[arg-type]


def test_overlong_query_is_an_input_error():
    with pytest.raises(InputError, match=f"over the {MAX_QUERY_CHARS} limit"):
        parse_constraints("flights to Denver " * 600)
