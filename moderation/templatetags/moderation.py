from django import template

from moderation.models import NOTE_MAX, Report

register = template.Library()


@register.inclusion_tag("moderation/report_dialog.html")
def report_dialog() -> dict:
    """The page's one Report dialog (the Report buttons open it)."""
    return {"report_categories": Report.Category.choices, "report_note_max": NOTE_MAX}
