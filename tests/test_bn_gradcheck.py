"""손으로 쓴 역전파를 유한 차분(finite differences)으로 확인: gradcheck 와 gradgradcheck (float64)."""
import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

from bnref import functional as BF

SHAPES = [(5, 3), (3, 3, 4), (2, 3, 2, 3), (2, 3, 2, 1, 2)]


def inputs(shape, affine, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=g, dtype=torch.float64) * 2 + 1).requires_grad_()
    if not affine:
        return (x,)
    w = torch.randn(shape[1], generator=g, dtype=torch.float64).requires_grad_()
    b = torch.randn(shape[1], generator=g, dtype=torch.float64).requires_grad_()
    return x, w, b


def bn(training, C):
    rm = torch.linspace(-1, 1, C, dtype=torch.float64)
    rv = torch.linspace(0.5, 2, C, dtype=torch.float64)
    # running 통계는 매 호출마다 새로: 훈련에서 제자리 갱신되어도 다음 호출의 결과는 같습니다
    return lambda x, *wb: BF.batch_norm(x, rm.clone(), rv.clone(), *wb, training=training, eps=1e-3)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_gradcheck(shape, training, affine):
    assert gradcheck(bn(training, shape[1]), inputs(shape, affine))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES[:3])
def test_gradgradcheck(shape, training):
    # 역전파도 미분 가능한 torch 연산으로 쓰여 있어 이중 미분(예: 기울기 벌점)도 됩니다.
    assert gradgradcheck(bn(training, shape[1]), inputs(shape, True))


def test_training_backward_is_the_closed_form():
    # dx = γ·invstd/n · (n·dy − Σdy − x̂·Σ(dy·x̂)) 를 그대로 계산해 비교합니다.
    x, w, b = inputs((6, 2, 3), True)
    dy = torch.randn(x.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    BF.batch_norm(x, None, None, w, b, training=True, eps=1e-3).backward(dy)
    dims, n = (0, 2), 6 * 3
    mean, var = x.mean(dims, keepdim=True), x.var(dims, keepdim=True, correction=0)
    invstd = (var + 1e-3).rsqrt()
    xhat = (x - mean) * invstd
    g = w.view(1, -1, 1)
    sum_dy, sum_dy_xhat = dy.sum(dims, keepdim=True), (dy * xhat).sum(dims, keepdim=True)
    torch.testing.assert_close(x.grad, g * invstd / n * (n * dy - sum_dy - xhat * sum_dy_xhat))
    torch.testing.assert_close(w.grad, sum_dy_xhat.flatten())
    torch.testing.assert_close(b.grad, sum_dy.flatten())
