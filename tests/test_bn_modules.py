"""bnref.BatchNorm1d/2d/3d 대 torch.nn.BatchNorm1d/2d/3d: 같은 매개변수·버퍼·장부 정리·결과."""
import copy

import pytest
import torch

import bnref

PAIRS = [  # (bnref 클래스, torch 클래스, 입력 모양)
    (bnref.BatchNorm1d, torch.nn.BatchNorm1d, (6, 3)),
    (bnref.BatchNorm1d, torch.nn.BatchNorm1d, (4, 3, 5)),
    (bnref.BatchNorm2d, torch.nn.BatchNorm2d, (2, 3, 4, 5)),
    (bnref.BatchNorm3d, torch.nn.BatchNorm3d, (2, 3, 2, 3, 4)),
]
FLAGS = [dict(), dict(momentum=None), dict(affine=False), dict(track_running_stats=False),
         dict(momentum=0.3, eps=1e-3, bias=False), dict(affine=False, track_running_stats=False)]
F64 = dict(rtol=1e-10, atol=1e-12)


def batches(shape, k, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(shape, generator=g, dtype=torch.float64) * (i + 1) + i,
             torch.randn(shape, generator=g, dtype=torch.float64)) for i in range(k)]


def assert_same_state(mine, theirs, **tol):
    a, b = mine.state_dict(), theirs.state_dict()
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        torch.testing.assert_close(a[k], b[k], msg=k, **tol)


def step(bn, opt, x, grad):
    """정방향, 역전파, SGD 한 걸음. 출력과 입력 기울기를 돌려줍니다."""
    x = x.clone().requires_grad_()
    y = bn(x)
    y.backward(grad)
    if opt is not None:
        opt.step()
        opt.zero_grad()
    return y.detach(), x.grad


@pytest.mark.parametrize("flags", FLAGS, ids=str)
@pytest.mark.parametrize("mine_cls, torch_cls, shape", PAIRS)
def test_train_steps_then_eval(mine_cls, torch_cls, shape, flags):
    mine = mine_cls(shape[1], dtype=torch.float64, **flags)
    theirs = torch_cls(shape[1], dtype=torch.float64, **flags)
    params = lambda m: [p for p in m.parameters()]
    opt_m = torch.optim.SGD(params(mine), lr=0.1) if params(mine) else None
    opt_t = torch.optim.SGD(params(theirs), lr=0.1) if params(theirs) else None
    for x, grad in batches(shape, 4):               # 여러 훈련 걸음: 출력, 기울기, 버퍼, γ/β
        for a, b in zip(step(mine, opt_m, x, grad), step(theirs, opt_t, x, grad)):
            torch.testing.assert_close(a, b, **F64)
        assert_same_state(mine, theirs, **F64)
    mine.eval(), theirs.eval()
    for x, grad in batches(shape, 2, seed=1):       # 평가: running 통계(또는 추적 안 하면 배치 통계)
        for a, b in zip(step(mine, None, x, grad), step(theirs, None, x, grad)):
            torch.testing.assert_close(a, b, **F64)
    assert_same_state(mine, theirs, **F64)


def test_float32_module_matches_torch_default_tolerance():
    mine, theirs = bnref.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    for x, grad in batches((4, 3, 5, 5), 3):
        for a, b in zip(step(mine, None, x.float(), grad.float()), step(theirs, None, x.float(), grad.float())):
            torch.testing.assert_close(a, b)
    assert_same_state(mine, theirs)


def test_momentum_none_is_cumulative_average():
    bn = bnref.BatchNorm1d(2, momentum=None, dtype=torch.float64)
    xs = [x for x, _ in batches((5, 2), 3)]
    for x in xs:
        bn(x)
    torch.testing.assert_close(bn.running_mean, torch.stack([x.mean(0) for x in xs]).mean(0), **F64)
    torch.testing.assert_close(bn.running_var, torch.stack([x.var(0) for x in xs]).mean(0), **F64)
    assert bn.num_batches_tracked.item() == 3


