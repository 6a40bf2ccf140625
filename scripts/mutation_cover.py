"""pytest plugin for scripts/mutation.sh: which tests run code of the mutated module.

Loaded with `-p mutation_cover` (scripts/ on PYTHONPATH) during the baseline run. For each test
(setup, call and teardown, in every thread), records whether a function of MUTATION_MODULE (a path
relative to the tree) was called, and writes the ids of those tests, in the order they ran, one a
line, to MUTATION_TESTS_OUT: pytest reads them back as `@file` for every mutant. A test that never
calls the module cannot kill one of its mutants (its module-level code runs at import, before any
test, so a mutant of it breaks every test or none: such a mutant is still run against the tests
selected here).
"""

import os
import sys
import threading

import pytest

_target = os.path.realpath(os.environ["MUTATION_MODULE"])
_current: list[str | None] = [None]
_hits: set[str] = set()
_order: list[str] = []
_is_target: dict[str, bool] = {}


def _tracer(frame, event, arg):
    if event == "call" and _current[0] is not None:
        filename = frame.f_code.co_filename
        hit = _is_target.get(filename)
        if hit is None:
            hit = _is_target[filename] = os.path.realpath(filename) == _target
        if hit:
            _hits.add(_current[0])
    return None  # no line events: only calls are watched


def pytest_configure(config):
    sys.settrace(_tracer)
    threading.settrace(_tracer)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _current[0] = item.nodeid
    _order.append(item.nodeid)
    if sys.gettrace() is not _tracer:  # something (hypothesis, a debugger) replaced it
        sys.settrace(_tracer)
    yield
    _current[0] = None


def pytest_sessionfinish(session, exitstatus):
    sys.settrace(None)
    threading.settrace(None)
    with open(os.environ["MUTATION_TESTS_OUT"], "w") as out:
        for nodeid in _order:
            if nodeid in _hits:
                out.write(nodeid + "\n")
