"""Themes in the answers to an open question.

How it works, and why (each step measured on tests/data/comments.csv):

1. Each answer becomes a *topic vector* (:func:`nlp.embed.encode`): the
   model's token states weighted by inverse document frequency, stop words
   dropped, so that what an answer is about outweighs how it is said.
2. A k-nearest-neighbour graph is built on those vectors and its edges are
   weighted by shared neighbours (SNN), which tolerates clusters of different
   density and size better than plain distances. Past ``SAMPLE`` answers the
   graph is built on a fixed random sample of ``SAMPLE`` answers and every
   other answer joins the theme of most of its nearest sampled answers
   (weighted by similarity), so time and memory grow linearly with the
   number of answers rather than with its square (measured on 10,000 answers
   in scripts/bench/themes.py: the same adjusted Rand index, a fraction of
   the time).
3. Louvain community detection finds the themes; the number of themes
   follows from the graph (the partition with the best modularity over a few
   seeds), so nobody has to guess it. ``k`` overrides it (k-means then).
4. Themes smaller than ``min_size`` (1% of the answers, at least 3) are
   folded into the nearest one by centroid, as are the smallest while there
   are more than ``MOST_THEMES``.
5. Each theme is labelled with class-based TF-IDF keywords (c-TF-IDF, as in
   BERTopic) and its most representative quotes (closest to its centroid),
   and its prevalence is reported per participant group. Answers in the same
   words (case, spacing and punctuation aside) are quoted once, with how many
   answers said them: otherwise several people writing "too long to wait"
   fill every quote of a theme with the same line.

Answers that say nothing of substance ("dunno", "n/a", "nothing to add", ".", "dim byd")
are kept out of the clustering (:func:`says_nothing`): they would otherwise gather into a
theme of their own or blur the others. They still count in each group's number of answers,
and :class:`ThemeResult` reports how many there were. Keywords leave out the masks that
replace identifiers ("[PHONE]", :mod:`nlp.redact`), and a rare misspelling that is not a
word of the model's vocabulary counts as the common spelling it is an edit or two from
("recepton" as "reception"), so that one theme's keywords are not spent on its typos.
Typos barely move the clustering itself (measured on sentences with misspelt keywords: the
same themes; see tests/test_themes_for_coordinators.py), so only the keywords are mended.

The plain baseline (ward clustering on mean-pooled sentence vectors at the
true number of themes) scores about 0.25 adjusted Rand on realistic comments;
this pipeline scores about 0.45 without being told the number.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import networkx as nx
import numpy as np
from scipy import sparse
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.feature_extraction.text import CountVectorizer

from nlp.duplicates import normalise
from nlp.redact import PRECEDENCE
from nlp.themes_languages import (
    FEWEST_APART,
    LanguageCount,
    Plan,
    language_counts,
    languages_note,
    name,
    plan,
)
from nlp.welsh_glossary import WELSH_FUNCTION_WORDS

NEIGHBOURS = 10
SEEDS = 8
SAMPLE = 3000
MOST_THEMES = 20
# Words that carry no theme in survey answers; kept out of keywords only.
FILLER = frozenset(
    ["felt", "feel", "like", "really", "just", "got", "get", "told", "said", "did", "didnt", "dont", "cant", "wasnt", "im", "ive", "thing", "things", "lot", "bit", "way", "day", "time", "people", "really", "honestly"]
)
MASK = re.compile(r"\[(?:" + "|".join(PRECEDENCE) + r")\]")
"""The placeholders :func:`nlp.redact.redact` puts for identifiers ("[PHONE]", "[NAME]")."""
_NOTHING = """
    no nope nah none nothing nil na idk dunno not know sure unsure comment comments opinion answer
    add else more further much really think so of anything idea mind springs comes come applicable pass
    say what rather prefer remember recall same as above before at the moment now
    thanks thank you sorry for asking please
    i me my we it its that this is was be am are do does did have has got can could would will cannot
    don dont ve ll haven havent
    to a an and or just all any hm hmm um umm erm er eh uh meh whatever
    dim byd dwi ddim yn gwybod dwn wn sai siwr siŵr sylw sylwadau diolch nac nag oes naddo syniad
    ychwanegu mwy amherthnasol gen gennyf fi ddweud dweud ar hyn bryd
