"""Form controls of the public list's filters (the FilterSet's own form, filters.py).

The FilterSet declares each filter's label, choices and help once; these widgets only decide the
markup: checkboxes whose ids carry the value (`id_status_participating`, so that links and tests
can name them) and one select per requirement for the `answer` filter.
"""

from django import forms
from django.utils.translation import gettext_lazy


class ValueCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes, each with its label beside it and an id made of the field's id and the value."""

    template_name = "jurisdictions/widgets/checkboxes.html"

    def id_for_label(self, id_, index=None):
        return id_

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if option["attrs"].get("id"):
            option["attrs"]["id"] = f"{option['attrs']['id']}_{value}"
        return option


class GroupedCheckboxes(ValueCheckboxes):
    """Value checkboxes in named groups (a fieldset each): a long list such as the 56 states stays
    usable by touch and keyboard, with no modifier key as a multi-select needs. `groups` is a list
    of (label, values), one of them (label, None): the values no other group names."""

    template_name = "jurisdictions/widgets/grouped_checkboxes.html"

    def __init__(self, attrs=None, *, groups):
        super().__init__(attrs)
        self.groups = groups

    def optgroups(self, name, value, attrs=None):
        options = [option for _, group, _ in super().optgroups(name, value, attrs) for option in group]
        placed = {str(v) for _, values in self.groups if values is not None for v in values}
        grouped = []
        for index, (label, values) in enumerate(self.groups):
            wanted = {str(v) for v in values} if values is not None else None
            members = [
                o
                for o in options
                if (str(o["value"]) in wanted if wanted is not None else str(o["value"]) not in placed)
            ]
            if members:
                grouped.append((label, members, index))
        return grouped


class AnswerSelects(forms.SelectMultiple):
    """One select per requirement (a group of the choices), each sending `answer=<code>:<answer>`
    or nothing ("Any answer", dropped by the FilterSet)."""

    template_name = "jurisdictions/widgets/answer_selects.html"
    empty_label = gettext_lazy("Any answer")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        base_id = context["widget"]["attrs"].get("id") or f"id_{name}"
        controls = []
        for group, options, _ in context["widget"]["optgroups"]:
            code = str(options[0]["value"]).split(":", 1)[0] if options else ""
            controls.append({"id": f"{base_id}_{code}", "label": group, "options": options})
        context["widget"]["controls"] = controls
        context["widget"]["empty_label"] = self.empty_label
        return context


class EchoedText(forms.TextInput):
    """A text box that gives back at most `echo` characters of what was sent: a refused 100,000
    character search is named in the message, not printed back in full."""

    def __init__(self, attrs=None, *, echo):
        super().__init__(attrs)
        self.echo = echo

    def format_value(self, value):
        value = super().format_value(value)
        return value[: self.echo] if value else value
