"""The account forms (sign-up, log-in, password reset) are valid HTML a screen reader can
follow: each input has its label, its help text and errors are linked to it by
aria-describedby and are elements allowed to hold a list (the password rules are one), and
what is wrong with a password is said on the password field, not on its confirmation."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from profiles.services import creator_signup

SIGNUP = "/accounts/signup/"

# What HTML lets a <p>, a <label> or a <span> hold is phrasing content only: these elements
# in them are invalid, and a browser "repairs" a <ul> in a <p> by closing the paragraph, so
# whatever pointed at the paragraph's parts describes nothing.
FLOW_ONLY = {
    "address", "article", "aside", "blockquote", "details", "dialog", "div", "dl",
    "fieldset", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "main", "nav", "ol", "p", "pre", "section", "table", "ul",
}  # fmt: skip
PHRASING_ONLY = {"p", "label", "span", "a", "button", "em", "strong", "small", "h1", "h2"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class Page(HTMLParser):
    """The page as a strict parser sees it: where a flow element sits in an element that may
    hold phrasing content only, every element by id with its text, inputs and labels."""

    def __init__(self, html: str):
        super().__init__()
        self.stack: list[str] = []
        self.misnested: list[str] = []
        self.by_id: dict[str, dict] = {}
        self.inputs: list[dict] = []
        self.labels_for: set[str] = set()
        self.open_ids: list[tuple[int, str]] = []  # (depth, id) of elements still open
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for outer in self.stack:
            if outer in PHRASING_ONLY and tag in FLOW_ONLY:
                self.misnested.append(f"<{tag}> inside <{outer}> ({' > '.join(self.stack)})")
                break
        if tag in ("input", "textarea", "select") and attrs.get("type") not in (
            "hidden",
            "submit",
        ):
            self.inputs.append(attrs)
        if tag == "label" and attrs.get("for"):
            self.labels_for.add(attrs["for"])
        if "id" in attrs:
            self.by_id[attrs["id"]] = {"tag": tag, "text": "", "html": "", **attrs}
        if tag in VOID:
            return
        if "id" in attrs:
            self.open_ids.append((len(self.stack), attrs["id"]))
        self.stack.append(tag)
        for _, element_id in self.open_ids:
            self.by_id[element_id]["html"] += f"<{tag}>"

    def handle_endtag(self, tag):
        if tag in VOID or tag not in self.stack:
            return
        while self.stack:
            closed = self.stack.pop()
            self.open_ids = [(d, i) for d, i in self.open_ids if d < len(self.stack)]
            if closed == tag:
                break

    def handle_data(self, data):
        for _, element_id in self.open_ids:
            self.by_id[element_id]["text"] += data

    def description_of(self, input_id: str) -> list[dict]:
        element = self.by_id[input_id]
        return [self.by_id[ref] for ref in element.get("aria-describedby", "").split()]


def assert_well_formed(page: Page) -> None:
    assert page.misnested == []
    for field in page.inputs:
        assert field["id"] in page.labels_for, f"no <label for> for {field['id']}"
        for ref in field.get("aria-describedby", "").split():
            assert ref in page.by_id, f"{field['id']} is described by a missing #{ref}"
            assert page.by_id[ref]["text"].strip(), f"#{ref} describing {field['id']} is empty"


def sign_up_with(client: Client, **values) -> Page:
    form = {"username": "newcomer", "email": "new@example.com"} | values
    response = client.post(SIGNUP, form, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 200  # the form again, with its errors
    return Page(response.content.decode())


def test_the_password_rules_are_the_password_fields_description_and_hold_their_list(db):
    page = Page(Client().get(SIGNUP).content.decode())

    assert_well_formed(page)
    (rules,) = page.description_of("id_password1")
    assert rules["tag"] == "div"
    assert "<ul><li>" in rules["html"]
    assert "At least 8 characters." in rules["text"]  # the rules in a creator's words
    (email_help,) = page.description_of("id_email")
    assert "We send a link to confirm it" in email_help["text"]
    assert "aria-invalid" not in page.by_id["id_password1"]


def test_a_too_common_password_is_refused_on_the_password_field(db):
    page = sign_up_with(Client(), password1="password", password2="password")

    assert_well_formed(page)
    password = page.by_id["id_password1"]
    assert password["aria-invalid"] == "true"
    descriptions = [d["text"] for d in page.description_of("id_password1")]
    assert any("This password is too common." in text for text in descriptions)
    assert any("At least 8 characters" in text for text in descriptions)  # the rules too
    confirmation = page.by_id["id_password2"]
    assert "aria-invalid" not in confirmation
    assert "too common" not in "".join(d["text"] for d in page.description_of("id_password2"))


def test_a_mismatch_is_said_on_the_confirmation_and_every_error_on_its_own_field(db):
    creator_signup(username="taken", password="a-long-password-123")
    page = sign_up_with(
        Client(),
        username="taken",
        email="not-an-address",
        password1="a-long-password-123",
        password2="a-long-password-124",
    )

    assert_well_formed(page)
    expected = {
        "id_username": "A user with that username already exists.",
        "id_email": "Enter a valid email address.",
        "id_password2": "The two password fields didn’t match.",
    }
    for input_id, message in expected.items():
        assert page.by_id[input_id]["aria-invalid"] == "true"
        error = page.by_id[f"{input_id}_error"]
        assert error["tag"] == "ul"
        assert message in error["text"]
        assert error in page.description_of(input_id)
    assert "aria-invalid" not in page.by_id["id_password1"]


def test_a_new_password_from_a_reset_link_is_refused_on_its_own_field(db):
    creator = creator_signup(username="forgetful", password="a-long-password-123")
    client = Client()
    uid = urlsafe_base64_encode(force_bytes(creator.pk))
    form_url = client.get(
        f"/accounts/reset/{uid}/{default_token_generator.make_token(creator)}/"
    ).url
    response = client.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})

    page = Page(response.content.decode())
    assert_well_formed(page)
    assert page.by_id["id_new_password1"]["aria-invalid"] == "true"
    assert "entirely numeric" in page.by_id["id_new_password1_error"]["text"]
    assert "aria-invalid" not in page.by_id["id_new_password2"]
    (rules, error) = page.description_of("id_new_password1")
    assert "<ul><li>" in rules["html"]


@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/password_reset/"])
def test_the_other_account_forms_are_well_formed(db, url):
    page = Page(Client().get(url).content.decode())

    assert_well_formed(page)
    assert page.inputs


def test_a_failed_log_in_is_an_alert_above_the_form(db):
    creator_signup(username="maya", password="a-long-password-123")
    response = Client().post(
        "/accounts/login/", {"username": "maya", "password": "wrong"}, REMOTE_ADDR="10.8.8.8"
    )

    page = Page(response.content.decode())
    assert_well_formed(page)
    assert '<p class="form-error" role="alert">That username or e-mail and password do' in (
        response.content.decode()
    )
