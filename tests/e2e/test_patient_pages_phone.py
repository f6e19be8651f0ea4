"""Every page a patient sees, on a 390-px phone in headless Chromium: axe-core finds no
serious or critical accessibility violation; every answer target is at least 44 px tall;
a 0-10 scale stays on one row with "10 = ..." at its right end. The survey pages cover
each kind of answer (scale, choice, number box, text, yes/no); then the thank-you page
and a link that has expired."""

from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from followup.dispatch import dispatch_due
from followup.models import Contact
from followup.schedule import add_months
from followup.tokens import token_for

from ..factories import enrol
from .conftest import submit_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
PHONE = {"width": 390, "height": 844}

VIOLATIONS = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(" ")).slice(0, 3)}`);
}"""

# What a finger hits for each answer: a radio's or checkbox's label (the whole row), a
# scale button, a number or text box, and the page's buttons.
SMALL_TARGETS = """() => {
  const targets = [];
  for (const input of document.querySelectorAll("form input, form textarea, form select")) {
    if (input.type === "hidden") continue;
    const label = input.id && document.querySelector(`label[for="${input.id}"]`);
    const target = ["radio", "checkbox"].includes(input.type) ? label : input;
    if (target) targets.push(target);
  }
  targets.push(...document.querySelectorAll("form button, main a.btn"));
  return targets
    .map(t => [t.id || t.htmlFor || t.name || t.textContent.trim(), t.getBoundingClientRect()])
    .filter(([, r]) => r.height < 44)
    .map(([name, r]) => `${name}: ${Math.round(r.height)} px`);
}"""

SCALE_ROWS = """() => [...document.querySelectorAll(".scale-item")].map(item => {
  const tops = [...item.querySelectorAll(".scale-btn")].map(b => b.getBoundingClientRect().top);
  const last = [...item.querySelectorAll(".scale-btn")].pop().getBoundingClientRect();
  const anchor = item.querySelector(".scale-anchors span:last-child");
  return {
    rows: new Set(tops.map(Math.round)).size,
    points: tops.length,
    lastRight: last.right,
    anchorRight: anchor ? anchor.getBoundingClientRect().right : null,
    overflow: item.scrollWidth - item.clientWidth,
  };
})"""


def check_page(page, what: str) -> list[str]:
    page.evaluate(AXE)
    assert page.evaluate("typeof axe.run") == "function"
    problems = [f"{what}: axe {v}" for v in page.evaluate(VIOLATIONS)]
    problems += [f"{what}: target {t}" for t in page.evaluate(SMALL_TARGETS)]
    for scale in page.evaluate(SCALE_ROWS):
        if scale["rows"] != 1:
            problems.append(f"{what}: a {scale['points']}-point scale on {scale['rows']} rows")
        if scale["overflow"] > 0:
            problems.append(f"{what}: a scale wider than the screen")
        if scale["anchorRight"] is not None and scale["anchorRight"] < scale["lastRight"] - 50:
            problems.append(f"{what}: the right anchor is not under the scale's last point")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], what
    return problems


@pytest.mark.parametrize("language", ["sv", "da"])
def test_every_patient_page_on_a_phone(
    browser, live_server, clinic_west, physio_west, settings, language
):
    settings.FOLLOWUP_BASE_URL = live_server.url
    participant = enrol(
        clinic_west, enrolled_on=add_months(date.today(), -3), preferred_language=language
    )
    contact = participant.contacts.get(timepoint__code="3m")
    dispatch_due(contact.due_at, 10)
    token = token_for(contact)
    context = browser.new_context(viewport=PHONE, bypass_csp=True)  # axe is injected
    page = context.new_page()
    problems = []
    kinds = set()
    for n, code in enumerate(contact.timepoint.instruments, start=1):
        page.goto(live_server.url + reverse("survey_page", args=[token, n]))
        page.wait_for_selector("button[value=next]")
        kinds.update(
            page.evaluate(
                "() => [...document.querySelectorAll('form input, form textarea')].map(i => i.type)"
            )
        )
        problems += check_page(page, f"page {n} ({code})")
    # The baseline's STarT Back has the yes/no items the 3-month visit lacks.
    yes_no = enrol(clinic_west, preferred_language=language)
    page.goto(
        f"{live_server.url}/accounts/login/?next="
        + reverse("visit_page", args=[yes_no.study_id, "baseline", 5])
    )
    page.fill("#id_username", "physio_west")
    page.fill("#id_password", "correct horse battery staple")
    submit_login(page, "physio_west")
    page.wait_for_selector("button[value=next]")
    kinds.update(
        page.evaluate("() => [...document.querySelectorAll('form input')].map(i => i.type)")
    )
    problems += check_page(page, "staff visit page 5 (sbst)")
    assert {"radio", "number", "textarea"} <= kinds

    page.goto(live_server.url + reverse("survey_done", args=[token]))
    page.wait_for_selector("h1")
    problems += check_page(page, "thank-you page")
    Contact.objects.filter(pk=contact.pk).update(status=Contact.MISSED)
    page.goto(live_server.url + reverse("survey_start", args=[token]))
    page.wait_for_selector("h1")
    assert page.get_attribute("html", "lang") == language
    problems += check_page(page, "expired link page")
    context.close()
    assert not problems, "\n".join(problems)
