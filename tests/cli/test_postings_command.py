"""`dibao postings` prints a village's whole board, however many pages the API serves it in."""

from __future__ import annotations

from tests.api.test_postings_board import seed_board
from tests.cli.conftest import dibao
from tests.conftest import Stack


async def test_a_board_longer_than_a_page_is_printed_whole(api_url: str, dev_stack: Stack) -> None:
    seed_board(dev_stack, 1005, 600)  # the API's largest page is 1000
    printed = await dibao("postings", "--village", "610423100202")
    assert printed.exit_code == 0, printed.output
    for name in ("户00001", "户00600", "户00601", "户01005"):
        assert name in printed.output, name
    assert printed.output.count("户0") == 1005
