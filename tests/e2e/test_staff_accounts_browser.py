"""Staff accounts end to end, under gunicorn with production settings (DEBUG off) and a
real SMTP server, in headless Chromium: a coordinator invites a physiotherapist, who
sets a password from the emailed link, sets up TOTP and logs in with a code; ten wrong
passwords lock the account; an administrator unlocks it. Every staff page the browser
saw carried no-store and a script policy without inline scripts, and broke none of it."""

import base64
import email
import re
import time
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django_otp.oath import totp

from enrolment.models import TrialRole

from ..factories import AuthenticatorFactory, TrialRoleFactory, UserFactory
from .conftest import require_chromium
from .stack import Installation, base_env, free_port, start_site

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "Lumbar-Spine-Chart-91"
# Known authenticator keys (hex, as django-otp stores them) of the coordinator and admin.
KEYS = {"coordinator": "3132333435363738393031323334353637383930", "root": "31" * 20}

class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos[0], msg.get_body(("plain",)).get_content()))
        return "250 OK"


def code(hex_key: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows now, or ``steps_ahead`` 30-second steps later
    (the site accepts one step of clock drift, and each code only once)."""
    return f"{totp(bytes.fromhex(hex_key), drift=steps_ahead):06d}"


def unhurried_code(hex_key: str, seconds_left: int = 8) -> str:
    """The code now, once at least ``seconds_left`` of its 30-second step remain. A code
    that reaches the site in the next step is accepted one step late, and django-otp then
    remembers a drift of -1 for the device, so the code after it would be refused."""
    into_step = time.time() % 30
    if into_step > 30 - seconds_left:
        time.sleep(30 - into_step + 0.1)
    return code(hex_key)


def database_for_gunicorn(tmp_path) -> str:
    """The test database, for the gunicorn processes: on PostgreSQL the test database
    itself (the test's rows are committed); SQLite's in-memory test database is copied
    to a file. Cheaper than migrating a database of its own."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        path = tmp_path / "site.sqlite3"
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(path)])
        return f"sqlite:///{path}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def site(betterback, transactional_db, tmp_path):
    """gunicorn with production settings (DEBUG off, secure cookies, HSTS) and an SMTP
    server, on a trial with a coordinator and an administrator who have authenticators."""
    require_chromium()
    coordinator = TrialRoleFactory(
        user=UserFactory(username="coordinator", email="c@example.org"),
        trial=betterback, role=TrialRole.COORDINATOR,
    ).user
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    for user in (coordinator, root):
        AuthenticatorFactory(user=user, key=KEYS[user.username])
    box = Mailbox()
    smtp_port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    env = base_env(
        tmp_path,
        DEBUG="0",
        SECRET_KEY="e2e-" + "k" * 60,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=smtp_port,
        DATABASE_URL=database_for_gunicorn(tmp_path),
    )
    installation = Installation("gunicorn", tmp_path, env, env["DATABASE_URL"])
    installation.django('from django.core.management import call_command\n'
                        'call_command("collectstatic", "--noinput", verbosity=0)\nprint("{}")')
    port = free_port()
    try:
        start_site(installation, port)
        installation.url = f"http://127.0.0.1:{port}"
        installation.mailbox = box
        yield installation
    finally:
        installation.stop_all()
        controller.stop()


class Pages:
    """Every staff page response the browser loads, and every CSP violation."""

    def __init__(self, context):
        self.responses, self.violations = [], []
        context.on("response", self._response)
        context.on("console", lambda m: "Content Security Policy" in m.text
                   and self.violations.append(m.text))  # fmt: skip

    def _response(self, response):
        if response.request.resource_type == "document":
            self.responses.append(response)


def log_in(page, url, username, password, second=None):
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    if second is not None:
        page.fill("#id_code", second)
        page.click("#code-form button[type=submit]")
        page.wait_for_load_state()


