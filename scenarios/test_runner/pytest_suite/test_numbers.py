import math

import pytest


def test_integer_division():
    assert 7 // 2 == 3 and -7 // 2 == -4


def test_float_sum_is_close():
    assert math.isclose(sum([0.1] * 10), 1.0)


@pytest.mark.skipif(not hasattr(math, "lcm"), reason="math.lcm needs Python 3.9")
def test_lcm():
    assert math.lcm(4, 6) == 12
