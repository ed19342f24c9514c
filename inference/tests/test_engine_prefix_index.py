"""The prefix cache's bookkeeping (which KV blocks a prompt may reuse), in plain Python: no GPU, no torch."""

from __future__ import annotations

import pytest

from sightline_host.engine.prefix_index import PrefixIndex, common_prefix

SYSTEM = list(range(1000, 1130))  # 130 tokens: two full blocks of 64 and a partial one


def test_a_prompt_reuses_the_full_blocks_of_a_shared_prefix() -> None:
    index = PrefixIndex(block=64, capacity=16)
    turn1 = [*SYSTEM, 1, 2, 3]
    claimed = index.insert(turn1)
    assert [block for block, _ in claimed] == [0, 1]  # the partial third block is not cached
    turn2 = [*SYSTEM, 7, 8, 9]
    assert index.match(turn2) == [slot for _, slot in claimed]


def test_a_different_first_token_reuses_nothing() -> None:
    index = PrefixIndex(block=64, capacity=16)
    index.insert(SYSTEM)
    assert index.match([0, *SYSTEM[1:]]) == []


def test_a_block_is_reused_only_after_the_same_prefix() -> None:
    index = PrefixIndex(block=4, capacity=16)
    index.insert([1, 2, 3, 4, 5, 6, 7, 8])
    # Block [5, 6, 7, 8] is cached, but after [1, 2, 3, 4]: after another first block it must not match.
    assert index.match([9, 9, 9, 9, 5, 6, 7, 8]) == []
    assert len(index.match([1, 2, 3, 4, 5, 6, 7, 8, 0])) == 2


def test_the_limit_leaves_the_last_prompt_token_to_run() -> None:
    index = PrefixIndex(block=4, capacity=16)
    prompt = list(range(8))
    index.insert(prompt)
    assert len(index.match(prompt, limit=7)) == 1  # 8 tokens cached, but at most 7 may be reused


def test_the_least_recently_used_block_is_evicted_first() -> None:
    index = PrefixIndex(block=2, capacity=3)
    index.insert([1, 2, 3, 4])  # two blocks
    index.insert([9, 9])  # the third slot
    index.match([1, 2, 3, 4])  # both blocks of the first prompt are used again
    index.insert([7, 7])  # evicts [9, 9], the least recently used
    assert index.match([9, 9]) == []
    assert len(index.match([1, 2, 3, 4])) == 2
    assert len(index.match([7, 7])) == 1


def test_a_prompt_never_evicts_its_own_blocks() -> None:
    index = PrefixIndex(block=1, capacity=2)
    claimed = index.insert([1, 2, 3])
    assert [block for block, _ in claimed] == [0, 1]  # no slot left for the third block
    assert len(index.match([1, 2, 3])) == 2


def test_clear_forgets_every_block() -> None:
    index = PrefixIndex(block=2, capacity=4)
    index.insert([1, 2, 3, 4])
    index.clear()
    assert index.match([1, 2, 3, 4]) == []
    assert len(index) == 0


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        PrefixIndex(block=0, capacity=4)


def test_common_prefix() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 4]) == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix([], [1]) == 0