"""
NOTHING_WORDS = frozenset(_NOTHING.split())
"""Words that, on their own, say nothing about the question (English and Welsh): "no",
"not sure", "nothing to add", "dwi ddim yn gwybod", "dim byd". "ok", "fine" and "good" are
not among them: they are short answers, not empty ones."""


@dataclass(frozen=True)
class Theme:
    id: int
    label: str
    keywords: list[str]
    size: int
    quotes: list[str]
    members: list[str]
    quote_counts: list[int] = field(default_factory=list)
    """How many of the theme's answers say each quote's words (case, spacing and punctuation
    aside), in the order of ``quotes``."""
    language: str | None = None
    """None for a theme of answers themed together (English, and Welsh read through the
    glossary); a language's code for one found among that language's answers set apart
    (:mod:`nlp.themes_languages`)."""
    group_answers: dict[str, int] = field(default_factory=dict)
    """Each group's answers this theme's shares are of: those that could be themed with it."""


@dataclass(frozen=True)
class ThemeResult:
    themes: list[Theme]
    assignments: dict[str, int]
    """Each answer's theme id; 0 for one that said nothing of substance."""
    prevalence: dict[str, dict[int, float]] = field(default_factory=dict)
    """Each group's share of its answers (those that said nothing included) in each theme."""
    non_answers: list[str] = field(default_factory=list)
    """The answers that said nothing of substance (:func:`says_nothing`), in no theme."""
    group_answers: dict[str, int] = field(default_factory=dict)
    """How many answers each group gave, those that said nothing included."""
    languages: list[LanguageCount] = field(default_factory=list)
    """Each language's answers and how they were themed (:mod:`nlp.themes_languages`)."""
    languages_note: str = ""
    """The same in words for the coordinator ('' when every answer was in English)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "themes": [t.__dict__ for t in self.themes],
            "assignments": self.assignments,
            "prevalence": {
                g: {str(k): v for k, v in p.items()} for g, p in self.prevalence.items()
            },
            "group_answers": self.group_answers,
            "non_answers": len(self.non_answers),
            "non_answer_ids": self.non_answers,
            "languages": [c.__dict__ for c in self.languages],
            "languages_note": self.languages_note,
        }


@dataclass(frozen=True)
class GroupShare:
    """One group's part in a theme: ``answers`` of its ``of`` answers, ``share`` of them."""

    group: str
    answers: int
    of: int

    @property
    def share(self) -> float:
        return self.answers / self.of if self.of else 0.0


def says_nothing(text: str) -> bool:
    """Whether an answer says nothing of substance: once identifier masks, punctuation and
    single letters are set aside, nothing is left but :data:`NOTHING_WORDS` and digits
    ("dunno", "N/A", "no comment", ".", "?", "nothing to add", "dim byd"). Short answers
    with a word of their own stay: "parking", "the wait", "rude staff", "too long"."""
    text = re.sub(r"(\w)&(\w)", r"\1\2", MASK.sub(" ", text))  # "A&E" is a word, not "a and e"
    words = normalise(re.sub(r"(\w)\1{2,}", r"\1", text)).split()  # "hmmm", "nooo"
    return not [w for w in words if len(w) > 1 and not w.isdigit() and w not in NOTHING_WORDS]


def group_shares(members: Sequence[str], group_of: Mapping[str, str | None],
                 group_answers: Mapping[str, int]) -> list[GroupShare]:
    """Each group's part in a theme of ``members`` (answer ids), the largest share first."""
    counts = Counter(group_of.get(m) for m in members)
    shares = [GroupShare(g, counts.get(g, 0), n) for g, n in group_answers.items()]
    return sorted(shares, key=lambda s: (-s.share, s.group))