def test_invite_set_password_totp_lockout_unlock(site, browser):
    url = site.url
    seen = []

    # The administrator is logged in on their own computer from the start.
    admin_context = browser.new_context()
    seen.append(Pages(admin_context))
    admin = admin_context.new_page()
    log_in(admin, url, "root", PASSWORD, code(KEYS["root"]))
    assert "/accounts/" not in admin.url

    # The coordinator invites a physiotherapist at Motala.
    coordinator_context = browser.new_context()
    seen.append(Pages(coordinator_context))
    page = coordinator_context.new_page()
    log_in(page, url, "coordinator", PASSWORD, code(KEYS["coordinator"]))
    page.click("text=BB staff")
    page.click("text=Invite")
    page.fill("#id_email", "anna@example.org")
    page.fill("#id_username", "anna")
    page.fill("#id_first_name", "Anna")
    page.select_option("#id_role", "physiotherapist")
    page.select_option("#id_clinic", label="Motala rehab clinic")
    page.fill("#id_study_code", "BB-W-MOT-PT99")
    page.click("#invite-form button[type=submit]")
    page.wait_for_selector("#staff-table >> text=anna")
    ((to, body),) = site.mailbox.messages
    assert to == "anna@example.org"
    link = re.search(r"https?://\S+/accounts/password/\S+", body).group(0)

    # Anna sets her password from the link, logs in and sets up her authenticator.
    physio_context = browser.new_context()
    seen.append(Pages(physio_context))
    anna = physio_context.new_page()
    anna.goto(link.replace("https://", "http://"))
    anna.fill("#id_new_password1", NEW_PASSWORD)
    anna.fill("#id_new_password2", NEW_PASSWORD)
    anna.click("#set-password-form button[type=submit]")
    anna.wait_for_selector("#id_username")
    log_in(anna, url, "anna", NEW_PASSWORD)
    assert "/accounts/two-factor/set-up/" in anna.url
    secret = anna.inner_text("#totp-secret").replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8)).hex()
    anna.fill("#id_code", unhurried_code(key))
    anna.click("#setup-form button[type=submit]")
    recovery = anna.inner_text("#recovery-codes").split()
    assert len(recovery) == 10
    anna.click("text=Continue")
    anna.goto(f"{url}/trials/betterback/participants/")
    assert anna.locator("h1").count()

    # A new login asks for the code (the next one: each code works once).
    anna.click("nav form[action*=logout] button")  # log out
    log_in(anna, url, "anna", NEW_PASSWORD, code(key, steps_ahead=1))
    response = anna.goto(f"{url}/trials/betterback/participants/")
    assert response.status == 200 and "/accounts/" not in anna.url

    # Ten wrong passwords lock the account; the right one is then refused.
    anna.click("nav form[action*=logout] button")
    for _ in range(10):
        log_in(anna, url, "anna", "wrong password")
    log_in(anna, url, "anna", NEW_PASSWORD)
    assert anna.locator("#locked-out").count() == 1

    # The administrator unlocks the account and the address.
    admin.goto(f"{url}/accounts/lockouts/")
    admin.click("#locked-accounts >> text=Unlock")
    admin.wait_for_load_state()
    while admin.locator("#locked-addresses button").count():
        admin.click("#locked-addresses >> text=Unlock")
        admin.wait_for_load_state()
    log_in(anna, url, "anna", NEW_PASSWORD, recovery[0])
    response = anna.goto(f"{url}/trials/betterback/participants/")
    assert response.status == 200 and "/accounts/" not in anna.url

    # The access log has it all, and exports it.
    csv = admin.request.get(f"{url}/accounts/access-log.csv?username=anna").text()
    kinds = [line.split(",")[1] for line in csv.splitlines()[1:]]
    assert kinds.count("login_failed") >= 10
    for kind in ("password_set", "two_factor_enrolled", "login", "code_given", "locked_out",
                 "unlocked"):
        assert kind in kinds, kind
    # On a tablet the log's seven columns scroll in their own box (the page was 988 px
    # wide at 820 px in the demo).
    admin.set_viewport_size({"width": 820, "height": 1180})
    admin.goto(f"{url}/accounts/access-log/")
    assert "anna" in admin.inner_text("#access-log")
    assert admin.evaluate("document.documentElement.scrollWidth") <= 820

    # Every page a logged-in browser saw: no-store, scripts only from the site itself.
    staff_pages = [r for p in seen for r in p.responses if "/accounts/login" not in r.url]
    assert len(staff_pages) > 10
    for response in staff_pages:
        headers = response.all_headers()
        policy_header = headers.get("content-security-policy", "")
        assert "script-src 'self';" in policy_header + ";", response.url
        if response.status == 200 and "/accounts/password/" not in response.url:
            assert "no-store" in headers.get("cache-control", ""), response.url
    assert not [v for p in seen for v in p.violations]
