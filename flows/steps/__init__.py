"""Step types, one module each, registered by their ``type`` string.

A later step type (rank, pairwise, choice experiment, Delphi rating, statement
voting) is one new module that subclasses :class:`flows.steps.base.InputStep`
(or ``StepBase``) and decorates itself with :func:`register`; the engine never
changes. Modules listed in ``BUILT_IN`` are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TypeVar

from flows.model import StepBase

BUILT_IN = (
    "message", "end", "consent", "choice", "scale", "yesno", "number", "open",
    "rank", "delphi", "statements", "pairwise", "choice_experiment",
)
_REGISTRY: dict[str, type[StepBase]] = {}
_loaded = False

S = TypeVar("S", bound=type[StepBase])


class UnknownStepType(ValueError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name, self.known = name, known
        super().__init__(f"unknown step type '{name}'; known types: {', '.join(known)}")


def register(cls: S) -> S:
    """Class decorator: make a step model available under its ``type`` literal."""
    name = cls.__pydantic_fields__["type"].default
    if not isinstance(name, str):
        raise TypeError(f"{cls.__name__} must give 'type' a default string")
    _REGISTRY[name] = cls
    return cls


def _load_built_ins() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILT_IN:
            importlib.import_module(f"flows.steps.{module}")


def step_model(name: str) -> type[StepBase]:
    _load_built_ins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownStepType(name, known_types()) from None


def known_types() -> list[str]:
    _load_built_ins()
    return sorted(_REGISTRY)