def test_defaults_parameters_and_buffers():
    bn, ref = bnref.BatchNorm2d(4), torch.nn.BatchNorm2d(4)
    assert [n for n, _ in bn.named_parameters()] == [n for n, _ in ref.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == [n for n, _ in ref.named_buffers()]
    assert_same_state(bn, ref)
    assert bn.num_batches_tracked.dtype == torch.long
    assert (bn.eps, bn.momentum, bn.affine, bn.track_running_stats) == (1e-5, 0.1, True, True)


@pytest.mark.parametrize("flags", FLAGS, ids=str)
def test_repr_like_torch(flags):
    for mine, theirs in ((bnref.BatchNorm1d, torch.nn.BatchNorm1d), (bnref.BatchNorm3d, torch.nn.BatchNorm3d)):
        assert repr(mine(7, **flags)) == repr(theirs(7, **flags))


def test_without_tracking_buffers_are_none_and_eval_uses_batch_stats():
    bn = bnref.BatchNorm1d(3, track_running_stats=False).eval()
    assert bn.running_mean is None and bn.running_var is None and bn.num_batches_tracked is None
    y = bn(torch.arange(12.0).reshape(4, 3))
    torch.testing.assert_close(y.mean(0), torch.zeros(3), atol=1e-6, rtol=0)


def test_affine_false_has_no_parameters():
    bn = bnref.BatchNorm2d(3, affine=False)
    assert bn.weight is None and bn.bias is None and list(bn.parameters()) == []


def test_training_flag_alone_decides_mode():
    bn = bnref.BatchNorm1d(3)
    x = torch.randn(5, 3) * 4 + 7
    with torch.no_grad():                 # no_grad 이어도 훈련 모드면 배치 통계를 쓰고 갱신합니다
        y = bn(x)
    torch.testing.assert_close(y.mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    assert bn.num_batches_tracked.item() == 1 and not bn.running_mean.requires_grad
    bn.eval()
    before = copy.deepcopy(bn.state_dict())
    x.requires_grad_()
    bn(x).sum().backward()                # 기울기를 켜도 평가 모드면 running 통계를 바꾸지 않습니다
    assert_same_state(bn, _loaded(bnref.BatchNorm1d(3), before))


def _loaded(module, state):
    module.load_state_dict(state)
    return module


@pytest.mark.parametrize("mine_cls, torch_cls, shape", PAIRS)
def test_state_dict_loads_both_ways(mine_cls, torch_cls, shape):
    trained_t, trained_m = torch_cls(shape[1]), mine_cls(shape[1])
    for x, grad in batches(shape, 3):
        step(trained_t, None, x.float(), grad.float())
        step(trained_m, None, x.float(), grad.float())
    with torch.no_grad():
        trained_t.weight.mul_(2), trained_t.bias.add_(1)
        trained_m.weight.sub_(1), trained_m.bias.add_(3)
    x = batches(shape, 1, seed=5)[0][0].float()
    for source, target_cls, other_cls in ((trained_t, mine_cls, torch_cls), (trained_m, torch_cls, mine_cls)):
        target = _loaded(target_cls(shape[1]), source.state_dict()).eval()
        assert_same_state(target, source)
        torch.testing.assert_close(target(x), source.eval()(x))
        source.train()


def test_loads_old_state_dict_without_num_batches_tracked():
    state = torch.nn.BatchNorm1d(3).state_dict()
    del state["num_batches_tracked"]
    state._metadata[""]["version"] = 1
    for cls in (bnref.BatchNorm1d, torch.nn.BatchNorm1d):
        bn = cls(3)
        bn.load_state_dict(state)
        assert bn.num_batches_tracked.item() == 0


def test_reset_running_stats_and_parameters():
    bn = bnref.BatchNorm1d(3)
    for x, _ in batches((5, 3), 2):
        bn(x.float())
    with torch.no_grad():
        bn.weight.fill_(3), bn.bias.fill_(2)
    bn.reset_running_stats()
    assert_same_state(_loaded(bnref.BatchNorm1d(3), {**bn.state_dict()}), bn)
    assert bn.running_mean.eq(0).all() and bn.running_var.eq(1).all() and bn.num_batches_tracked.item() == 0
    assert bn.weight.eq(3).all()
    bn.reset_parameters()
    assert_same_state(bn, torch.nn.BatchNorm1d(3))


def test_dtype_keyword_and_half_input():
    bn = bnref.BatchNorm2d(3, dtype=torch.float64)
    assert bn.weight.dtype == bn.running_var.dtype == torch.float64
    bn16, ref16 = bnref.BatchNorm2d(3), torch.nn.BatchNorm2d(3)   # float16 입력, float32 매개변수
    x = torch.randn(4, 3, 3, 3).half()
    y, want = bn16(x), ref16(x)
    assert y.dtype == want.dtype == torch.float16
    torch.testing.assert_close(y, want, rtol=2e-3, atol=2e-3)


def test_empty_batch_counts_but_keeps_stats():
    for cls in (bnref.BatchNorm1d, torch.nn.BatchNorm1d):
        bn = cls(3)
        y = bn(torch.randn(0, 3))
        assert y.shape == (0, 3) and bn.num_batches_tracked.item() == 1
        assert bn.running_mean.eq(0).all() and bn.running_var.eq(1).all()


def test_batch_of_one_in_eval():
    mine, theirs = bnref.BatchNorm1d(3).eval(), torch.nn.BatchNorm1d(3).eval()
    x = torch.randn(1, 3)
    torch.testing.assert_close(mine(x), theirs(x))
