"""Exercises whose function returns a tuple (an output and an updated cache): compared item by item, matched to a
mistake item by item, and shown item by item."""

from __future__ import annotations

import torch

from answers.exercises._kit import agrees, same, show


def test_a_tuple_is_compared_item_by_item_and_the_wrong_item_is_named():
    expected = (torch.zeros(2), torch.ones(3))
    assert same((torch.zeros(2), torch.ones(3)), expected) is None
    assert same((torch.zeros(2), torch.zeros(3)), expected).startswith("value 1 of the tuple: values differ")
    assert same(torch.zeros(2), expected) == "expected a tuple of 2 values, got Tensor"
    assert same((torch.zeros(2),), expected) == "expected a tuple of 2 values, got tuple of 1"


def test_tuples_of_tensors_agree_only_when_every_item_agrees():
    assert agrees((torch.zeros(2), torch.ones(3)), (torch.zeros(2), torch.ones(3)))
    assert not agrees((torch.zeros(2), torch.ones(3)), (torch.zeros(2), torch.zeros(3)))
    assert not agrees((torch.zeros(2),), (torch.zeros(2), torch.ones(3)))


def test_a_tuple_of_tensors_is_shown_item_by_item():
    text = show((torch.zeros(1), torch.ones(2)))
    assert text.splitlines()[0] == "item 0: (1,) float32" and "item 1: (2,) float32" in text
