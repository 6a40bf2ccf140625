"""Keyboard-only driving: Tab / Shift+Tab to move, Enter / Space to activate, typing to fill.
No mouse, no .click(), no .fill(): if a control cannot be reached or operated this way, the test
fails, and the template is what needs fixing."""

from collections.abc import Callable

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const label = el.labels && el.labels.length ? el.labels[0].innerText : '';
  return {tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name') || '', type: el.type || '',
          text: (el.innerText || el.value || '').trim(), label: label.trim(),
          aria: el.getAttribute('aria-label') || '', href: el.getAttribute('href') || ''};
}"""


def focused(page) -> dict | None:
    return page.evaluate(FOCUSED)


def _matches(page, target) -> bool:
    if isinstance(target, str):
        return page.evaluate("(sel) => !!document.activeElement && document.activeElement.matches(sel)", target)
    info = focused(page)
    return info is not None and bool(target(info))


def tab_to(page, target: str | Callable[[dict], bool], max_tabs: int = 60, backwards: bool = False) -> dict:
    """Press Tab (Shift+Tab if backwards) until the focused element matches a CSS selector or a
    predicate on `focused()`'s description; fail after `max_tabs` presses."""
    if _matches(page, target):
        return focused(page)
    seen = []
    for _ in range(max_tabs):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if _matches(page, target):
            return focused(page)
        info = focused(page) or {}
        seen.append(info.get("id") or info.get("text", "")[:30] or info.get("tag", "?"))
    raise AssertionError(f"{target!r} not reached with {max_tabs} Tab presses on {page.url}; focus went through: {seen}")


def text_is(text: str) -> Callable[[dict], bool]:
    """A predicate: the focused control's visible text (or accessible name) contains `text`."""
    return lambda el: text in el["text"] or text in el["aria"]


def activate(page, target, key: str = "Enter", **kwargs) -> dict:
    info = tab_to(page, target, **kwargs)
    page.keyboard.press(key)
    return info


def type_into(page, target, text: str, **kwargs) -> dict:
    info = tab_to(page, target, **kwargs)
    page.keyboard.type(text)
    return info


def choose(page, select: str, option_text: str, **kwargs) -> None:
    """Pick an option of a closed <select> with the arrow keys, as a keyboard user does."""
    tab_to(page, select, **kwargs)
    count = page.evaluate("(sel) => document.querySelector(sel).options.length", select)
    page.keyboard.press("Home")
    for _ in range(count):
        current = page.evaluate("(sel) => { const s = document.querySelector(sel); return s.options[s.selectedIndex].text; }",
                                select)
        if option_text in current:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"option {option_text!r} not reachable with the arrow keys in {select}")


def pick_file(page, target, path: str, attempts: int = 3, **kwargs) -> None:
    """Space on a file input opens the system's file chooser; Playwright answers it with `path`.
    Now and then (seen on loaded runs, after a page re-rendered with errors) Chromium drops the
    chooser of that key press: the user would press Space again, and so does this, after leaving
    the field and coming back to it with the keyboard."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    tab_to(page, target, **kwargs)
    for attempt in range(1, attempts + 1):
        try:
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press("Space")
            break
        except PlaywrightTimeoutError:
            if attempt == attempts:
                raise
            page.keyboard.press("Shift+Tab")
            tab_to(page, target, **kwargs)
    chooser.value.set_files(path)


def type_date(page, target: str, date) -> None:
    """Type a date into Chromium's <input type=date>: digits fill the segments (day, month, year in a
    French browser; month, day, year in headless Chromium's default locale). Type the French order,
    and if the field reads it otherwise, go back to its first segment (Shift+Tab) and type again."""
    tab_to(page, target)
    page.keyboard.type(date.strftime("%d%m%Y"))
    if page.evaluate("(sel) => document.querySelector(sel).value", target) == date.isoformat():
        return
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.type(date.strftime("%m%d%Y"))
    assert page.evaluate("(sel) => document.querySelector(sel).value", target) == date.isoformat()
