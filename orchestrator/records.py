"""The model's many small objects (specs, results, locations): declared cheaply (`record`), and
kept out of the cyclic garbage collector's way in bulk (`paused_gc`, `long_lived`).

`@record` is a frozen, slotted data class, declared as `@dataclass(frozen=True)` is, that costs
next to nothing to define. `@dataclass` writes a class's methods (`__init__`, `__repr__`,
`__eq__`, `__hash__`, the frozen `__setattr__`/`__delattr__`) as source text and compiles it each
time the module is imported: ~1 ms a class, and with ~65 model classes that was ~60 ms of every
command's start (more than the interpreter's own). Here `dataclasses` does only the bookkeeping,
so `fields()`, `replace()` and `asdict()` work as for any dataclass, and:
- `__init__` comes from one code object per shape (number of fields, which have a default
  factory, whether there is `__post_init__`), compiled once a process and given the class's
  field names (`CodeType.replace`): the signature, defaults, default factories and
  `__post_init__` call of dataclass's own, each field set through its slot;
- `__repr__`, `__eq__`, `__hash__` and the frozen `__setattr__`/`__delattr__` are the shared
  functions below, equal in behaviour to the generated ones (hash of the compared fields'
  tuple, equality only with the same class);
- every record has `__slots__` for its fields (what `dataclass(slots=True)` does from Python
  3.10 on; this package runs on 3.9): no `__dict__`, ~100 bytes less an object, which counts at
  10,000 cases; a class that needs more slots (`__weakref__`) declares them itself.
A frozen record refuses assignment (`dataclasses.FrozenInstanceError`); its own `__init__` and
`__post_init__` use `object.__setattr__`, as with `dataclass(frozen=True)`. It copies and
pickles (its state is restored without its `__setattr__`).

The collector: reading or writing a 10,000-case run allocates millions of short-lived objects
while millions of long-lived ones (the results) are alive: every allocation burst triggers a
full collection that rescans the live ones, which doubled the time to write the reports.
`paused_gc` pauses it around bulk work that builds no reference cycles (reference counting still
frees everything); `long_lived` moves what stays until the command ends out of its sight.
"""
from __future__ import annotations

import dataclasses
import gc
import sys
from contextlib import contextmanager
from operator import attrgetter
from types import CodeType, FunctionType
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_: object) -> Callable[[Any], Any]:
        return lambda decorator: decorator

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


class _Factory:
    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()  # the default of a field with a default factory, as dataclass's `_HAS_DEFAULT_FACTORY`
_NOT_SET = object()
_SHAPES: dict[tuple[int, int, bool], CodeType] = {}


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: type[T]) -> type[T]:
    """A frozen record: as `@dataclass(frozen=True)`, with `__slots__`."""
    return _build(cls, frozen=True)


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def mutable_record(cls: type[T]) -> type[T]:
    """A record whose fields may be assigned: as `@dataclass` (compared by its fields, so not
    hashable), with `__slots__`: it takes no attribute beyond its fields. It can be weakly
    referenced (these are few, long-lived objects: a loaded file, a case's context, a sampler)."""
    return _build(cls, frozen=False)


def _build(cls: type[T], *, frozen: bool) -> type[T]:
    if not cls.__dict__.get("__doc__"):
        cls.__doc__ = cls.__name__  # or dataclass works it out with inspect.signature (slow)
    dataclasses.dataclass(cls, init=False, repr=False, eq=False)  # the bookkeeping: fields(), replace()
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    inherited = {name for base in cls.__mro__[1:] for name in getattr(base, "__slots__", ())}
    own = tuple(f.name for f in fields if f.name not in inherited)
    body = {k: v for k, v in cls.__dict__.items() if k not in own and k not in ("__dict__", "__weakref__")}
    weakly_referable = any(base.__weakrefoffset__ for base in cls.__bases__)
    extra = () if frozen or weakly_referable or "__weakref__" in _declared_slots(cls) else ("__weakref__",)
    body["__slots__"] = (*_declared_slots(cls), *extra, *own)
    compared = tuple(f.name for f in fields if f.compare)
    body["__record_key__"] = staticmethod(attrgetter(*compared) if len(compared) > 1 else _one_tuple(compared))
    body["__record_repr__"] = tuple(f.name for f in fields if f.repr)
    if body.get("__hash__", _NOT_SET) is None and "__eq__" in body:
        del body["__hash__"]  # Python's implicit None for a class defining __eq__: dataclass replaces it too
    for name, shared in (_SHARED if frozen else _SHARED_MUTABLE).items():
        body.setdefault(name, shared)
    metaclass: Any = type(cls)
    rebuilt: type[T] = metaclass(cls.__name__, cls.__bases__, body)
    rebuilt.__qualname__ = cls.__qualname__
    if not all(f.init for f in fields):
        raise TypeError(f"{cls.__name__}: fields with init=False are not supported by @record")
    setattr(rebuilt, "__init__", _init(rebuilt, list(fields)))
    return rebuilt