def describe_shares(shares: Sequence[GroupShare], name: Callable[[str], str] = str) -> str:
    """'patient 42% of 31 · carer 18% of 11': each group's share of its answers, with how many."""
    return " · ".join(f"{name(s.group)} {int(100 * s.share + 0.5)}% of {s.of}" for s in shares)


def said_nothing_note(count: int) -> str:
    """'3 answers said nothing of substance' (or '' when none did)."""
    if not count:
        return ""
    return f"{count} answer{'' if count == 1 else 's'} said nothing of substance (in no theme, counted in each group's answers)"


def knn(vectors: np.ndarray, k: int, chunk: int = 2048) -> np.ndarray:
    """Indices of each row's ``k`` nearest other rows (cosine, unit vectors)."""
    n = len(vectors)
    k = min(k, n - 1)
    out = np.zeros((n, k), dtype=np.int64)
    for start in range(0, n, chunk):
        sims = vectors[start : start + chunk] @ vectors.T
        rows = np.arange(sims.shape[0])
        sims[rows, rows + start] = -np.inf
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1)
        out[start : start + chunk] = np.take_along_axis(part, order, axis=1)
    return out


def snn_graph(neighbours: np.ndarray) -> nx.Graph:
    """Graph whose edge i-j (j among i's neighbours) is weighted by the
    Jaccard-like overlap of their neighbour lists."""
    n, k = neighbours.shape
    rows = np.repeat(np.arange(n), k)
    a = sparse.csr_matrix((np.ones(n * k), (rows, neighbours.ravel())), shape=(n, n))
    shared = np.asarray((a[rows].multiply(a[neighbours.ravel()])).sum(axis=1)).ravel()
    weights = (shared + 1) / (2 * k - shared)
    w = sparse.csr_matrix((weights, (rows, neighbours.ravel())), shape=(n, n))
    w = w.maximum(w.T)
    return nx.from_scipy_sparse_array(w)


def _louvain(graph: nx.Graph, seeds: int) -> list[set[int]]:
    best: tuple[float, list[set[int]]] | None = None
    for seed in range(seeds):
        parts = nx.community.louvain_communities(graph, weight="weight", seed=seed)
        quality = nx.community.modularity(graph, parts, weight="weight")
        if best is None or quality > best[0]:
            best = (quality, [set(p) for p in parts])
    assert best is not None
    return best[1]


def _merge_small(vectors: np.ndarray, labels: np.ndarray, min_size: int, most: int) -> np.ndarray:
    """Fold communities into their nearest neighbour (by centroid) until none
    is smaller than ``min_size`` and there are at most ``most``: on large or
    repetitive inputs Louvain can return hundreds of tight little groups."""
    members = {int(c): list(np.flatnonzero(labels == c)) for c in np.unique(labels)}
    sums = {c: vectors[idx].sum(0) for c, idx in members.items()}
    while len(members) > 1:
        smallest = min(members, key=lambda c: len(members[c]))
        if len(members[smallest]) >= min_size and len(members) <= most:
            break
        others = [c for c in members if c != smallest]
        centroids = np.stack([sums[c] / np.linalg.norm(sums[c]) for c in others])
        target = others[int(np.argmax(centroids @ sums[smallest]))]
        members[target] += members.pop(smallest)
        sums[target] = sums[target] + sums.pop(smallest)
    out = np.zeros(len(labels), dtype=np.int64)
    for n, idx in enumerate(members.values()):
        out[idx] = n
    return out


def _communities(vectors: np.ndarray) -> np.ndarray:
    """Louvain communities of the SNN graph of ``vectors``."""
    graph = snn_graph(knn(vectors, NEIGHBOURS))
    labels = np.zeros(len(vectors), dtype=np.int64)
    for c, part in enumerate(_louvain(graph, SEEDS)):
        labels[list(part)] = c
    return labels


