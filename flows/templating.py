"""Sandboxed Jinja2 for texts ('Hello {{ participant.name }}') and ``next`` conditions."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jinja2 import TemplateError, Undefined, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment


class MissingValue(Undefined):
    """A value the participant has not given: falsy, so ``participant.name or 'there'`` and
    ``if answers.role`` work, but printing it or using it as a value fails loudly."""

    __slots__ = ()
    __str__ = Undefined._fail_with_undefined_error  # type: ignore[assignment]
    __iter__ = Undefined._fail_with_undefined_error  # type: ignore[assignment]
    __len__ = Undefined._fail_with_undefined_error  # type: ignore[assignment]


_strict = ImmutableSandboxedEnvironment(undefined=MissingValue, autoescape=False, keep_trailing_newline=True)
_lenient = ImmutableSandboxedEnvironment(undefined=Undefined, autoescape=False, keep_trailing_newline=True)

TEMPLATE_ROOTS = ("participant", "answers", "values", "answer", "study", "round")


class TemplateFailure(Exception):
    """A template that could not be rendered; carries the coordinator-facing reason."""


@lru_cache(maxsize=4096)
def _compiled(source: str, strict: bool) -> Any:
    return (_strict if strict else _lenient).from_string(source)


@lru_cache(maxsize=4096)
def _expression(source: str) -> Any:
    return _strict.compile_expression(source, undefined_to_none=False)


class Namespace(dict[str, Any]):
    """A dict whose keys also read as attributes, so ``participant.name`` works and a missing
    key is simply undefined for ``participant.name or 'there'``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


# ----------------------------------------------------------------------------- remembered results
#
# Rendering is pure: a sandboxed template reads only its context, and (the ``random`` filter
# and global functions such as ``lipsum`` aside, which are never remembered) gives the same
# text for the same values. The same few texts and conditions are rendered with the same few
# values over and over (``answer == "staff"``, ``answers.role | lower``), so results are
# remembered, keyed on the source and an exact, hashable copy of the context values it reads.

_REMEMBERED = 8192
_results: dict[tuple[Any, ...], Any] = {}
_PLAIN = (str, int, float, bool, type(None))
_MISSING = object()


class _Unkeyable(Exception):
    """A context value of a type whose contents the key cannot capture exactly."""


@lru_cache(maxsize=4096)
def _reads(source: str, expression: bool) -> tuple[str, ...] | None:
    """The context names a template reads, or None if its result may not be remembered."""
    try:
        tree = _strict.parse("{{ " + source + " }}" if expression else source)
        if any(node.name == "random" for node in tree.find_all(nodes.Filter)):
            return None
        return tuple(sorted(meta.find_undeclared_variables(tree)))
    except TemplateError:  # rendering reports it: an unknown filter is found while compiling
        return None


def _frozen(value: Any) -> Any:
    """An exact hashable copy: types are kept, so 1, 1.0, True and '1' all differ."""
    kind = type(value)
    if kind in _PLAIN:
        return kind, value
    if isinstance(value, dict):
        return kind, tuple((_frozen(k), _frozen(v)) for k, v in value.items())
    if kind in (list, tuple):
        return kind, tuple(_frozen(v) for v in value)
    raise _Unkeyable(kind.__name__)


def _key(source: str, expression: bool, context: dict[str, Any]) -> tuple[Any, ...] | None:
    names = _reads(source, expression)
    if names is None or any(name not in context for name in names):
        return None  # a global (range, lipsum...) or a missing name: always render afresh
    try:
        return (source, expression, *(_frozen(context[name]) for name in names))
    except _Unkeyable:
        return None


def _remember(key: tuple[Any, ...] | None, result: Any) -> Any:
    if key is not None:
        if len(_results) >= _REMEMBERED:
            _results.clear()
        _results[key] = result
    return result


