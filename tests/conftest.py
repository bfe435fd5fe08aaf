import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/* from the current output instead of comparing (review the diff)",
    )


@pytest.fixture
def update_golden(request) -> bool:
    """True when pytest runs with --update-golden."""
    return request.config.getoption("--update-golden")
