"""pytest plugin for scripts/mutation.sh: which test executes which line of the mutated module.

Loaded with `-p mutation_cover` (scripts/ on PYTHONPATH) during the baseline run, unmutated. For
each test (setup, call and teardown, in every thread) it records the lines of MUTATION_MODULE (a
path relative to the tree) that ran, and writes to MUTATION_MAP_OUT (JSON):

- "tests": the ids of every test that ran, in their order (the fallback set), and "durations":
  their times in seconds (setup, call and teardown), for the per-mutant timeout;
- "lines": for each line executed inside a function body during a test, the indexes of those tests;
- "runtime": the lines that only hold function-body code (`ast`): a mutant there changes what a
  test sees only if that test executes the line. Any other line (module-level code, class bodies,
  `def` headers with their defaults and decorators) runs at import, before or during any test: a
  mutant of it is run against every test (scripts/mutation_select.py);
- "signatures": each line of a `def` signature (decorators excepted) → the lines of its body: a
  mutant of a default or of `*` is seen by the tests that call the function;
- "source": the module's text, to find the lines a mutant changed;
- "preload": the modules loaded from outside the tree (libraries, standard library), in the order
  they were loaded, for scripts/mutation_server.py.

Only frames of the module are traced line by line (the tracer returns None for the others).
"""

import ast
import json
import os
import sys
import threading

import pytest

_target = os.path.realpath(os.environ["MUTATION_MODULE"])
_current: list[str | None] = [None]
_order: list[str] = []
_durations: dict[str, float] = {}
_lines: dict[int, set[str]] = {}
_is_target: dict[str, bool] = {}


def _record(lineno):
    test = _current[0]
    if test is not None:
        _lines.setdefault(lineno, set()).add(test)


def _local(frame, event, arg):
    if event == "line":
        _record(frame.f_lineno)
    return _local


def _tracer(frame, event, arg):
    if event != "call":
        return None
    filename = frame.f_code.co_filename
    hit = _is_target.get(filename)
    if hit is None:
        hit = _is_target[filename] = os.path.realpath(filename) == _target
    if not hit:
        return None
    _record(frame.f_lineno)
    return _local


def runtime_lines(source: str) -> set[int]:
    """The lines holding only code that runs when a function (or lambda) is called."""
    tree = ast.parse(source)
    body: set[int] = set()
    header: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            header.update(range(first, node.body[0].lineno))
            header.add(node.body[0].lineno if node.body[0].lineno == node.lineno else first)  # `def f(): ...`
            for stmt in node.body:
                body.update(range(stmt.lineno, stmt.end_lineno + 1))
    # A module-level or class-level statement on a line of its own is import-time code.
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef)):
            for stmt in node.body:
                if isinstance(stmt, ast.ClassDef):  # its header here, its body as a class
                    first = min([stmt.lineno] + [d.lineno for d in stmt.decorator_list])
                    header.update(range(first, stmt.body[0].lineno + 1))
                elif not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    header.update(range(stmt.lineno, stmt.end_lineno + 1))
    # Lambdas outside a function body run their body later, but their line also runs at import.
    return body - header


def signature_lines(source: str) -> dict[int, list[int]]:
    """Each line of a `def` signature (not its decorators) → the lines of that function's body.

    A mutant of a signature (a default, `*`, an annotation) changes what a test sees only if the
    test calls the function, so executes its body; or if it breaks the import, which any test sees.
    """
    signatures: dict[int, list[int]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body[0].lineno > node.lineno:
            body = sorted({n for stmt in node.body for n in range(stmt.lineno, stmt.end_lineno + 1)})
            for line in range(node.lineno, node.body[0].lineno):
                signatures[line] = body
    return signatures


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


def pytest_runtest_logreport(report):
    _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session, exitstatus):
    sys.settrace(None)
    threading.settrace(None)
    with open(_target, encoding="utf-8") as module:
        source = module.read()
    root = os.path.realpath(os.getcwd()) + os.sep
    preload = [
        name
        for name, module in list(sys.modules.items())
        if not name.startswith(("pytest_django", "mutation_", "__main__", "tests", "conftest"))
        and not os.path.realpath(getattr(module, "__file__", None) or "/").startswith(root)
    ]
    index = {nodeid: i for i, nodeid in enumerate(_order)}
    with open(os.environ["MUTATION_MAP_OUT"], "w") as out:
        json.dump(
            {
                "tests": _order,
                "durations": [round(_durations.get(t, 0.0), 3) for t in _order],
                "lines": {str(n): sorted(index[t] for t in tests) for n, tests in sorted(_lines.items())},
                "runtime": sorted(runtime_lines(source)),
                "signatures": {str(n): body for n, body in signature_lines(source).items()},
                "source": source,
                "preload": preload,
            },
            out,
        )
