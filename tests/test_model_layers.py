"""The models' shared layers: the CPU-cheap dropout behaves as nn.Dropout does."""

import pytest
import torch

from modeling.layers import Dropout


def test_dropout_zeroes_a_fraction_p_and_scales_the_rest_only_in_training():
    torch.manual_seed(0)
    x = torch.ones(200_000, requires_grad=True)
    layer = Dropout(0.2)
    y = layer(x)
    zeroed = float((y == 0).float().mean())
    assert abs(zeroed - 0.2) < 0.01
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1.25))
    y.sum().backward()  # the gradient flows through the kept elements only, scaled alike
    assert torch.equal(x.grad == 0, y == 0) and torch.allclose(x.grad[y != 0], torch.tensor(1.25))
    layer.eval()
    z = torch.randn(10)
    assert layer(z) is z
    assert torch.nn.Sequential(torch.nn.Linear(3, 3), Dropout(0.5)).state_dict().keys() == {"0.weight", "0.bias"}


def test_dropout_refuses_a_probability_outside_zero_to_one():
    with pytest.raises(ValueError, match="dropout probability"):
        Dropout(1.0)
    with pytest.raises(ValueError, match="dropout probability"):
        Dropout(-0.1)


def test_the_context_advanced_turn_by_turn_is_the_context_over_the_whole_dialogue():
    from modeling.context import TurnContext

    torch.manual_seed(0)
    context = TurnContext(turn_size=12, hidden=8, dropout=0.1).eval()
    turns = torch.randn(1, 9, 12)
    with torch.inference_mode():
        whole = context(turns, torch.arange(-1, 9))  # the vector before each turn and after the last
    state = context.advance(turns[0, :0], None)
    assert state.turns == 0 and torch.equal(state.vector, torch.zeros(1, 8))
    # Advanced as a conversation does: one turn, then two at a time (user + system), one at the end.
    seen = []
    for start, stop in ((0, 1), (1, 3), (3, 5), (5, 7), (7, 8), (8, 9)):
        state = context.advance(turns[0, start:stop], state)
        assert state.turns == stop
        assert torch.allclose(state.vector, whole[stop : stop + 1], atol=1e-6)
        seen.append(stop)
    assert seen[-1] == 9
    assert context.advance(turns[0, :0], state) is state  # no new turns, nothing run
