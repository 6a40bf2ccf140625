"""cosmic-ray's test command in scripts/mutation.sh: run only the tests that execute the mutant.

    python scripts/mutation_select.py MAP MODULE [pytest arguments...]

MAP is the baseline's JSON (scripts/mutation_cover.py), MODULE the mutated file (relative to the
current directory, the scratch copy). The lines the mutant changed are those where MODULE differs
from the baseline's source. If all of them hold only function-body code, the tests run are the
baseline's tests that executed one of them, in the baseline's order; if one of them runs at
import (module level, class body, decorators), every test of the baseline runs; a line of a `def`
signature (a default, `*`, an annotation) runs the tests that executed that function's body, and
the baseline's first test (a signature that breaks the import fails it). A call the unmutated
signature refuses (a positional argument to a keyword-only parameter) never enters the body: a test
of such a refusal is selected only if it also makes a call that does. No test
executed the changed lines: nothing can kill the mutant, it survives without running pytest.

A mutant whose tests take longer than 60 s plus ten times what they took in the baseline is
stopped (an endless loop, a query gone quadratic) and counts as killed, as cosmic-ray's own timeout.

MUTATION_FULL=1: every test of the baseline, whatever the mutant (the reference the selection is
compared with in docs/testing.md).
"""

import difflib
import json
import os
import signal
import sys


def changed_lines(original: list[str], mutated: list[str]) -> set[int]:
    """The original's line numbers (from 1) that the mutant replaced or deleted, or next to an insertion."""
    lines: set[int] = set()
    matcher = difflib.SequenceMatcher(a=original, b=mutated, autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i1 == i2:  # pure insertion: count the lines around it
            lines.update({max(i1, 1), i1 + 1})
        else:
            lines.update(range(i1 + 1, i2 + 1))
    return lines


def select(baseline: dict, mutated_source: str) -> tuple[list[int], str]:
    tests = list(range(len(baseline["tests"])))
    changed = changed_lines(baseline["source"].splitlines(), mutated_source.splitlines())
    if os.environ.get("MUTATION_FULL") == "1":
        return tests, f"lines {sorted(changed)}: MUTATION_FULL, all {len(tests)} tests"
    runtime = set(baseline["runtime"])
    signatures = {int(n): body for n, body in baseline.get("signatures", {}).items()}
    if not changed or not changed <= runtime | set(signatures):
        return tests, f"lines {sorted(changed)} run at import: all {len(tests)} tests"
    reached = set()
    for n in changed:
        # a signature's line: the tests that run its function's body (or a nested def's line)
        for line in [n, *signatures.get(n, [])]:
            reached.update(baseline["lines"].get(str(line), []))
    if changed & set(signatures) and tests:
        reached.add(0)  # a signature that no longer imports fails the first test
    indexes = sorted(reached)
    return indexes, f"lines {sorted(changed)}: {len(indexes)} tests execute them"


def main() -> int:
    map_path, module, *pytest_args = sys.argv[1:]
    with open(map_path, encoding="utf-8") as f:
        baseline = json.load(f)
    with open(module, encoding="utf-8") as f:
        mutated = f.read()
    indexes, why = select(baseline, mutated)
    if not indexes:
        print(f"mutation_select: {why}", flush=True)
        return 0  # no test reaches the mutant: it survives
    timeout = int(60 + 10 * sum(baseline["durations"][i] for i in indexes))
    print(f"mutation_select: {why}, stopped after {timeout} s", flush=True)
    with open(map_path + ".current", "w", encoding="utf-8") as f:
        f.write("\n".join(baseline["tests"][i] for i in indexes) + "\n")
    args = [*pytest_args, f"@{map_path}.current"]
    if os.environ.get("MUTATION_SERVER"):
        from mutation_server import run

        status = run(os.environ["MUTATION_SERVER"], args, timeout)
        if status is not None:
            return status
        print("mutation_select: fork server unreachable, pytest started here", flush=True)
    # exec, not a child: cosmic-ray's timeout then stops pytest itself; the alarm survives exec.
    signal.alarm(timeout)
    os.execv(sys.executable, [sys.executable, "-m", "pytest", *args])


if __name__ == "__main__":
    sys.exit(main())
