"""Each generator category on hand-written sentences, including where it must decline."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("spacy")

from verirank.nearmiss import (  # noqa: E402
    binding, comparative, exclusion, negation, numeric, paraphrase, role_reversal, spatial,
)
from verirank.nearmiss._nlp import nlp  # noqa: E402
from verirank.nearmiss.generate import generate  # noqa: E402
from verirank.types import Category  # noqa: E402


def run(module, text, seed=0):
    out = module.perturb(nlp()(text), random.Random(seed))
    return None if out is None else out.text


@pytest.mark.parametrize(("text", "expected"), [
    ("The dog bit the man.", "The dog did not bite the man."),
    ("The dogs chase a cat.", "The dogs do not chase a cat."),
    ("The museum is north of the river.", "The museum is not north of the river."),
    ("Aspirin should not be taken with ibuprofen.", "Aspirin should be taken with ibuprofen."),
    ("He does not like coffee.", "He likes coffee."),
    ("She didn't pass the exam.", "She passed the exam."),
    ("She always takes the bus.", "She never takes the bus."),
])
def test_negation(text, expected):
    assert run(negation, text) == expected


def test_negation_declines_without_a_verb_and_on_existing_negatives():
    assert run(negation, "A red car.") is None
    assert run(negation, "Nobody saw nothing there.") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("The dog bit the man.", "The man bit the dog."),
    ("The dogs chase a cat.", "A cat chases the dogs."),
    ("The man was bitten by the dog.", "The dog was bitten by the man."),
    ("Google acquired the startup.", "The startup acquired Google."),
])
def test_role_reversal_swaps_and_keeps_agreement(text, expected):
    assert run(role_reversal, text) == expected


@pytest.mark.parametrize("text", ["The baby slept.", "It rained all day.", "The dog bit the dog."])
def test_role_reversal_declines_intransitive_or_identical(text):
    assert run(role_reversal, text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("The museum is north of the river.", "The museum is south of the river."),
    ("The lamp hangs above the table.", "The lamp hangs below the table."),
    ("The cat sleeps inside the house.", "The cat sleeps outside the house."),
    ("The pain is on the left side.", "The pain is on the right side."),
])
def test_spatial(text, expected):
    assert run(spatial, text) == expected


def test_spatial_ignores_non_spatial_senses():
    assert run(spatial, "That is the right answer.") is None
    assert run(spatial, "We met at noon.") is None


def test_binding_swaps_modifiers_between_heads():
    assert run(binding, "A red car is parked next to a blue house.") == "A blue car is parked next to a red house."
    assert run(binding, "A red car.") is None
    assert run(binding, "The red car and the red house.") is None  # same modifier: no change in meaning


@pytest.mark.parametrize(("text", "options"), [
    ("Rome is closer than Paris.", {"Paris is closer than Rome."}),
    ("Prices increased sharply in March.", {"Prices decreased sharply in March."}),
    ("The new model is faster than the old one.", {"The new model is slower than the old one."}),
])
def test_comparative(text, options):
    assert run(comparative, text) in options


def test_comparative_declines_without_comparison():
    assert run(comparative, "The cat sat on the mat.") is None


def test_numeric_changes_numbers_and_is_seeded():
    out = run(numeric, "Take 50 mg twice a day.", seed=1)
    assert out is not None and out != "Take 50 mg twice a day." and "mg" in out
    assert out == run(numeric, "Take 50 mg twice a day.", seed=1)
    year = run(numeric, "The bridge opened in 2019.")
    assert year is not None and year.startswith("The bridge opened in 20") and "2019" not in year
    assert run(numeric, "The bridge opened last year.") is None


def test_exclusion():
    assert run(exclusion, "A house with a garden is rare.") == "A house without a garden is rare."
    assert run(exclusion, "The prices vary with the season.") is None  # "with" as a verb's argument
    assert run(exclusion, "The price includes taxes.") == "The price excludes taxes."
    assert run(exclusion, "We need to deal with it.") is None
    assert run(exclusion, "The cat sat on the mat.") is None


def test_paraphrase_passive_keeps_meaning():
    assert paraphrase.to_passive(nlp()("The dog bit the man."), random.Random(0)).text == "The man was bitten by the dog."
    assert paraphrase.to_passive(nlp()("The dogs chase a cat."), random.Random(0)).text == "A cat is chased by the dogs."
    assert paraphrase.to_passive(nlp()("The dog did not bite the man."), random.Random(0)) is None
    out = paraphrase.front_reorder(nlp()("In 2019, the company grew quickly."), random.Random(0))
    assert out.text == "The company grew quickly in 2019."


def test_generate_spans_point_at_the_change_and_are_deterministic():
    texts = ["The museum is north of the river. It opens at nine.", "The dog bit the man."]
    a = generate(texts, seed=3)
    assert a == generate(texts, seed=3)
    for pair in a:
        if pair.anchor_span and pair.anchor_span.text:
            assert pair.anchor[pair.anchor_span.start : pair.anchor_span.end] == pair.anchor_span.text
        if pair.text_span and pair.text_span.text:
            assert pair.text[pair.text_span.start : pair.text_span.end] == pair.text_span.text
    spatial_pair = next(p for p in a if p.category is Category.SPATIAL)
    assert spatial_pair.text == "The museum is south of the river. It opens at nine."
    assert any(p.label == 1 for p in a) and any(p.label == 0 for p in a)
    assert generate(["", "   "]) == []


def test_synonyms_skip_comparative_and_superlative_forms():
    assert paraphrase.synonym(nlp()("Boston is larger than Denver."), random.Random(0)) is None
    out = paraphrase.synonym(nlp()("They purchased a large house."), random.Random(0))
    assert out is not None and out.text in {"They bought a large house.", "They purchased a big house."}


# Cases taken from the round-3 audit failures: each rule must now decline or fix them.
@pytest.mark.parametrize("text", [
    "The metabolic effects were as follows: nitrogen retention with a reduction in blood urea.",
    "Properties of the lipids in the x-ray irradiated rabbit organs.",
])
def test_negation_declines_lists_and_misparsed_participles(text):
    assert run(negation, text) is None


@pytest.mark.parametrize("text", [
    "Wash your hands before dinner.",  # before/after is no longer flipped (round-4 audit: cause/effect)
    "After 10 years of debate, the government is requiring food labels.",
    "The error comes from the nonsimultaneity of upstream and downstream sampling.",
    "The merger left fifty-one libraries without support.",
])
def test_spatial_declines_temporal_order_and_existing_antonyms(text):
    assert run(spatial, text) is None


def test_comparative_fixed_terms_counts_and_more_than_one():
    assert run(comparative, "The ruling reversed a lower court decision.") is None
    assert run(comparative, "Many had made more than one such find.") is None
    assert run(comparative, "More than 100 officers joined the raid.") == "Fewer than 100 officers joined the raid."
    assert run(comparative, "The fire burned more than 400 acres.") == "The fire burned less than 400 acres."


def test_exclusion_verbs_need_a_scope_subject():
    assert run(exclusion, "Symptoms include diarrhea and weight loss.") is None  # a list of examples
    assert run(exclusion, "The study included patients over sixty.") == "The study excluded patients over sixty."
    assert run(exclusion, "The senators rejected any disparity in benefits.") is None
    assert run(exclusion, "Greek speakers share a common culture with ethnic Macedonians.") is None


def test_role_reversal_things_need_one_kind_and_animals_need_a_physical_verb():
    assert run(role_reversal, "The prandtl number is replaced by the schmidt number.") == (
        "The schmidt number is replaced by the prandtl number.")
    assert run(role_reversal, "Rain can kill the adelgids.") is None  # unlike things: nonsense when swapped
    assert run(role_reversal, "The hunters shot the wolves.") is None
    assert run(role_reversal, "The dog chased the boy.") == "The boy chased the dog."


def test_binding_swaps_same_kind_modifiers_only():
    out = run(binding, "Primary tumours were rarer than secondary growths in the lung.")
    assert out == "Secondary tumours were rarer than primary growths in the lung."
    # a third "upstream" would keep its old binding and contradict the swapped pair
    assert run(binding, "The upstream flow differs from the downstream flow and the upstream wake.") is None
    assert run(binding, "Academic librarians rated it one of the most important items.") is None


def test_paraphrase_keeps_stative_verbs_out_of_the_progressive():
    assert paraphrase.synonym(nlp()("The government is requiring food labels."), random.Random(0)) is None
    assert paraphrase.synonym(nlp()("The problem requires simplification."), random.Random(0)).text == (
        "The problem needs simplification.")


# Round-3 reviewer findings turned into rules (each must now decline).
@pytest.mark.parametrize(("module", "text"), [
    (negation, "Several designers have used this method."),  # quantified subject: "several have not" denies nothing
    (negation, "The equation was solved approximately."),  # "not ... approximately" negates the adverb
    (spatial, "The ant was named after its discoverer."),
    (spatial, "The bat lives in northern long-eared colonies."),
    (exclusion, "She has won several awards, including the Spirit Award."),
    (exclusion, "We saw 12 patients with anemia and 8 with fever."),
    (comparative, "The minimum and maximum angles of attack were measured."),
    (binding, "A high wing and a low tail were tested."),  # evaluative kinds are no longer swapped
])
def test_round3_patterns_decline(module, text):
    assert run(module, text) is None


def test_spatial_redoes_the_article():  # round 3 found "a upper extremity"
    assert run(spatial, "The rash appeared on an upper surface of the arm.") == (
        "The rash appeared on a lower surface of the arm.")


# Round-4 reviewer findings turned into rules (each must now decline).
@pytest.mark.parametrize(("module", "text"), [
    (spatial, "It is native to eastern Africa, including Cameroon and Nigeria."),  # named places contradict
    (spatial, "An applied external field tuned the maser."),  # a term, not a place
    (comparative, "The nozzle was set to its maximum opening."),  # max/min name limits and optima
    (comparative, "A correction is suggested to increase the accuracy."),  # a purpose clause
    (comparative, "He is one of the most talented directors."),  # "one of the least talented": evaluative
    (comparative, "At age 17, he became the youngest columnist."),  # the age fixes the superlative
    (exclusion, "Eight firefighters suffered injuries, including burns, bruises and strain."),  # a list of examples
    (exclusion, "Insulin was given to 3 patients with diabetes."),  # a group defined by X
    (exclusion, "Other sites with similar names appear in the sources."),  # graded property
    (numeric, "Pressure was measured on two dimensional wings."),  # a fixed term
])
def test_round4_patterns_decline(module, text):
    assert run(module, text) is None


@pytest.mark.parametrize(("module", "text"), [
    (comparative, "The data lead to greater objectivity."),  # neither "smaller" nor "less" reads right
    (comparative, "Much of the lower part of the watershed is forest."),  # "upper part", a place
    (comparative, "The grammar is partitioned into a number of smaller parts."),
    (comparative, "Company houses were built to accommodate the increasing population."),  # a purpose
    (comparative, "Nonlethal mutations accumulate and increase the genetic variation."),  # a claimed cause
    (comparative, "The most recent edition is a standard text."),  # "least recent" is not said
    (comparative, "It is taken by larger fish such as marlin."),  # the examples contradict a flip
    (spatial, "Boats arrived at locations ranging from Seabrook to Galveston."),  # a range, not a route
    (spatial, "The lift is about 15 above that found by Brown."),  # an amount
    (spatial, "The system is used in many applications outside the area of lexical processing."),  # a domain
    (spatial, "The southern end is flatter and it gets steeper toward the north."),  # the opposite is there
    (spatial, "Datura was used by southern Paiute Indians."),  # a people's name
    (paraphrase, "In 2011, FAO estimates 85% of all milk was produced from cows."),  # would re-attach
    (paraphrase, "In 2015 the Latrobe High School underwent a major refurbishment."),  # no passive of undergo
    (paraphrase, "The Carolina rig is suitable for beginning fishers."),  # novices, not "starting"
    (paraphrase, "In the U.S., the practice is endorsed by the Humane Society."),  # an inner abbreviation
    (negation, "I can't tell you how disappointed I was."),  # emphasis, not a negation
    (negation, "There is speculation that the tree grows at Kattang."),  # wants "no speculation"
    (negation, "The script is bad, very bad."),  # the repeat would contradict the negation
    (numeric, "A 2011 study placed the genus under this genus."),  # a year parsed as a count
    (numeric, "The group supported the Victims Compensation Act of 1991."),  # part of a name
    (numeric, "Two budgeting techniques are program budgeting and benefit analysis."),  # the items are listed
    (exclusion, "The trustees sold the entire estate in 1844, including the castle."),
    (exclusion, "The product, with less stringent quality control, is less reliable."),
])
def test_round5_patterns_decline(module, text):
    assert run(module, text) is None


@pytest.mark.parametrize(("module", "text"), [
    (negation, "Damage to the fetus may result from reduced blood flow."),  # "may not" does not contradict
    (negation, "Another example is the southern rockhopper penguin."),  # a listing, not a claim
    (negation, "It is found in North America, where it has been recorded from Tennessee."),
    (negation, "Revenues were down about 1 percent to $4.55 billion, from $4.59 billion."),  # the numbers decide
    (negation, "THE LATE 1980S IS PROBABLY THE EARLIEST DATE FOR PRESTEL."),  # all caps: a poor parse
    (role_reversal, "The FDA approved Gefitinib in May 2003."),  # an authority, not a role
    (role_reversal, "While the doctor paid the bankers mentioned the student."),  # a garden path
    (role_reversal, "The author that helped the student stopped the actor."),  # a misparsed subject
    (role_reversal, "The senator accused the president of presiding over a new economy."),  # the charge fits one side
    (comparative, "Oil glands are visible on the lower surface of the leaves."),  # "upper", a place
    (comparative, "Education and increased understanding are basic to all progress."),  # not an amount
    (comparative, "It is the oldest surviving building in the district."),  # "newest surviving" is odd
    (comparative, "Diana was at her lowest ebb when she wrote the letter."),  # an idiom
    (comparative, "The damping was even less for vibration modes higher than the first."),  # an ordinal
    (spatial, "Oral cancer occurs more often in people from the lower end of the socioeconomic scale."),  # a rank
    (spatial, "Such discussions lie outside the scope of this book."),  # a domain
    (spatial, "The structures were subjected to heating and external loads."),  # a term of mechanics
    (spatial, "Scores of bodies were washed downstream into the lake."),  # the water decides the direction
    (numeric, "The number of 911 calls rose last year."),  # a phone number
    (numeric, "The rules follow AACR 2 in every library."),  # a name
    (numeric, "London, Brussels and Frankfurt are the three top trade routes."),  # the listed items
    (exclusion, "Rats with familial diabetes insipidus (brattleboro strain) were used."),  # the bracket restates
    (exclusion, "Time sharing works on a computer with a small central memory."),  # a graded property
    (paraphrase, "This requires municipalities to make plans."),  # "needs ... to" does not oblige
    (paraphrase, "The theory of almost periodic functions is developed."),  # a term of mathematics
])
def test_round6_patterns_decline(module, text):
    assert run(module, text) is None


@pytest.mark.parametrize(("module", "text"), [
    (negation, "People with spinal injuries compete in this class, including F2 and F3 athletes."),  # the list
    (negation, "Its density perturbations are washed out and unable to condense."),  # one conjunct
    (negation, "kellogg and neys model of the solar corona comment on and authors reply"),  # a title
    (negation, "Levi became known for ethical business practices."),  # "became not known"
    (negation, "It can be difficult to distinguish the two tumours."),  # "cannot be" reads as "must not be"
    (role_reversal, "The athletes avoided the judge behind the doctors."),  # the phrase stays put
    (role_reversal, "The student introduced the doctors in front of the judge."),
    (comparative, "It was the Yankees' third straight defeat, their longest skid of the season."),  # a record
    (comparative, "Countries that performed the most aesthetic procedures were listed."),  # a count
    (comparative, "They have narrower internal regions of the nostrils."),  # "narrower terms" and the like
    (comparative, "Concrete foundations were chosen as the cheapest option."),  # "dearest" is not the opposite
    (numeric, "The case is great and works fine with the 680."),  # a model
    (numeric, "It considers the position laid down by the 1956 UK Copyright Act."),  # a named act
    (numeric, "In 2006, the WTO ruled that the pre-2004 restrictions had been violations."),  # another year
    (numeric, "Choke or capacitor input: the two systems of power supplies are explained."),  # the listed items
    (paraphrase, "If a member has a valid share of the key, he can view the message."),  # "he" would lose its referent
    (paraphrase, "The building features lancet window openings."),  # no passive of "feature"
    (exclusion, "A method is introduced for including boundary conditions."),  # a verb, not a list
])
def test_round7_patterns_decline(module, text):
    assert run(module, text) is None


@pytest.mark.parametrize(("module", "text"), [
    (comparative, "Revenues have fallen a bit short of expectations."),  # an idiom
    (comparative, "electron density profiles in the ionosphere of february smith rose"),  # a title, a name
    (comparative, "I'd say that would be the hardest decision."),  # easy/hard is argued by the rest
    (numeric, "I stand 100 percent by it."),  # "fully"
    (numeric, "The matrix method solves a four terminal network."),  # a term
])
def test_round8_patterns_decline(module, text):
    assert run(module, text) is None


@pytest.mark.parametrize(("module", "text"), [
    (spatial, "Lake-effect snows add to precipitation potential downwind of the Great Lakes."),  # one way only
    (spatial, "farther downstream of the jet the scale reaches a maximum and then decreases."),
    (spatial, "the kutta-joukowsky condition of finite velocity at the trailing edge leads to a condition."),
    (spatial, "Residents returned Monday, many to flooded basements or lower floors."),  # the neighbour fixes it
    (spatial, "New College Valley lies above the beach."),  # the lie of the land
    (spatial, "Remnants of the bridge are still visible at Narrawallee inlet."),  # a name
    (spatial, "the left ventricle was entered by retrograde arterial catheterization."),  # the route names the side
    (negation, "the following lysosomes are described (a) autophagic vacuoles in altered schwann cells."),
    (numeric, "He was frequently listed on The 500 Most Influential Muslims."),  # a title
    (negation, "For purposes of simplicity the treatment of subscripts is ignored."),  # the aim presupposes it
    (negation, "As an example, the methods are applied to the karyotyping of chromosomes."),
    (negation, "the reciprocal antiserum c3h/st anti c3h/he sarcoma mc1m is more complex."),  # a noun misread as a verb
])
def test_round9_patterns_decline(module, text):
    assert run(module, text) is None


@pytest.mark.parametrize(("module", "text"), [
    (comparative, "It is a fairly common bird, among the most common in some localities."),  # said twice
    (comparative, "Southern Asia and Sub-Saharan Africa have the poorest access to toilets."),  # poor = bad
    (comparative, "It was the largest mass migration in human history."),  # a record
    (comparative, "The company claims it is the largest single sale to date."),
    (comparative, "the smallest height of roughness capable of affecting boundary-layer transition."),  # a threshold
    (negation, "Lay had refused to turn over the papers, asserting his Fifth Amendment right against "
               "self-incrimination."),
    (negation, "Borjas denied that he had misconstrued the data, calling the controversy fake news."),
    (spatial, "However, off northeastern Brazil, the female reproductive cycle is short."),  # "off" needs a coast
    (role_reversal, "The judge who the scientists helped thanked the managers."),  # relative clause
    (role_reversal, "Before the tourists paid the banker helped the judges."),  # a garden path
    (role_reversal, "The scientist stopped the president presented in the library."),  # the participle stays
])
def test_round10_patterns_decline(module, text):
    assert run(module, text) is None


@pytest.mark.parametrize(("module", "text"), [
    (negation, "It is found in China (Sichuan, Tibet)."),  # the bracket lists where it is found
    (negation, "An idealization is of value in that it facilitates our understanding."),  # the reason stays
    (negation, "I hope this place sticks around."),  # "do not hope" is not said
    (negation, "In this case, it switches to use the RID-lists, which makes it a B+tree index."),
    (negation, "The author hoped that the managers recommended the tourist."),  # lemma "hop"
    (comparative, "It was previously known as the Degehabur zone, so named after its largest city."),
    (comparative, "It was advertised as the largest theater of its kind between Dallas and Los Angeles."),
    (comparative, "The algorithm finds the differences isolated by the longest common subsequence."),  # a term
    (binding, "calculation of derivatives for a delta wing with subsonic leading edges in a supersonic airstream."),
])
def test_round11_patterns_decline(module, text):
    assert run(module, text) is None


def test_a_number_the_passage_repeats_is_not_changed():
    text = "I love my 350 headset. My Jabra350 bluetooth headset is great and the reception is very good."
    assert not generate([text], [Category.NUMERIC], seed=0, positives=False)


@pytest.mark.parametrize("text", [
    "The labium is innervated by the sub-esophageal ganglia.",  # "ganglia" tagged singular
    "In early 2008, Ikerbasque commissioned Enrique Zuazua.",  # "Zuazua" tagged plural
    "maximum minimum levels occur approx.",  # no passive of "occur"
])
def test_voice_change_declines_when_agreement_is_a_guess(text):
    doc = nlp()(text)
    assert paraphrase.to_passive(doc) is None and paraphrase.to_active(doc) is None


def test_voice_change_keeps_irregular_plurals():
    doc = nlp()("The toys were bought by the children.")
    assert paraphrase.to_active(doc).text == "The children bought the toys."


def test_one_way_spatial_words_still_flip_the_other_way():
    assert run(spatial, "Samples were taken upstream of the dam.") == "Samples were taken downstream of the dam."
    assert run(spatial, "Vortices form at the leading edge.") == "Vortices form at the trailing edge."


@pytest.mark.parametrize("text", [
    '"There will be other chances to take part in the rebuilding." he told reporters.',  # the reporting clause
    '"We have nothing to hide. We welcome the search of the ponds. Nobody here is afraid," she said.',  # inside one
])
def test_quoted_sentences_are_not_rewritten(text):
    assert not generate([text], [Category.NEGATION], seed=0, positives=False)


def test_greater_after_an_article_becomes_smaller():
    assert run(comparative, "It had a greater impact than the tax.") == "It had a smaller impact than the tax."


def test_round7_idiomatic_opposites_and_case():
    assert run(comparative, "Retardates showed greater visual preference than schizophrenics.") == (
        "Retardates showed less visual preference than schizophrenics.")
    assert run(paraphrase, "during eucapnia, the 2 groups showed similar responses.") == (
        "the 2 groups showed similar responses during eucapnia.")


def test_comparative_uses_the_idiomatic_opposite():
    assert run(comparative, "Leaks occur at pressures greater than 100 psi.") == "Leaks occur at pressures lower than 100 psi."
    assert run(comparative, "Pittsburg State has won more games than any other program.") == (
        "Pittsburg State has won fewer games than any other program.")


def test_role_reversal_keeps_a_lower_case_title_lower_case():
    out = run(role_reversal, "the doctor helped the teacher in the clinic.")
    assert out == "the teacher helped the doctor in the clinic."


def test_comparative_keeps_a_reported_change_and_a_placed_spatial_word():
    assert run(comparative, "Prices increased sharply in March.") == "Prices decreased sharply in March."
    assert run(spatial, "The lamp hangs above the table.") == "The lamp hangs below the table."


def test_negation_keeps_all_caps():
    assert run(negation, "THE LIBRARY IS OPEN TO STUDENTS.") == "THE LIBRARY IS NOT OPEN TO STUDENTS."


@pytest.mark.parametrize("text", [
    "The judges recommended the tourist behind the athlete.",  # the PP would re-attach to the agent
    "Unlike other clubs, the league admitted women.",  # the comparison would dangle
])
def test_voice_change_declines_when_a_phrase_would_reattach(text):
    doc = nlp()(text)
    assert paraphrase.to_passive(doc) is None


def test_voice_change_lowercases_a_moved_determiner():
    out = paraphrase.to_active(nlp()("That petition was denied by The Supreme Court."))
    assert out is not None and out.text == "The Supreme Court denied that petition."
    out = paraphrase.to_passive(nlp()("The Supreme Court denied that petition."))
    assert out is not None and out.text == "That petition was denied by the Supreme Court."
