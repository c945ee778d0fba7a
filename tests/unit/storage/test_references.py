"""``References`` (messages by reference, in segments) answers as a plain dict would."""

from __future__ import annotations

import random

import pytest

from mock_puresms.storage.memory import references
from mock_puresms.storage.memory.references import References


@pytest.mark.parametrize("seed", range(5))
def test_references_answer_as_a_dict_through_adds_and_removals(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(references, "SEGMENT", 8)  # many segments from few keys
    rng = random.Random(seed)
    plain: dict[str, int] = {}
    segmented: References[int] = References()
    made = 0
    for _ in range(400):
        action = rng.random()
        if action < 0.4:  # a send of several
            count = rng.randint(1, 20)
            pairs = [(f"M{made + i}", made + i) for i in range(count)]
            made += count
            plain.update(pairs)
            segmented.update(pairs)
        elif action < 0.55:
            plain[f"M{made}"] = made
            segmented[f"M{made}"] = made
            made += 1
        elif action < 0.85 and made:  # retention or a reset: oldest mostly, any may go
            key = f"M{min(int(rng.expovariate(0.05)), made - 1)}"
            assert segmented.pop(key, None) == plain.pop(key, None)
        key = f"M{rng.randrange(made + 5)}" if made else "M0"
        assert segmented.get(key) == plain.get(key)
        assert (key in segmented) == (key in plain)
        assert len(segmented) == len(plain)
    assert list(segmented.values()) == list(plain.values())
    assert len(segmented._sealed) > 3  # the segments were exercised


def test_emptied_segments_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(references, "SEGMENT", 4)
    segmented: References[int] = References()
    for start in range(0, 12, 4):  # three sends of four
        segmented.update((f"M{i}", i) for i in range(start, start + 4))
    assert len(segmented._sealed) == 3
    for i in range(4):
        segmented.pop(f"M{i}")
    assert len(segmented._sealed) == 2
    assert list(segmented.values()) == list(range(4, 12))