def assign(vectors: np.ndarray, sample: np.ndarray, sample_labels: np.ndarray,
           chunk: int = 2048) -> np.ndarray:
    """A label for every row of ``vectors``: sampled rows keep theirs, the rest
    take the label with the greatest summed similarity among their
    ``NEIGHBOURS`` nearest sampled rows."""
    labels = np.full(len(vectors), -1, dtype=np.int64)
    labels[sample] = sample_labels
    rest = np.flatnonzero(labels < 0)
    reference = vectors[sample]
    k = min(NEIGHBOURS, len(sample))
    classes = int(sample_labels.max()) + 1
    for start in range(0, len(rest), chunk):
        rows = rest[start : start + chunk]
        sims = vectors[rows] @ reference.T
        near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        weights = np.maximum(np.take_along_axis(sims, near, axis=1), 0.0) + 1e-6
        votes = np.zeros((len(rows), classes))
        np.add.at(votes, (np.repeat(np.arange(len(rows)), k), sample_labels[near].ravel()), weights.ravel())
        labels[rows] = votes.argmax(1)
    return labels


def cluster(vectors: np.ndarray, k: int | None = None, min_size: int | None = None) -> np.ndarray:
    """Theme number for each row of ``vectors`` (unit topic vectors)."""
    n = len(vectors)
    if n < 3:
        return np.zeros(n, dtype=np.int64)
    if k is not None:
        return KMeans(min(k, n), n_init=10, random_state=0).fit_predict(vectors).astype(np.int64)
    if n <= SAMPLE:
        labels = _communities(vectors)
    else:
        sample = np.sort(np.random.default_rng(0).choice(n, SAMPLE, replace=False))
        labels = assign(vectors, sample, _communities(vectors[sample]))
    floor = min_size if min_size is not None else max(3, n // 100)
    return _merge_small(vectors, labels, floor, MOST_THEMES)


def baseline(sentence_vectors: np.ndarray, k: int) -> np.ndarray:
    """The plain baseline: ward clustering of sentence vectors into ``k``."""
    return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(sentence_vectors)


def _english() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def class_keywords(texts: Sequence[str], labels: np.ndarray, top: int = 6) -> list[list[str]]:
    """Keywords per class by c-TF-IDF: each class's words pooled into one
    document, term frequency per class times log(1 + mean class length /
    term frequency across classes)."""
    classes = int(labels.max()) + 1 if len(labels) else 0
    unmasked = [MASK.sub(" ", t) for t in texts]
    variants = spelling_variants(unmasked)
    joined = [" ".join(unmasked[int(i)] for i in np.flatnonzero(labels == c)) for c in range(classes)]
    try:
        vectoriser = CountVectorizer(
            stop_words=sorted(FILLER | _english() | WELSH_FUNCTION_WORDS),
            ngram_range=(1, 2),
            token_pattern=WORD.pattern,
            preprocessor=lambda text: WORD.sub(lambda m: variants.get(m.group(0), m.group(0)), text.lower()),
        )
        counts = vectoriser.fit_transform(joined).toarray().astype(float)
    except ValueError:  # nothing but stop words
        return [[] for _ in range(classes)]
    words = vectoriser.get_feature_names_out()
    tf = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    idf = np.log(1 + counts.sum(1).mean() / np.maximum(counts.sum(0), 1))
    scores = tf * idf
    result = []
    for c in range(classes):
        best = [str(words[i]) for i in np.argsort(-scores[c]) if scores[c, i] > 0]
        picked: list[str] = []
        for word in best:  # skip a unigram already inside a chosen bigram, and vice versa
            if any(word in p.split() or p in word.split() for p in picked):
                continue
            picked.append(word)
            if len(picked) == top:
                break
        result.append(picked)
    return result


WORD = re.compile(r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
"""A word, for keywords."""


@lru_cache(maxsize=4)
def _vocabulary(model_path: str) -> frozenset[str]:
    """The whole words of the embedding model's vocabulary (empty if it has no vocab.txt)."""
    path = Path(model_path) / "vocab.txt"
    if not path.is_file():
        return frozenset()
    return frozenset(w for w in path.read_text(encoding="utf-8").split() if w.isalpha())


def _edits(a: str, b: str) -> int:
    """Edits (insert, delete, change or swap two letters side by side) from ``a`` to ``b``."""
    before, row = None, list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        now = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            now[j] = min(row[j] + 1, now[j - 1] + 1, row[j - 1] + (x != y))
            if before is not None and i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                now[j] = min(now[j], before[j - 2] + 1)
        before, row = row, now
    return row[-1]


def _deletions(word: str, depth: int) -> set[str]:
    found, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def _contracted(word: str, known: frozenset[str]) -> bool:
    """A known word with its apostrophe left out ("wasnt", "theyre", "youll"), not a typo."""
    return any(word.endswith(tail) and word[: -len(tail)] in known for tail in ("nt", "re", "ve", "ll", "s", "d"))


def spelling_variants(texts: Sequence[str]) -> dict[str, str]:
    """Misspelt word -> the spelling to count it as, for keywords only: a word of five letters
    or more that is not in the model's vocabulary (nor one of its words without an apostrophe,
    "wasnt") and is one edit (two, from eight letters) from a word with the same first letter
    that is in it or that the answers use more often ("recepton", "reciption" -> "reception").
    Nothing when the model has no vocabulary file."""
    from nlp.embed import default_model_path

    known = _vocabulary(default_model_path())
    if not known:
        return {}
    counts = Counter(w for t in texts for w in WORD.findall(t.lower()))
    index: dict[str, set[str]] = {}
    for word in counts:
        if len(word) >= 4:
            for key in _deletions(word, 1 if len(word) < 8 else 2):
                index.setdefault(key, set()).add(word)
    found = {}
    for word, n in counts.items():
        if len(word) < 5 or word in known or _contracted(word, known):
            continue
        depth = 1 if len(word) < 8 else 2
        near = {c for key in _deletions(word, depth) for c in index.get(key, ())}
        better = [c for c in near if c != word and c[0] == word[0] and (c in known or counts[c] > n)
                  and _edits(word, c) <= depth]
        if better:
            found[word] = max(better, key=lambda c: (c in known, counts[c], c))
    return found


def representative(
    vectors: np.ndarray, members: np.ndarray, texts: Sequence[str], count: int = 3
) -> list[int]:
    """The ``count`` members closest to their centroid, best first, no two in the same
    words (:func:`nlp.duplicates.normalise`); among the closest few, answers of at least
    five words are preferred as quotes."""
    centroid = vectors[members].mean(0)
    order = [int(members[i]) for i in np.argsort(-(vectors[members] @ centroid), kind="stable")]
    distinct = first_of_each_wording(order, texts)
    near = distinct[: max(3 * count, 10)]
    full = [i for i in near if len(texts[i].split()) >= 5]
    chosen = full[:count]
    return chosen + [i for i in distinct if i not in chosen][: count - len(chosen)]


def first_of_each_wording(order: Sequence[int], texts: Sequence[str]) -> list[int]:
    """``order`` without the answers whose words (normalised) an earlier one already said."""
    seen: set[str] = set()
    distinct = []
    for i in order:
        wording = normalise(texts[i])
        if wording not in seen:
            seen.add(wording)
            distinct.append(i)
    return distinct


def answers_per_wording(members: np.ndarray, texts: Sequence[str], ids: Sequence[str]) -> dict[str, int]:
    """How many distinct answers among ``members`` say each normalised wording."""
    found: dict[str, set[str]] = {}
    for i in members:
        found.setdefault(normalise(texts[int(i)]), set()).add(ids[int(i)])
    return {wording: len(answers) for wording, answers in found.items()}


def theme_prevalence(groups: Sequence[str | None], labels: np.ndarray,
                     denominators: Sequence[Mapping[str, int]]) -> dict[str, dict[int, float]]:
    """Share of each group's answers falling in each theme (theme ids 1-based), over the
    group's answers that could be themed with it (``denominators``, one map per theme)."""
    names = sorted({g for g in groups if g})
    counts = [Counter(g for g, label in zip(groups, labels, strict=True) if label == c) for c in range(len(denominators))]
    return {g: {c + 1: round(counts[c][g] / of[g], 4) if of.get(g) else 0.0 for c, of in enumerate(denominators)}
            for g in names}


def language_plan(answers: Sequence[tuple[str, str, str | None]],
                  languages: Mapping[str, str | None] | None = None) -> Plan:
    """How :func:`find_themes` reads each of ``answers`` (:func:`nlp.themes_languages.plan`):
    its language, the words the model embeds and whether it is themed apart."""
    return plan([a[1] for a in answers], [(languages or {}).get(a[0]) for a in answers],
                [says_nothing(a[1]) for a in answers])


def find_themes(
    answers: Sequence[tuple[str, str, str | None]],
    k: int | None = None,
    topic_vectors: np.ndarray | None = None,
    progress: Callable[[int], None] | None = None,
    languages: Mapping[str, str | None] | None = None,
) -> ThemeResult:
    """Themes in ``answers`` given as (id, text, group or None); ``topic_vectors``, if
    given, has a row for each of them (and is used when every answer is read as written).
    ``languages`` maps an answer's id to the language its participant was answering in.
    Answers that say nothing of substance (:func:`says_nothing`) are in no theme. Answers in
    Welsh are read through a glossary into English or, failing that, themed apart among
    themselves, as are answers in other languages (:mod:`nlp.themes_languages`); ``k``
    applies to the themes of the answers themed together."""
    ids = [a[0] for a in answers]
    texts = [a[1] for a in answers]
    groups = [a[2] for a in answers]
    empty = [says_nothing(text) for text in texts]
    made = plan(texts, [(languages or {}).get(i) for i in ids], empty)
    if topic_vectors is None or made.reading != texts:
        from nlp.embed import encode

        topic_vectors = encode(made.reading, progress=progress).topic
    pools = sorted({p for p, nothing in zip(made.apart, empty, strict=True) if not nothing},
                   key=lambda p: (p is not None, p or ""))
    labels = np.full(len(texts), -1, dtype=np.int64)
    pool_of: list[str | None] = []
    for pool in pools:
        kept = np.array([i for i in range(len(texts)) if made.apart[i] == pool and not empty[i]], dtype=np.int64)
        if pool is not None and len(kept) < FEWEST_APART:
            continue
        raw = cluster(topic_vectors[kept], k if pool is None else None)
        order = np.argsort(-np.bincount(raw), kind="stable")
        labels[kept] = np.argsort(order)[raw] + len(pool_of)  # within a pool, the largest first
        pool_of += [pool] * len(order)
    themed = labels >= 0
    keywords = class_keywords([made.reading[i] for i in np.flatnonzero(themed)], labels[themed])
    everyone = Counter(g for g in groups if g)
    denominators = [dict(sorted(Counter(g for g, p in zip(groups, made.apart, strict=True) if g and p == pool).items()))
                    for pool in pool_of]
    themes = []
    for c, pool in enumerate(pool_of):
        members = np.flatnonzero(labels == c)
        quotes = [texts[i] for i in representative(topic_vectors, members, texts)]
        said = answers_per_wording(members, texts, ids)
        label = " / ".join(keywords[c][:3]) or f"theme {c + 1}"
        themes.append(
            Theme(
                id=c + 1,
                label=label if pool is None else f"{label} ({name(pool)} answers only)",
                keywords=keywords[c],
                size=len(members),
                quotes=quotes,
                members=[ids[i] for i in members],
                quote_counts=[said[normalise(q)] for q in quotes],
                language=pool,
                group_answers=denominators[c],
            )
        )
    counts = language_counts(made, {p for p in pool_of if p is not None}, empty)
    return ThemeResult(themes, {ids[i]: int(labels[i]) + 1 for i in range(len(ids))},
                       theme_prevalence(groups, labels, denominators),
                       non_answers=[ids[i] for i in range(len(ids)) if empty[i]],
                       group_answers=dict(sorted(everyone.items())),
                       languages=counts, languages_note=languages_note(counts))
