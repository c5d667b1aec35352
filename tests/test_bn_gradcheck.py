"""손으로 쓴 역전파를 유한 차분(finite differences)으로 확인: gradcheck 와 gradgradcheck (float64).

이중 미분(create_graph=True)에서도 1차 기울기가 보통의 역전파와 같은지, 2차 미분이 torch와 같은지 확인합니다.
"""
import pytest
import torch
import torch.nn.functional as TF
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


# ---------------------------------------------------------------- the create_graph=True path (issue #11, 5)
# With create_graph=True, _BatchNormFunction.backward rebuilds x̂ from the input with differentiable ops
# (its own mean and biased variance). gradgradcheck only checks that graph against itself; these check it
# against the plain path and against torch.
def first_order(training, shape, create_graph):
    x, w, b = inputs(shape, True)
    dy = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    y = bn(training, shape[1])(x, w, b)
    return torch.autograd.grad(y, (x, w, b), dy, create_graph=create_graph)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_create_graph_gives_the_plain_first_order_gradients(shape, training):
    plain, rebuilt = first_order(training, shape, False), first_order(training, shape, True)
    for name, p, r in zip(["dx", "dγ", "dβ"], plain, rebuilt):
        torch.testing.assert_close(r, p, rtol=1e-10, atol=1e-12, msg=name)


def second_order(F, training, shape):
    """∂/∂(x, γ, β, dy) of Σ v·(dx, dγ, dβ): what a gradient penalty differentiates."""
    g = torch.Generator().manual_seed(6)
    x, w, b = inputs(shape, True)
    dy = torch.randn(shape, dtype=torch.float64, generator=g).requires_grad_()
    rm = torch.linspace(-1, 1, shape[1], dtype=torch.float64)
    rv = torch.linspace(0.5, 2, shape[1], dtype=torch.float64)
    y = F.batch_norm(x, rm, rv, w, b, training=training, eps=1e-3)
    grads = torch.autograd.grad(y, (x, w, b), dy, create_graph=True)
    penalty = sum((gr * torch.randn(gr.shape, dtype=torch.float64, generator=g)).sum() for gr in grads)
    second = torch.autograd.grad(penalty, (x, w, b, dy), allow_unused=True)
    return [torch.zeros_like(t) if s is None else s for s, t in zip(second, (x, w, b, dy))]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_second_derivatives_match_torch(shape, training):
    for name, mine, theirs in zip(["x", "γ", "β", "dy"], second_order(BF, training, shape),
                                  second_order(TF, training, shape)):
        torch.testing.assert_close(mine, theirs, rtol=1e-10, atol=1e-12, msg=name)
