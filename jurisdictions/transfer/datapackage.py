"""The whole dataset as a Frictionless Data Package: one CSV per table and datapackage.json.

The descriptor is derived from the models: every concrete field becomes a column with its type, its
description (the field's help_text, else its name in words), whether it is required, its maximum
length and its allowed values (the field's choices), so that a field added to a model appears in
the package, its schema and the /data/ codebook without touching this module. A relation to another
table of the package is its id (`jurisdiction_id`), declared as a foreign key; a relation outside
the package is its natural key (an enrollment's program slug, an answer's requirement code); who
made a change (a staff account) is left out.

CSV files are written from plain ORM queries, streamed in primary-key order, so that a data version
always gives the same bytes (downloads.py serves them with an ETag per data version).
"""

import csv
import datetime
import io
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.utils.text import capfirst

from ..models import Certification, Enrollment, Jurisdiction, Source, StatusChange

PACKAGE_NAME = "psp-tracker"
CHUNK = 2000


@dataclass(frozen=True)
class Table:
    name: str
    model: type
    title: str
    description: str
    natural: dict = field(default_factory=dict)  # relation name -> the target's natural key field
    leave_out: frozenset = frozenset()

    @property
    def path(self):
        return f"{self.name}.csv"


TABLES = (
    Table(
        "jurisdictions",
        Jurisdiction,
        "Jurisdictions",
        "Every jurisdiction recorded: its name, state, kind and identifiers.",
    ),
    Table(
        "sources",
        Source,
        "Sources",
        "The documents that statuses and answers cite.",
    ),
    Table(
        "enrollments",
        Enrollment,
        "Enrollments",
        "A jurisdiction's place in a program: its status, dates, notes and source.",
        natural={"program": "slug"},
    ),
    Table(
        "answers",
        Certification,
        "Answers",
        "An enrollment's answer to each requirement of its program, with its evidence.",
        natural={"requirement": "code"},
    ),
    Table(
        "status_changes",
        StatusChange,
        "Status changes",
        "Every change of an enrollment's status: from, to, when, through what and on what source.",
        leave_out=frozenset({"changed_by"}),  # a staff account: not public data
    ),
)
IN_PACKAGE = {table.model: table for table in TABLES}

ID_DESCRIPTION = "The record's number; other files of this package refer to it by this number."
# Plain words for the fields whose model gives no help_text (a new field without help_text falls
# back to its name, so it still appears; give it help_text in the model to describe it).
DESCRIPTIONS = {
    "created_at": "When this record was first entered in the tracker (UTC).",
    "kind": "What kind of jurisdiction it is: city, county, state, territory or other.",
    "title": "Title of the document.",
    "publisher": "Who published the document; empty when not recorded.",
    "url": "Where the document can be read; empty when not recorded.",
    "answer": "The answer to the requirement: yes, no, not applicable (another body runs the facility) or unknown.",
    "to_status": "The status the enrollment changed to.",
    "from_status": "The status before the change; empty when the enrollment was created.",
    "via": "Through what the change was recorded: the staff admin, the staff API, a CSV import, or the system.",
    "note": "What staff noted about the change; empty when nothing.",
}


@dataclass(frozen=True)
class Column:
    name: str
    lookup: str  # for values_list
    model_field: models.Field
    descriptor: dict


def _frictionless_type(model_field):
    if isinstance(model_field, models.DateTimeField):
        return "datetime"
    if isinstance(model_field, models.DateField):
        return "date"
    if isinstance(model_field, models.BooleanField):
        return "boolean"
    if isinstance(model_field, models.IntegerField | models.AutoField | models.BigAutoField):
        return "integer"
    return "string"


def _describe(model_field):
    if model_field.primary_key:
        return ID_DESCRIPTION
    if model_field.name in DESCRIPTIONS:
        return DESCRIPTIONS[model_field.name]
    text = str(model_field.help_text or "").strip()
    return text or f"{capfirst(str(model_field.verbose_name))}."


