"""cosmic-ray's test command in scripts/mutation.sh: run only the tests that execute the mutant.

    python scripts/mutation_select.py MAP MODULE [pytest arguments...]

MAP is the baseline's JSON (scripts/mutation_cover.py), MODULE the mutated file (relative to the
current directory, the scratch copy). The lines the mutant changed are those where MODULE differs
from the baseline's source. If all of them hold only function-body code, the tests run are the
baseline's tests that executed one of them, in the baseline's order; if one of them runs at
import (module level, class body, a `def` header), every test of the baseline runs. No test
executed the changed lines: nothing can kill the mutant, it survives without running pytest.

MUTATION_FULL=1: every test of the baseline, whatever the mutant (the reference the selection is
compared with in docs/testing.md).
"""

import difflib
import json
import os
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


def select(baseline: dict, mutated_source: str) -> tuple[list[str], str]:
    tests = baseline["tests"]
    changed = changed_lines(baseline["source"].splitlines(), mutated_source.splitlines())
    if os.environ.get("MUTATION_FULL") == "1":
        return tests, f"lines {sorted(changed)}: MUTATION_FULL, all {len(tests)} tests"
    runtime = set(baseline["runtime"])
    if not changed or not changed <= runtime:
        return tests, f"lines {sorted(changed)} run at import: all {len(tests)} tests"
    indexes = sorted({i for n in changed for i in baseline["lines"].get(str(n), [])})
    return [tests[i] for i in indexes], f"lines {sorted(changed)}: {len(indexes)} tests execute them"


def main() -> int:
    map_path, module, *pytest_args = sys.argv[1:]
    with open(map_path, encoding="utf-8") as f:
        baseline = json.load(f)
    with open(module, encoding="utf-8") as f:
        mutated = f.read()
    tests, why = select(baseline, mutated)
    print(f"mutation_select: {why}", flush=True)
    if not tests:
        return 0  # no test reaches the mutant: it survives
    with open(map_path + ".current", "w", encoding="utf-8") as f:
        f.write("\n".join(tests) + "\n")
    args = [*pytest_args, f"@{map_path}.current"]
    if os.environ.get("MUTATION_SERVER"):
        from mutation_server import run

        status = run(os.environ["MUTATION_SERVER"], args)
        if status is not None:
            return status
        print("mutation_select: fork server unreachable, pytest started here", flush=True)
    # exec, not a child: cosmic-ray's timeout then stops pytest itself.
    os.execv(sys.executable, [sys.executable, "-m", "pytest", *args])


if __name__ == "__main__":
    sys.exit(main())
