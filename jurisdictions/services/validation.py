"""Field validation for writes that do not build a model instance per value (the importer).

The rules are the model fields' own: their `max_length`, their validators (GEOID and OCD id
patterns, http/https web addresses, the notes limit) and their choices. The admin's forms and the
API reach the same validators through `full_clean()`, so every door refuses the same values.
`field_check` only makes asking cheap: a 90,000-row file asks some 400,000 times.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator

from ..models import Certification

NOT_APPLICABLE = Certification.Answer.NOT_APPLICABLE


def _first_message(validator, value):
    try:
        validator(value)
    except ValidationError as exc:
        return exc.messages[0]
    return None


def _fast(validator):
    """A check equivalent to `validator`, or None when there is no cheaper way to ask it.

    A length or a pattern is tested directly; the validator itself is called only to word a failure
    (calling it for every value, a lazy regex and the message machinery, cost a large file seconds).
    """
    if type(validator) is MaxLengthValidator:
        limit = validator.limit_value
        return lambda value: None if len(value) <= limit else _first_message(validator, value)
    if type(validator) is RegexValidator and not validator.inverse_match:
        search = validator.regex.search
        return lambda value: None if search(value) else _first_message(validator, value)
    return None


def field_check(model, name):
    """A function value -> message (or None when valid) applying the field's validators and
    choices to a non-empty text value. Slow validators (URLs) remember their answers: a file
    cites few distinct addresses."""
    field = model._meta.get_field(name)
    checks = []
    for validator in field.validators:
        fast = _fast(validator)
        if fast is None:
            memo = {}

            def fast(value, validator=validator, memo=memo):
                if value not in memo:
                    memo[value] = _first_message(validator, value)
                return memo[value]

        checks.append(fast)
    if field.choices:
        allowed = frozenset(str(value) for value, _ in field.flatchoices)
        message = f"use one of {', '.join(sorted(allowed))}"

        def choice(value):
            return None if value in allowed else f"“{value}” is not a valid choice; {message}."

        checks.append(choice)

    if len(checks) == 1:
        return checks[0]

    def check(value):
        for one in checks:
            error = one(value)
            if error:
                return error
        return None

    return check


def max_length(model, name):
    return model._meta.get_field(name).max_length


def answer_operator_error(*, answer, facility_operator):
    """The database's rule for not_applicable (who runs the facility), in its own words."""
    if answer == NOT_APPLICABLE and not facility_operator:
        constraint = next(c for c in Certification._meta.constraints if c.name.endswith("na_names_operator"))
        return str(constraint.violation_error_message)
    return None
