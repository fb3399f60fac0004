"""A suite with one failing test: the plan's xfail case shows how a failure is reported."""


def parse_version(text):
    return tuple(int(part) for part in text.split("."))


def test_parses_three_parts():
    assert parse_version("1.2.3") == (1, 2, 3)


def test_orders_numerically():
    assert parse_version("1.10") > parse_version("1.9")


def test_accepts_a_v_prefix():
    assert parse_version("v2.0") == (2, 0), "a leading 'v' is common in git tags"