def _declared_slots(cls: type) -> tuple[str, ...]:
    declared = cls.__dict__.get("__slots__", ())
    return (declared,) if isinstance(declared, str) else tuple(declared)


def _one_tuple(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if not names:
        return lambda _: ()
    get = attrgetter(names[0])
    return lambda obj: (get(obj),)


def _init(cls: type, fields: list[dataclasses.Field[Any]]) -> Callable[..., None]:
    defaults: list[Any] = []
    factories = 0
    for n, f in enumerate(fields):
        if getattr(f, "kw_only", False):
            raise TypeError(f"{cls.__name__}.{f.name}: keyword-only fields are not supported by @record")
        if f.default_factory is not dataclasses.MISSING:
            defaults.append(_FACTORY)
            factories |= 1 << n
        elif f.default is not dataclasses.MISSING:
            defaults.append(f.default)
        elif defaults:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
    post_init = hasattr(cls, "__post_init__")
    shape = _shape(len(fields), factories, post_init)
    names = tuple(f.name for f in fields)
    code = shape.replace(co_varnames=("self", *names), co_name="__init__")
    if sys.version_info >= (3, 11):
        code = code.replace(co_qualname=f"{cls.__qualname__}.__init__")
    scope: dict[str, Any] = {"__builtins__": __builtins__, "_FACTORY": _FACTORY}
    for n, f in enumerate(fields):
        scope[f"_set{n}"] = getattr(cls, f.name).__set__  # the slot's own setter: past the frozen __setattr__
        if factories >> n & 1:
            scope[f"_factory{n}"] = f.default_factory
    init = FunctionType(code, scope, "__init__", tuple(defaults) or None)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = {**{f.name: f.type for f in fields}, "return": None}
    return init


def _shape(count: int, factories: int, post_init: bool) -> CodeType:
    """The `__init__` of `count` fields, its parameters named a0, a1, ... until renamed."""
    key = (count, factories, post_init)
    code = _SHAPES.get(key)
    if code is None:
        lines = [f"def __init__(self{''.join(f', a{n}' for n in range(count))}):"]
        for n in range(count):
            if factories >> n & 1:
                lines.append(f"    if a{n} is _FACTORY: a{n} = _factory{n}()")
            lines.append(f"    _set{n}(self, a{n})")
        lines.append("    self.__post_init__()" if post_init else "    pass")
        namespace: dict[str, Any] = {}
        exec(compile("\n".join(lines), "<record __init__>", "exec"), namespace)
        code = _SHAPES[key] = namespace["__init__"].__code__
    return code


def _repr(self: Any) -> str:
    inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_repr__)
    return f"{type(self).__qualname__}({inner})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        return self.__record_key__(self) == self.__record_key__(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self.__record_key__(self))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, name) for name in _all_slots(type(self))]


def _setstate(self: Any, state: list[Any]) -> None:
    for name, value in zip(_all_slots(type(self)), state):
        object.__setattr__(self, name, value)


def _all_slots(cls: type) -> list[str]:
    return [name for klass in reversed(cls.__mro__) for name in _declared_slots(klass) if name != "__weakref__"]


_SHARED: dict[str, Callable[..., Any]] = {
    "__repr__": _repr, "__eq__": _eq, "__hash__": _hash, "__setattr__": _frozen_setattr,
    "__delattr__": _frozen_delattr, "__getstate__": _getstate, "__setstate__": _setstate,
}
# A mutable record compares by its fields, so, as a dataclass, it cannot be hashed.
_SHARED_MUTABLE: dict[str, Any] = {
    "__repr__": _repr, "__eq__": _eq, "__hash__": None, "__getstate__": _getstate, "__setstate__": _setstate,
}
