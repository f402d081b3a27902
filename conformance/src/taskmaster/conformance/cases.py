"""The crash-case table: what fails, where, and the error it must produce.

Each case is one small batch; the model says which error the task must end
with.  The generated batches cover the same ground at random; this table
makes sure every stage is exercised on every backend that can survive it,
and names each case so a failure says at once what broke.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .backends import Capabilities
from .scenario import (
    Answer,
    Batch,
    Call,
    Crash,
    Ending,
    ErrorSpec,
    Exit,
    Hang,
    InitSpec,
    Raise,
    Return,
    Scenario,
    SetField,
)
from .values import Poison, Unpicklable


@dataclass(frozen=True)
class CrashCase:
    """A named batch, and what a backend needs to run it."""

    name: str
    batch: Batch
    needs: Callable[[Capabilities], bool] = lambda caps: True


def _one(scenario: Scenario, init: InitSpec | None = None) -> Batch:
    return Batch(tasks=(scenario, Scenario(ending=Return("after"))), init=init)


_CALL = Call(args=(1,), answer=Answer(value="answered"))


def _ends_instance(ending: Ending) -> Callable[[Capabilities], bool]:
    """Whether a backend survives ``ending`` in a task."""
    if isinstance(ending, Exit):
        if ending.how == "os._exit":
            return lambda caps: caps.os_exit
        return lambda caps: caps.sys_exit
    if isinstance(ending, Crash):
        return lambda caps: caps.crashes
    return lambda caps: caps.timeouts


_DEATHS: dict[str, Ending] = {
    "sys-exit": Exit(3, "sys.exit"),
    "sys-exit-0": Exit(0, "sys.exit"),
    "os-exit": Exit(4, "os._exit"),
    "segfault": Crash(),
    "timeout": Hang(),
}


def _death_cases() -> list[CrashCase]:
    cases = []
    for label, ending in _DEATHS.items():
        timeout = 0.1 if isinstance(ending, Hang) else None
        needs = _ends_instance(ending)
        cases += [
            CrashCase(
                f"{label}-at-once",
                _one(Scenario(ending=ending, timeout=timeout)),
                needs,
            ),
            CrashCase(
                f"{label}-after-a-call",
                _one(Scenario(steps=(_CALL,), ending=ending, timeout=timeout)),
                needs,
            ),
            CrashCase(
                f"{label}-with-a-call-unanswered",
                _one(
                    Scenario(
                        steps=(Call(wait="never", answer=Answer(sets=(("both", 1),))),),
                        ending=ending,
                        timeout=timeout,
                    )
                ),
                needs,
            ),
        ]
        if not isinstance(ending, Hang):
            init = InitSpec(ending=ending)
            cases.append(
                CrashCase(
                    f"{label}-in-the-init-task", _one(Scenario(), init=init), needs
                )
            )
    return cases


def _pickling_cases() -> list[CrashCase]:
    table = {
        "result-unpicklable": Scenario(ending=Return(Unpicklable())),
        "result-unloadable": Scenario(ending=Return(Poison())),
        "error-unpicklable": Scenario(
            ending=Raise(ErrorSpec("LockedError", ("held",)))
        ),
        "error-unloadable": Scenario(ending=Raise(ErrorSpec("StubbornError", (1, 2)))),
        "field-unpicklable-when-sent": Scenario(fields=(("both", Unpicklable()),)),
        "child-field-unloadable-when-sent": Scenario(fields=(("child", Poison()),)),
        "parent-field-unpicklable": Scenario(fields=(("parent", Unpicklable()),)),
        "field-unpicklable-at-the-end": Scenario(
            steps=(SetField("plain", Unpicklable()),), ending=Return(1)
        ),
        "field-unloadable-at-the-end": Scenario(
            steps=(SetField("both", Poison()),), ending=Return(1)
        ),
        "field-unpicklable-with-an-error": Scenario(
            steps=(SetField("both", Unpicklable()),),
            ending=Raise(ErrorSpec("ValueError", ("x",))),
        ),
        "child-field-unpicklable": Scenario(
            steps=(SetField("child", Unpicklable()), _CALL), ending=Return(1)
        ),
        "argument-unpicklable": Scenario(steps=(Call(args=(Unpicklable(),)),)),
        "argument-unloadable": Scenario(steps=(Call(args=(Poison(),)),)),
        "field-unpicklable-at-a-call": Scenario(
            steps=(SetField("both", Unpicklable()), _CALL, SetField("both", 2))
        ),
        "field-unloadable-at-a-call": Scenario(
            steps=(SetField("both", Poison()), _CALL, SetField("both", 2))
        ),
        "answer-unpicklable": Scenario(
            steps=(Call(answer=Answer(value=Unpicklable())),)
        ),
        "answer-unloadable": Scenario(steps=(Call(answer=Answer(value=Poison())),)),
        "answer-field-unpicklable": Scenario(
            steps=(Call(answer=Answer(sets=(("plain", Unpicklable()),))),)
        ),
        "answer-error-unpicklable": Scenario(
            steps=(Call(answer=Answer(error=ErrorSpec("LockedError", ("no",)))),)
        ),
        "answer-error-unloadable": Scenario(
            steps=(Call(answer=Answer(error=ErrorSpec("StubbornError", ("a", "b")))),)
        ),
        "answer-error-with-unpicklable-field": Scenario(
            steps=(
                Call(
                    answer=Answer(
                        error=ErrorSpec("ValueError", ("no",)),
                        sets=(("both", Unpicklable()),),
                    )
                ),
            )
        ),
    }
    return [CrashCase(name, _one(scenario)) for name, scenario in table.items()]


def all_crash_cases() -> list[CrashCase]:
    return _death_cases() + _pickling_cases()


def crash_cases(caps: Capabilities) -> list[CrashCase]:
    """The cases a backend with ``caps`` can run."""
    return [case for case in all_crash_cases() if case.needs(caps)]