def render(source: str, context: dict[str, Any]) -> str:
    """Render strictly; raise :class:`TemplateFailure` with the reason when that fails."""
    if "{" not in source:
        return source
    key = _key(source, False, context)
    known = _results.get(key, _MISSING) if key is not None else _MISSING
    if known is not _MISSING:
        return str(known)
    try:
        return str(_remember(key, str(_compiled(source, True).render(context))))
    except TemplateError as error:
        raise TemplateFailure(str(error)) from error
    except Exception as error:  # anything a sandboxed template can raise at run time
        raise TemplateFailure(f"{type(error).__name__}: {error}") from error


_SENTENCE_END = re.compile(r"((?<=[.!?])[ \t]+|\n+)")


def render_what_works(source: str, context: dict[str, Any]) -> str:
    """The sentences (and lines) of a text that render, each on its own; those that fail are
    left out rather than sent with holes ('You scored %.'). Empty when none does."""
    pieces = _SENTENCE_END.split(source)
    kept: list[str] = []
    for sentence, gap in zip(pieces[::2], [*pieces[1::2], ""], strict=True):
        try:
            rendered = render(sentence, context) if sentence.strip() else ""
        except TemplateFailure:
            continue
        if rendered.strip():
            kept += [rendered, gap]
    return "".join(kept).strip()


def render_leniently(source: str, context: dict[str, Any]) -> str:
    """Render with missing values as blanks; if even that fails, drop the template parts.
    A blank left before punctuation is closed up: 'Hello , shall we?' reads 'Hello, shall we?'."""
    try:
        text = str(_compiled(source, False).render(context))
    except Exception:
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", source, flags=re.DOTALL)
    return re.sub(r"[ \t]+([,.!?;:])", r"\1", text)


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """The value of a condition; plain results (True, 3, 'staff') are remembered."""
    key = _key(expression, True, context)
    known = _results.get(key, _MISSING) if key is not None else _MISSING
    if known is not _MISSING:
        return known
    try:
        result = _expression(expression)(**context)
        return _remember(key, result) if type(result) in _PLAIN else result
    except TemplateError as error:
        raise TemplateFailure(str(error)) from error
    except Exception as error:
        raise TemplateFailure(f"{type(error).__name__}: {error}") from error


def syntax_error(source: str, expression: bool = False) -> str | None:
    """The Jinja syntax error in a text or condition, or None."""
    try:
        if expression:
            _strict.compile_expression(source)
        else:
            _strict.from_string(source)  # compiled: an unknown filter or test is found too
    except TemplateError as error:
        return in_plain_words(str(error), source, expression)
    return None


_SINGLE_EQUALS = re.compile(r"(?<![=!<>])=(?!=)")
_CAPITALS = re.compile(r"\b(AND|OR|NOT|And|Or|Not)\b")
_OPEN_BLOCK = re.compile(r"innermost block that needs to be closed is '(\w+)'")


def in_plain_words(error: str, source: str, expression: bool) -> str:
    """Jinja's complaint ("chunk after expression", "unexpected 'end of template'") as what
    to change, for the slips coordinators make; else Jinja's own words."""
    code = source if expression else " ".join(p for pair in re.findall(r"\{\{(.*?)\}\}|\{%(.*?)%\}", source, re.S) for p in pair)
    if "===" in source and "unexpected '='" in error:
        return "use == to compare (you wrote ===)"
    if _SINGLE_EQUALS.search(code) and ("chunk after expression" in error or "got '='" in error):
        return "use == to compare (you wrote =)"
    if "&&" in code or "||" in code:
        return "join comparisons with 'and' or 'or' (you wrote && or ||)"
    if expression and "chunk after expression" in error:
        capital = _CAPITALS.search(source)
        if capital:
            return f"write '{capital[1].lower()}' in small letters (you wrote '{capital[1]}')"
        return "there is more after the comparison than can be read: join two comparisons with 'and' or 'or'"
    if expression and "end of template" in error and "expected ')'" not in error:
        return "the condition stops too soon: something is missing at its end (after ==, 'and' or 'or')"
    if "expected ')'" in error or "expected ']'" in error:
        return f"a '{'(' if ')' in error else '['}' is never closed"
    if "unexpected char '\"'" in error or "unexpected char \"'\"" in error:
        return "a text in quotes is never closed: put a quote at its end too"
    if "expected 'end of print statement'" in error or (not expression and "unexpected '}'" in error):
        return "a '{{' is never closed with '}}'"
    block = _OPEN_BLOCK.search(error)
    if block:
        return f"'{{% {block[1]} %}}' is never closed: add '{{% end{block[1]} %}}'"
    if "expected token 'name', got 'string'" in error and " is " in f" {source} ":
        return "'is' tests a kind of value (is defined); to compare with a text use =="
    return error


