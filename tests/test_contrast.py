"""Colour contrast of our stylesheets, computed as WCAG 2.1 defines it: a colour change that
breaks AA (4.5:1 for text, 3:1 for focus rings and field borders) fails here, before any
browser test or person notices.

Two checks: every rule of phoenix.css (and the staff pages' style) that sets both a text
colour and a solid background; and the pairs where the text's colour and the surface under
it come from different rules (muted text on the page, a link on a panel, ...).
"""

import re
from pathlib import Path

import django
import pytest

ROOT = Path(__file__).resolve().parent.parent
PHOENIX_CSS = ROOT / "static" / "css" / "phoenix.css"
OPS_STYLE = ROOT / "templates" / "ops" / "_style.html"
ADMIN_CSS = Path(django.__file__).parent / "contrib" / "admin" / "static" / "admin" / "css"

TEXT = 4.5
NON_TEXT = 3.0  # WCAG 1.4.11: focus indicators, the border that marks a field invalid


def relative_luminance(colour: str) -> float:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    lighter, darker = sorted([relative_luminance(one), relative_luminance(other)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def rules(css: str) -> list[tuple[str, dict[str, str]]]:
    """(selector, declarations) of every innermost block, @media ones included."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = {}
        for declaration in body.split(";"):
            name, _, value = declaration.partition(":")
            if value:
                declarations[name.strip()] = value.strip()
        found.append((" ".join(selector.split()), declarations))
    return found


def custom_properties(css: str) -> dict[str, str]:
    (root,) = [d for selector, d in rules(css) if selector == ":root"]
    return {name: value for name, value in root.items() if name.startswith("--")}


PHOENIX = rules(PHOENIX_CSS.read_text())
VARIABLES = custom_properties(PHOENIX_CSS.read_text())


def admin_variables(theme: str) -> dict[str, str]:
    """The Django admin's colour variables, which the staff pages' style builds on."""
    variables = {}
    for selector, declarations in rules((ADMIN_CSS / "base.css").read_text()):
        if selector == 'html[data-theme="light"], :root':
            variables.update(declarations)
    if theme == "dark":
        for selector, declarations in rules((ADMIN_CSS / "dark_mode.css").read_text()):
            if selector == 'html[data-theme="dark"]':
                variables.update(declarations)
    assert "--secondary" in variables
    return variables


def solid(value: str, variables: dict[str, str]) -> str | None:
    """The colour a value paints, when it is one solid colour (not a gradient, not
    translucent, not transparent); else None."""
    value = value.strip().removesuffix("!important").strip()
    while match := re.fullmatch(r"var\((--[\w-]+)\)", value):
        if match[1] not in variables:
            return None
        value = variables[match[1]]
    return value if re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", value) else None


def colour(name: str) -> str:
    return solid(f"var({name})", VARIABLES)


def test_the_contrast_formula_gives_the_known_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1)
    # The two failures axe-core reported before the change, to two decimals.
    assert round(contrast("#ffffff", "#ea580c"), 2) == 3.56
    assert round(contrast("#78716c", "#f1eeea"), 2) == 4.15


@pytest.mark.parametrize(
    ("source", "rule_set", "variables", "at_least"),
    [
        ("phoenix.css", PHOENIX, VARIABLES, 20),
        # The staff pages' style is drawn with the admin's variables, light and dark.
        # (Only the current window's chip sets both; the badges' white is checked below.)
        ("ops/_style.html", rules(OPS_STYLE.read_text()), admin_variables("light"), 1),
        ("ops/_style.html", rules(OPS_STYLE.read_text()), admin_variables("dark"), 1),
    ],
    ids=["phoenix", "staff-light", "staff-dark"],
)
def test_every_rule_with_a_text_colour_and_a_background_meets_aa(
    source, rule_set, variables, at_least
):
    checked, failures = 0, []
    for selector, declarations in rule_set:
        text = declarations.get("color")
        background = declarations.get("background-color") or declarations.get("background")
        if not (text and background):
            continue
        text, background = solid(text, variables), solid(background, variables)
        if text is None or background is None:
            continue
        checked += 1
        ratio = contrast(text, background)
        if ratio < TEXT:
            failures.append(f"{selector}: {text} on {background} is {ratio:.2f}:1")
    assert checked >= at_least, f"{source}: {checked} rules checked; has the parser gone blind?"
    assert failures == []


def test_the_staff_badges_meet_aa_with_their_white_text():
    badges = {
        selector: solid(d["background"], {})
        for selector, d in rules(OPS_STYLE.read_text())
        if selector.startswith(".ops-badge--")
    }
    assert len(badges) == 3
    for selector, background in badges.items():
        assert contrast("#ffffff", background) >= TEXT, selector


# Text set by one rule on a surface set by another (the page, a panel, a card, a notice).
SURFACES = [
    "--bg",
    "--surface",
    "--surface-2",
    "--accent-soft",
    "--danger-soft",
    "--success-soft",
    "--info-soft",
    "--warning-soft",
]
TEXT_ON_SURFACES = [
    # Subtitles, tabs, counters, timestamps, hints, placeholders, quiet buttons.
    ("--muted", SURFACES),
    # Links and orange text (the balance, a published badge, a counter near its limit).
    ("--accent-strong", SURFACES),
    # A link under the pointer.
    ("--accent", ["--bg", "--surface", "--surface-2", "--accent-soft"]),
    ("--ink-2", SURFACES),
    ("--success", ["--surface", "--success-soft"]),
    ("--info", ["--surface", "--info-soft"]),
    ("--danger-strong", ["--surface", "--danger-soft"]),
    ("--warning-ink", ["--surface", "--warning-soft"]),
]


@pytest.mark.parametrize(
    ("text", "surface"),
    [(text, surface) for text, surfaces in TEXT_ON_SURFACES for surface in surfaces],
)
def test_text_meets_aa_on_every_surface_it_sits_on(text, surface):
    ratio = contrast(colour(text), colour(surface))
    assert ratio >= TEXT, f"{text} {colour(text)} on {surface} {colour(surface)}: {ratio:.2f}"


@pytest.mark.parametrize(
    "background",
    # Primary buttons (and their hover), the bell's count, a failed card's badge, a danger
    # button, the error toast, the trash badge.
    ["--accent", "--accent-strong", "--danger", "--danger-strong", "--ink-2", "--ink"],
)
def test_white_text_meets_aa_on_filled_backgrounds(background):
    assert contrast("#ffffff", colour(background)) >= TEXT


def test_the_toasts_links_and_actions_meet_aa_on_the_dark_toast():
    (toast_link,) = [d for s, d in PHOENIX if s == ".toast a"]
    assert contrast(solid(toast_link["color"], VARIABLES), colour("--ink")) >= TEXT


@pytest.mark.parametrize("surface", ["--bg", "--surface", "--surface-2", "--accent-soft"])
def test_the_focus_ring_and_invalid_borders_stand_out_3_to_1(surface):
    ring = VARIABLES["--ring"]
    # A solid ring (no translucency: its colour would depend on what is under it).
    assert "rgba" not in ring
    ring_colour = solid(re.findall(r"var\(--[\w-]+\)|#[0-9a-fA-F]{3,6}", ring)[-1], VARIABLES)
    assert contrast(ring_colour, colour(surface)) >= NON_TEXT
    assert contrast(colour("--danger"), colour(surface)) >= NON_TEXT


def test_the_placeholder_is_muted_text_not_the_browsers_lighter_grey():
    (placeholder,) = [d for s, d in PHOENIX if s == "::placeholder"]
    assert solid(placeholder["color"], VARIABLES) == colour("--muted")
    assert placeholder.get("opacity") == "1"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_staff_charts_marks_and_words_stand_out_from_the_chart(theme):
    """Bars, lines and markers 3:1 against the chart's background (WCAG 1.4.11), the words
    in a chart 4.5:1, in the admin's light and dark themes."""
    variables = admin_variables(theme)
    style = rules(OPS_STYLE.read_text())
    (chart,) = [d for selector, d in style if selector == ".ops-chart"]
    background = solid(chart["background"], variables)
    marks = [
        (selector, solid(d[prop], variables))
        for selector, d in style
        if ".ops-chart" in selector or ".ops-series" in selector
        for prop in ("fill", "stroke")
        if prop in d and not selector.endswith("text") and d[prop] != "none"
    ]
    words = [
        (selector, solid(d["fill"], variables))
        for selector, d in style
        if selector.endswith("text") and ".ops-chart" in selector
    ]
    assert len(marks) >= 6 and len(words) == 2
    for selector, colour_ in marks:
        assert contrast(colour_, background) >= NON_TEXT, selector
    for selector, colour_ in words:
        assert contrast(colour_, background) >= TEXT, selector
