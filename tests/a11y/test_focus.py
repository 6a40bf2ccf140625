"""WCAG 2.4.7 (focus visible) and 2.4.3 (focus order), which axe-core does not test: Tab through
every stop of a page and check each one shows a focus indicator and is on screen."""

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.browser

FOCUS_STATE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const shows = (s) => (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  // DSFR's enlarged links (tiles, header brand) draw the ring on the link's ::before, which covers the card.
  let indicator = shows(getComputedStyle(el)) || shows(getComputedStyle(el, '::before'));
  // DSFR draws the focus ring of radios and checkboxes (visually replaced inputs) on their label.
  for (const l of (el.labels || [])) {
    indicator = indicator || shows(getComputedStyle(l)) || shows(getComputedStyle(l, '::before'));
  }
  const box = (el.type === 'radio' || el.type === 'checkbox') && el.labels && el.labels.length
    ? el.labels[0].getBoundingClientRect() : el.getBoundingClientRect();
  return {key: el.id || el.getAttribute('href') || el.name || el.innerText.slice(0, 40), indicator,
          visible: box.width > 0 && box.height > 0};
}"""


def tab_through(page, max_tabs=80) -> list[dict]:
    stops = []
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_STATE)
        if state is None or (stops and state["key"] == stops[0]["key"]):
            break  # back to the start: every stop was visited
        stops.append(state)
    return stops


def assert_focus_visible(page):
    stops = tab_through(page)
    assert stops, "nothing focusable"
    bad = [s for s in stops if not (s["indicator"] and s["visible"])]
    assert not bad, f"focus not visible on {page.url}: {bad}"
    return stops


@pytest.mark.parametrize("path", ["/", "/accessibilite/", "/police/connexion/", "/listes/connexion/"])
def test_every_tab_stop_shows_its_focus(live_server, page, path):
    page.goto(live_server.url + path)
    stops = assert_focus_visible(page)
    assert stops[0]["key"] == "#content", "the first stop is the skip link to the content"


@pytest.mark.django_db
def test_demande_form_focus_order_and_visibility(live_server, page, client, mandant_user):
    from tests.factories import ScrutinFactory

    ScrutinFactory()
    client.force_login(mandant_user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
    page.goto(live_server.url + reverse("mandant:demande_validite"))
    keys = [s["key"] for s in assert_focus_visible(page)]
    # Focus follows the reading order of the form.
    order = [k for k in keys if k in ("id_portee_0", "id_scrutin", "id_tour1", "id_tour2")]
    assert order == ["id_portee_0", "id_scrutin", "id_tour1", "id_tour2"], keys
