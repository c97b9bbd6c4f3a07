from functools import cache

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from moderation.models import NOTE_MAX, Report

register = template.Library()


def _render_report_dialog() -> SafeString:
    return render_to_string(
        "moderation/report_dialog.html",
        {"report_categories": Report.Category.choices, "report_note_max": NOTE_MAX},
    )


# The same HTML on every page of every signed-in creator: rendered once per process (it
# cost ~0.3 ms of CPU on each page, make bench, issue 19).
_report_dialog_once = cache(_render_report_dialog)


@register.simple_tag
def report_dialog() -> SafeString:
    """The page's one Report dialog (the Report buttons open it)."""
    # Rendered each time while developing, so that an edit of the template shows.
    return _render_report_dialog() if settings.DEBUG else _report_dialog_once()
