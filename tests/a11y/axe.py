"""axe-core in Chromium: `assert_no_axe_violations(page)` fails with a readable list of violations.

axe.min.js is the pinned npm tarball fetched and integrity-checked by scripts/axe.sh (AXE_JS).
The app's CSP only runs nonce'd scripts, so `page.add_script_tag` (an inline script) is refused;
the helper then evaluates the same file through the DevTools protocol, which the page's CSP does
not govern. The pages under test thus keep their real CSP (no bypass_csp)."""

import os

import pytest

# WCAG 2.1 A and AA, plus axe's best practices (landmarks, heading order, one h1, regions…).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

AXE_VERSION_EXPECTED = "4.11.0"  # scripts/axe.sh


def axe_source() -> str:
    path = os.environ.get("AXE_JS")
    if not path or not os.path.exists(path):
        pytest.fail("AXE_JS is not set: run through scripts/test.sh (it fetches axe-core)")
    with open(path, encoding="utf-8") as f:
        return f.read()


def inject_axe(page) -> None:
    if page.evaluate("typeof window.axe") == "object":
        return
    try:
        page.add_script_tag(path=os.environ.get("AXE_JS", ""))
    except Exception as exc:  # noqa: BLE001 - Playwright raises a generic Error on CSP refusal
        if "Content Security Policy" not in str(exc):
            raise
        page.evaluate(axe_source() + "\n;undefined")
    assert page.evaluate("typeof window.axe") == "object", "axe-core did not load"


def axe_violations(page, tags=TAGS) -> list[dict]:
    inject_axe(page)
    return page.evaluate(
        """async (tags) => {
          const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
          return r.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
          }));
        }""",
        tags,
    )


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for n in v["nodes"][:10]:
            summary = " ".join((n["summary"] or "").split())[:300]
            lines.append(f"    {n['target']}: {summary}")
    return "\n".join(lines)


def assert_no_axe_violations(page, label: str = "") -> None:
    page.wait_for_load_state("load")
    violations = axe_violations(page)
    if violations:
        pytest.fail(f"axe-core: {len(violations)} violation(s) on {label or page.url}\n{format_violations(violations)}",
                    pytrace=False)
