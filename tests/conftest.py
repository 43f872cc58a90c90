import pytest

from tests.factories import org_tree


@pytest.fixture
def tree():
    return org_tree()