def variables(source: str, expression: bool = False) -> set[str]:
    """Dotted names a text or condition reads: {'participant.name', 'answers.role'}."""
    try:
        tree = _strict.parse("{{ " + source + " }}" if expression else source)
        return set(meta.find_undeclared_variables(tree)) | _attributes_read(tree)
    except TemplateError:  # a syntax error, or an unknown filter found while compiling
        return set()


def _attributes_read(node: nodes.Node) -> set[str]:
    """``name.attribute`` (or ``name["attribute"]``) for each one read in or at ``node``."""
    found: set[str] = set()
    for part in [node, *node.find_all((nodes.Getattr, nodes.Getitem))]:
        if isinstance(part, nodes.Getattr) and isinstance(part.node, nodes.Name):
            found.add(f"{part.node.name}.{part.attr}")
        elif isinstance(part, nodes.Getitem) and isinstance(part.node, nodes.Name) and isinstance(part.arg, nodes.Const):
            found.add(f"{part.node.name}.{part.arg.value}")
    return found


GUARDING_TESTS = frozenset({"defined", "undefined", "none"})
GUARDING_FILTERS = frozenset({"default", "d"})


def _bare(node: nodes.Node) -> bool:
    """A value itself (``answers.role``, ``not answers.role``), not a comparison of it."""
    if isinstance(node, nodes.Not):
        return _bare(node.node)
    return isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem)


def _guards(tree: nodes.Node) -> list[nodes.Node]:
    """The parts of a template that look before they use: the test of an ``if`` (a
    statement or inline, where a missing value only picks the other branch), a value on
    the left of ``or``/``and``, ``is defined`` and the ``default`` filter."""
    found: list[nodes.Node] = []
    found += [node.test for node in tree.find_all(nodes.If)]
    found += [node.test for node in tree.find_all(nodes.CondExpr)]
    found += [node.left for node in tree.find_all(nodes.Or) if _bare(node.left)]
    found += [node.left for node in tree.find_all(nodes.And) if _bare(node.left)]
    found += [node.node for node in tree.find_all(nodes.Test) if node.name in GUARDING_TESTS]
    found += [node.node for node in tree.find_all(nodes.Filter) if node.name in GUARDING_FILTERS and node.node is not None]
    return found


def _dotted(node: nodes.Node) -> set[str]:
    """The names and dotted names (``answers.role``) read anywhere in or at ``node``."""
    names = [node] if isinstance(node, nodes.Name) else list(node.find_all(nodes.Name))
    return {name.name for name in names} | _attributes_read(node)


def guarded_names(source: str, expression: bool = False) -> set[str]:
    """Dotted names a text or condition checks before relying on: ``participant.name`` in
    ``{{ participant.name or 'there' }}``, ``answers.role`` in ``{% if answers.role %}``.
    A missing value there is expected, not a mistake."""
    try:
        tree = _strict.parse("{{ " + source + " }}" if expression else source)
    except TemplateError:
        return set()
    found: set[str] = set()
    for guard in _guards(tree):
        found |= _dotted(guard)
    return found
