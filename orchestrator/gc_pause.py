"""Pause Python's cyclic garbage collector around bulk work that builds no reference cycles.

Reading or writing a 10,000-case run allocates millions of short-lived objects while millions
of long-lived ones (the results) are alive: every allocation burst triggers a full collection
that rescans the live ones, which doubled the time to write the reports. Reference counting
still frees everything these phases allocate; the collector resumes afterwards.

`slotted` keeps the many small model objects (specs, results, locations) without a __dict__
each: with `__slots__` a 10,000-case run holds several MB less.
"""
from __future__ import annotations

import dataclasses
import gc
from contextlib import contextmanager
from typing import Any, Iterator, TypeVar

T = TypeVar("T")


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def long_lived() -> None:
    """Everything alive now stays alive until the command ends (a loaded plan, a run read back):
    move it out of the collector's sight (gc.freeze). Otherwise each full collection rescans
    those millions of objects: `orchestrator report` of 10,000 cases spent ~0.5 s doing that.
    Reference counting still frees them; only cycles among them would outlive the command.

    What is garbage only because of a reference cycle is collected first (the young objects are
    scanned: ~30 ms for a 20,000-case plan): frozen, it would stay for good."""
    gc.collect(0)
    gc.freeze()


def slotted(cls: type[T]) -> type[T]:
    """The dataclass `cls` rebuilt with `__slots__` for its fields, what `dataclass(slots=True)`
    does from Python 3.10 on (this package runs on 3.9): applied above `@dataclass`. Its
    instances have no __dict__ (so ~100 bytes less each, and no attributes beyond the fields);
    a frozen one still copies and pickles (its state is restored without its __setattr__)."""
    names = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    body = {k: v for k, v in cls.__dict__.items() if k not in names and k not in ("__dict__", "__weakref__")}
    body["__slots__"] = names
    if cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        body["__getstate__"] = _getstate
        body["__setstate__"] = _setstate
        # dataclass's own refer to the class it was given, not to this one
        body["__setattr__"] = _frozen_setattr
        body["__delattr__"] = _frozen_delattr
    metaclass: Any = type(cls)
    rebuilt: type[T] = metaclass(cls.__name__, cls.__bases__, body)
    rebuilt.__qualname__ = cls.__qualname__
    return rebuilt


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, name) for name in self.__slots__]


def _setstate(self: Any, state: list[Any]) -> None:
    for name, value in zip(self.__slots__, state):
        object.__setattr__(self, name, value)


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
