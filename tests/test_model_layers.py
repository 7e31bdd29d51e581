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
