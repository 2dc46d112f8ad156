"""Reading problem details (psp_tracker/problems.py) in tests: every API error has this shape."""

PROBLEM_KEYS = ["detail", "errors", "status", "title", "type"]


def problem_of(response):
    """The problem body, after checking its media type, its keys and its status."""
    assert response["Content-Type"] == "application/problem+json", response["Content-Type"]
    body = response.json()
    assert sorted(body) == PROBLEM_KEYS, body
    assert body["status"] == response.status_code
    assert all(sorted(error) == ["name", "reason"] for error in body["errors"]), body["errors"]
    return body


def errors_of(response):
    """{name: [reasons]} of a problem's `errors`, in the order given."""
    named = {}
    for error in problem_of(response)["errors"]:
        named.setdefault(error["name"], []).append(error["reason"])
    return named


def detail_of(response):
    return problem_of(response)["detail"]
