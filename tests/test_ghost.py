"""bnref.course.ghost: 고스트 배치 정규화 = 가상 배치마다 차례로 부른 배치 정규화.

명세는 모듈 docstring의 한 문장입니다. 테스트는 그것을 bnref.BatchNorm*과 torch.nn.BatchNorm*을 가상
배치마다 부른 결과와 비교(차등 테스트)하고, 그 밖의 성질(누적 평균, 평가 모드, 나쁜 입력)을 따로 봅니다.
"""

import copy

import pytest
import torch
from torch import nn

import bnref
from bnref.course.ghost import GhostBatchNorm1d, GhostBatchNorm2d

DT = torch.float64

# (ghost 클래스, bnref 클래스, torch 클래스, 입력 모양)
KINDS = {
    "1d (N, C)": (GhostBatchNorm1d, bnref.BatchNorm1d, nn.BatchNorm1d, (10, 3)),
    "1d (N, C, L)": (GhostBatchNorm1d, bnref.BatchNorm1d, nn.BatchNorm1d, (10, 3, 4)),
    "2d": (GhostBatchNorm2d, bnref.BatchNorm2d, nn.BatchNorm2d, (10, 3, 2, 3)),
}


def make_input(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    # 채널마다 평균과 크기가 다르게: 정규화가 실제로 무언가를 합니다.
    scale = torch.tensor([1.0, 5.0, 0.2], dtype=DT).reshape(1, 3, *[1] * (len(shape) - 2))
    return torch.randn(shape, generator=g, dtype=DT) * scale + 3 * scale


def with_params(module, seed=1):
    """γ, β를 1, 0이 아닌 값으로 (γ·β가 뒤바뀌면 드러나게)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        if module.weight is not None:
            module.weight.copy_(torch.rand(module.num_features, generator=g, dtype=DT) + 0.5)
            module.bias.copy_(torch.randn(module.num_features, generator=g, dtype=DT))
    return module


def run(module, x, forward=None, steps=2):
    """학습 모드로 steps번 부르고 (출력, [입력 기울기, γ 기울기, β 기울기])를 돌려줍니다.
    forward를 주면 module 대신 그것을 부릅니다 (module은 파라미터를 가진 층)."""
    x = x.clone().requires_grad_()
    for _ in range(steps):
        y = (forward or module)(x)
    w = torch.linspace(-1, 1, y.numel(), dtype=DT).reshape(y.shape)  # 평범하지 않은 손실
    (y * w).sum().backward()
    grads = [x.grad] + [p.grad for p in (module.weight, module.bias) if p is not None]
    return y.detach(), grads


def per_chunk(module, size):
    """가상 배치마다 module을 차례로 부르는 참조 구현."""
    return lambda x: torch.cat([module(chunk) for chunk in x.split(size)])


def buffers(module):
    return [b.clone() for b in module.buffers()]


def assert_close(a, b):
    # 가상 배치들을 채널 축에 늘어놓아 한 번에 계산하므로, 합의 순서만 다릅니다: float64 반올림 오차 안에서 같음.
    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- differential
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size, options", [(10, {}), (64, {}), (10, {"momentum": None}), (10, {"affine": False}),
                                           (10, {"track_running_stats": False})],
                         ids=["V=N", "V>N", "momentum=None", "affine=False", "no running stats"])
def test_one_virtual_batch_is_exactly_batchnorm(kind, size, options):
    ghost_cls, bn_cls, _, shape = KINDS[kind]
    ghost = with_params(ghost_cls(3, size, dtype=DT, **options))
    bn = with_params(bn_cls(3, dtype=DT, **options))
    x = make_input(shape)
    (y1, g1), (y2, g2) = run(ghost, x), run(bn, x)
    assert torch.equal(y1, y2)
    for a, b in zip(g1, g2):
        assert torch.equal(a, b)
    for a, b in zip(buffers(ghost), buffers(bn)):
        assert torch.equal(a, b)
    ghost.eval(), bn.eval()
    assert torch.equal(ghost(x), bn(x))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", [2, 4], ids=["V=2", "V=4 (4+4+2)"])
@pytest.mark.parametrize("twin, options", [("bnref", {}), ("bnref", {"momentum": None}), ("bnref", {"affine": False}),
                                           ("torch", {}), ("torch", {"momentum": None})],
                         ids=["bnref", "bnref momentum=None", "bnref affine=False", "torch", "torch momentum=None"])
def test_each_virtual_batch_is_batchnorm_applied_to_that_chunk(kind, size, twin, options):
    ghost_cls, bn_cls, torch_cls, shape = KINDS[kind]
    ghost = with_params(ghost_cls(3, size, dtype=DT, **options))
    reference = with_params((bn_cls if twin == "bnref" else torch_cls)(3, dtype=DT, **options))
    x = make_input(shape)
    (y1, g1), (y2, g2) = run(ghost, x), run(reference, x, per_chunk(reference, size))
    for a, b in zip([y1, *g1], [y2, *g2]):
        assert_close(a, b)
    # 이동 통계와 num_batches_tracked: 가상 배치마다 한 번씩, 두 스텝이면 2·⌈N/V⌉번 갱신
    for a, b in zip(buffers(ghost), buffers(reference)):
        assert_close(a, b)
    assert ghost.num_batches_tracked.item() == 2 * -(-shape[0] // size)


def test_uneven_last_virtual_batch_is_normalised_on_its_own():
    ghost = GhostBatchNorm1d(3, 4, affine=False, dtype=DT)
    x = make_input((10, 3))
    y = ghost(x).detach()
    for rows in (slice(0, 4), slice(4, 8), slice(8, 10)):  # torch.split: 4 + 4 + 2
        part = y[rows]
        torch.testing.assert_close(part.mean(0), torch.zeros(3, dtype=DT), atol=1e-12, rtol=0)
        torch.testing.assert_close(part.var(0, correction=0), torch.ones(3, dtype=DT), atol=1e-3, rtol=0)
        torch.testing.assert_close(part, nn.functional.batch_norm(x[rows], None, None, training=True))
    # 배치 전체로 정규화한 값과는 다릅니다: 그것이 가상 배치의 잡음입니다.
    assert not torch.allclose(y, nn.functional.batch_norm(x, None, None, training=True))


def test_momentum_none_averages_the_statistics_of_all_virtual_batches():
    ghost = GhostBatchNorm1d(3, 4, momentum=None, dtype=DT)
    x = make_input((12, 3))
    with torch.no_grad():
        ghost(x)
    chunks = x.split(4)
    expected_mean = torch.stack([c.mean(0) for c in chunks]).mean(0)
    expected_var = torch.stack([c.var(0) for c in chunks]).mean(0)  # 불편 분산의 평균 (가상 배치 안의 분산)
    torch.testing.assert_close(ghost.running_mean, expected_mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ghost.running_var, expected_var, rtol=1e-12, atol=1e-12)
    assert ghost.num_batches_tracked.item() == 3


def test_momentum_moves_the_running_statistics_once_per_virtual_batch():
    ghost = GhostBatchNorm1d(1, 2, momentum=0.5, dtype=DT)
    with torch.no_grad():
        ghost(torch.tensor([[0.0], [2.0], [10.0], [12.0]], dtype=DT))
    # 0 → 0.5·0 + 0.5·1 = 0.5 → 0.5·0.5 + 0.5·11 = 5.75
    assert ghost.running_mean.item() == pytest.approx(5.75)


# ---------------------------------------------------------------- evaluation and state
def test_eval_mode_is_batchnorm_on_the_whole_batch_and_state_dicts_are_interchangeable():
    ghost = with_params(GhostBatchNorm2d(3, 2, dtype=DT))
    x = make_input((10, 3, 2, 3))
    with torch.no_grad():
        ghost(x)
    bn = bnref.BatchNorm2d(3, dtype=DT)
    bn.load_state_dict(ghost.state_dict())
    ghost.eval(), bn.eval()
    before = buffers(ghost)
    assert torch.equal(ghost(x), bn(x))
    assert torch.equal(ghost(x[:1]), bn(x[:1]))  # 샘플 하나도 됩니다 (나누지 않음)
    assert all(torch.equal(a, b) for a, b in zip(before, buffers(ghost)))
    assert list(ghost.state_dict()) == list(bnref.BatchNorm2d(3).state_dict())


def test_eval_without_running_stats_uses_each_virtual_batch():
    ghost = GhostBatchNorm1d(3, 4, track_running_stats=False, affine=False, dtype=DT).eval()
    x = make_input((8, 3))
    expected = per_chunk(bnref.BatchNorm1d(3, track_running_stats=False, affine=False), 4)(x)
    assert torch.equal(ghost(x), expected)


def test_repr_names_the_virtual_batch_size():
    assert repr(GhostBatchNorm1d(3, 16)) == (
        "GhostBatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True, "
        "virtual_batch_size=16)")


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("ghost_cls, shape, size", [
    (GhostBatchNorm1d, (8, 3), 3),        # 3 + 3 + 2
    (GhostBatchNorm2d, (5, 3, 2, 2), 2),  # 2 + 2 + 1 (샘플 하나여도 채널당 값은 4개)
], ids=["1d 3+3+2", "2d 2+2+1"])
def test_gradcheck(ghost_cls, shape, size):
    ghost = ghost_cls(3, size, dtype=DT)
    x = make_input(shape, seed=3).requires_grad_()
    w = (torch.rand(3, dtype=DT) + 0.5).requires_grad_()
    b = torch.randn(3, dtype=DT).requires_grad_()

    def f(x, w, b):
        return torch.func.functional_call(ghost, {"weight": w, "bias": b}, (x,))

    assert torch.autograd.gradcheck(f, (x, w, b))
    if ghost_cls is GhostBatchNorm1d:  # 이중 미분(create_graph)도: bnref의 역전파가 미분 가능하게 다시 만드는 길
        assert torch.autograd.gradgradcheck(f, (x, w, b))


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("size", [0, -4, 2.5, True, None])
def test_virtual_batch_size_must_be_a_positive_integer(size):
    with pytest.raises(ValueError, match="virtual_batch_size must be a positive integer"):
        GhostBatchNorm1d(3, size)


@pytest.mark.parametrize("module, x, error, message", [
    (GhostBatchNorm1d(3, 4), torch.randn(9, 3), ValueError,
     r"Expected more than 1 value per channel when training, got input size torch.Size\(\[1, 3\]\)"),
    (GhostBatchNorm1d(3, 1), torch.randn(4, 3), ValueError,
     r"Expected more than 1 value per channel when training, got input size torch.Size\(\[1, 3\]\)"),
    (GhostBatchNorm1d(3, 4), torch.randn(9, 3, 1, 1), ValueError, r"expected 2D or 3D input \(got 4D input\)"),
    (GhostBatchNorm2d(3, 4), torch.randn(9, 3, 2), ValueError, r"expected 4D input \(got 3D input\)"),
    (GhostBatchNorm1d(5, 4), torch.randn(9, 3), RuntimeError, "running_mean should contain 3 elements not 5"),
    (GhostBatchNorm1d(3, 4), torch.ones(9, 3, dtype=torch.long), NotImplementedError,
     "\"batch_norm\" not implemented for 'Long'"),
], ids=["last virtual batch has one sample", "V=1", "1d given 4D", "2d given 3D", "wrong channels", "integers"])
def test_bad_input_gets_batchnorms_error_and_changes_nothing(module, x, error, message):
    before = copy.deepcopy(module.state_dict())
    with pytest.raises(error, match=message):
        module(x)
    after = module.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_a_last_virtual_batch_of_one_sample_is_fine_when_it_has_more_than_one_value():
    ghost = GhostBatchNorm1d(3, 4)
    assert ghost(torch.randn(9, 3, 5)).shape == (9, 3, 5)  # 마지막 가상 배치: 샘플 1개 × 길이 5
    assert ghost.eval()(torch.randn(9, 3)).shape == (9, 3)  # 평가 모드는 나누지 않음