def columns(table):
    """The columns of a table, derived from its model's concrete fields."""
    found = []
    for model_field in table.model._meta.concrete_fields:
        if model_field.name in table.leave_out:
            continue
        if model_field.is_relation:
            target = model_field.related_model
            if target in IN_PACKAGE:
                name = model_field.attname
                lookup = model_field.attname
                descriptor = {
                    "name": name,
                    "type": "integer",
                    "description": (
                        f"{_describe(model_field).rstrip('.')}: the id of a row of {IN_PACKAGE[target].path}."
                        if model_field.help_text
                        else f"The id of the {model_field.verbose_name}: a row of {IN_PACKAGE[target].path}."
                    ),
                }
            elif model_field.name in table.natural:
                key = table.natural[model_field.name]
                name = model_field.name
                lookup = f"{model_field.name}__{key}"
                descriptor = {
                    "name": name,
                    "type": "string",
                    "description": (
                        f"The {key} of the {model_field.verbose_name}: "
                        f"{str(target._meta.get_field(key).help_text or key).rstrip('.')}."
                    ),
                }
            else:
                continue
        else:
            name = lookup = model_field.attname
            descriptor = {
                "name": name,
                "type": _frictionless_type(model_field),
                "description": _describe(model_field),
            }
            constraints = {}
            if not model_field.null and not model_field.blank:
                constraints["required"] = True
            if model_field.primary_key:
                constraints["unique"] = True
            if model_field.choices:
                constraints["enum"] = [str(value) for value, _ in model_field.flatchoices]
                descriptor["categories"] = [
                    {"value": str(value), "label": str(label)} for value, label in model_field.flatchoices
                ]
            elif descriptor["type"] == "string" and model_field.max_length:
                constraints["maxLength"] = model_field.max_length
            if constraints:
                descriptor["constraints"] = constraints
            if descriptor["type"] == "datetime":
                descriptor["format"] = "%Y-%m-%dT%H:%M:%S.%fZ"
        if model_field.is_relation and not model_field.null:
            descriptor["constraints"] = {"required": True}
        found.append(Column(name, lookup, model_field, descriptor))
    return found


def resource_descriptor(table):
    cols = columns(table)
    schema = {"fields": [column.descriptor for column in cols], "primaryKey": ["id"]}
    foreign = [
        {
            "fields": [column.name],
            "reference": {"resource": IN_PACKAGE[column.model_field.related_model].name, "fields": ["id"]},
        }
        for column in cols
        if column.model_field.is_relation and column.model_field.related_model in IN_PACKAGE
    ]
    if foreign:
        schema["foreignKeys"] = foreign
    return {
        "name": table.name,
        "path": table.path,
        "title": table.title,
        "description": table.description,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": schema,
    }


def package_descriptor(*, data_version=None, sources=None):
    """datapackage.json as a dict: resources, the licence and the documents the data cites."""
    if sources is None:
        sources = Source.objects.order_by("title", "pk")
    descriptor = {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": "PSP Tracker: jurisdictions in federal law-enforcement partnership programs",
        "description": (
            "Which US jurisdictions take part in federal partnership programs such as the U.S. "
            "Department of Justice's Public Safety Partnership, their status, their answers to each "
            "requirement and the history of their status, each fact with the document it comes from."
        ),
        "licenses": [settings.DATA_PACKAGE_LICENSE],
        "sources": [
            {"title": str(source), **({"path": source.url} if source.url else {})} for source in sources
        ],
        "resources": [resource_descriptor(table) for table in TABLES],
    }
    if data_version is not None:
        descriptor["version"] = data_version
    return descriptor


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def iter_csv(table):
    """The table's CSV, header first, in chunks of rows (primary-key order)."""
    cols = columns(table)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.name for column in cols])
    rows = table.model._base_manager.order_by("pk").values_list(*[column.lookup for column in cols])
    for index, row in enumerate(rows.iterator(chunk_size=CHUNK), 1):
        writer.writerow([_cell(value) for value in row])
        if index % CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def table_named(name):
    return next((table for table in TABLES if table.name == name), None)
