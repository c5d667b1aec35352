"""bnref.norms 대 torch: LayerNorm, GroupNorm, InstanceNorm 의 출력, 기울기, running 통계, 오류.

float64 는 좁은 허용 오차, float32 는 torch 의 기본 허용 오차(assert_close)로 비교합니다.
"""
import pytest
import torch
import torch.nn.functional as TF
from torch import nn

import bnref
from bnref import norms as BN

TIGHT = {torch.float64: dict(rtol=1e-10, atol=1e-12), torch.float32: {}}
DTYPES = [torch.float64, torch.float32]


def randn(*shape, dtype=torch.float64, seed=0, scale=3.0, offset=2.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * scale + offset).to(dtype)


def forward_backward(fn, x, params):
    """fn(x, *params) 의 출력과, 무작위 dy 를 흘린 기울기 (x 와 params 각각)."""
    x = x.clone().requires_grad_()
    params = [None if p is None else p.clone().requires_grad_() for p in params]
    y = fn(x, *params)
    y.backward(randn(*y.shape, dtype=y.dtype, seed=7, offset=0.0))
    return [y, x.grad] + [None if p is None else p.grad for p in params]


def assert_all_close(got, want, dtype):
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        if w is None:
            assert g is None, i
        else:
            assert g.dtype == w.dtype, i
            torch.testing.assert_close(g, w, msg=f"result {i}", **TIGHT[dtype])


# ---------------------------------------------------------------- layer norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, normalized_shape", [((8, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)),
                                                     ((2, 3, 2, 5), (3, 2, 5))])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(shape, normalized_shape, affine, dtype):
    x = randn(*shape, dtype=dtype)
    params = [randn(*normalized_shape, dtype=dtype, seed=s) if affine else None for s in (1, 2)]
    got = forward_backward(lambda x, w, b: BN.layer_norm(x, normalized_shape, w, b), x, params)
    want = forward_backward(lambda x, w, b: TF.layer_norm(x, normalized_shape, w, b), x, params)
    assert_all_close(got, want, dtype)


def test_layer_norm_normalises_each_sample_alone():
    x = randn(5, 6)
    y = BN.layer_norm(x, (6,))
    torch.testing.assert_close(y[2], BN.layer_norm(x[2:3], (6,))[0])      # 다른 샘플을 보지 않음
    torch.testing.assert_close(y.mean(1), torch.zeros(5, dtype=x.dtype), atol=1e-12, rtol=0)
    torch.testing.assert_close(y.var(1, correction=0), torch.full((5,), 1.0, dtype=x.dtype), atol=1e-5, rtol=0)


def test_layer_norm_of_one_value_is_zero_like_torch():
    x = randn(4, 1)
    torch.testing.assert_close(BN.layer_norm(x, (1,)), TF.layer_norm(x, (1,)))


def test_layer_norm_module_matches_torch():
    x = randn(2, 3, 4)
    mine, theirs = bnref.LayerNorm((3, 4), bias=False).double(), nn.LayerNorm((3, 4), bias=False).double()
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()] == ["weight"]
    assert mine.extra_repr() == theirs.extra_repr()
    torch.testing.assert_close(mine(x), theirs(x))
    assert bnref.LayerNorm(4).normalized_shape == (4,)


# ---------------------------------------------------------------- group norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, groups", [((4, 6), 3), ((2, 6, 5), 2), ((2, 6, 3, 4), 3), ((2, 6, 3, 4), 1),
                                           ((2, 6, 3, 4), 6), ((1, 4, 2, 2, 2), 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_torch(shape, groups, affine, dtype):
    x = randn(*shape, dtype=dtype)
    params = [randn(shape[1], dtype=dtype, seed=s) if affine else None for s in (1, 2)]
    got = forward_backward(lambda x, w, b: BN.group_norm(x, groups, w, b), x, params)
    want = forward_backward(lambda x, w, b: TF.group_norm(x, groups, w, b), x, params)
    assert_all_close(got, want, dtype)


def test_group_norm_with_one_group_is_layer_norm_over_all_but_batch():
    x = randn(2, 6, 3, 4)
    torch.testing.assert_close(BN.group_norm(x, 1), BN.layer_norm(x, (6, 3, 4)))


def test_group_norm_module_matches_torch():
    x = randn(2, 6, 5, dtype=torch.float32)
    mine, theirs = bnref.GroupNorm(3, 6), nn.GroupNorm(3, 6)
    assert mine.extra_repr() == theirs.extra_repr()
    assert mine.state_dict().keys() == theirs.state_dict().keys()
    torch.testing.assert_close(mine(x), theirs(x))


# ---------------------------------------------------------------- instance norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3, 5), (2, 3, 4, 5), (1, 2, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_matches_torch(shape, affine, dtype):
    x = randn(*shape, dtype=dtype)
    params = [randn(shape[1], dtype=dtype, seed=s) if affine else None for s in (1, 2)]
    got = forward_backward(lambda x, w, b: BN.instance_norm(x, weight=w, bias=b), x, params)
    want = forward_backward(lambda x, w, b: TF.instance_norm(x, weight=w, bias=b), x, params)
    assert_all_close(got, want, dtype)


@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm_running_stats_match_torch(use_input_stats):
    x = randn(4, 3, 5)
    stats = {impl: (randn(3, seed=3), randn(3, seed=4, offset=5.0).abs()) for impl in ("mine", "torch")}
    y_mine = BN.instance_norm(x, *stats["mine"], use_input_stats=use_input_stats, momentum=0.3)
    y_torch = TF.instance_norm(x, *stats["torch"], use_input_stats=use_input_stats, momentum=0.3)
    torch.testing.assert_close(y_mine, y_torch, **TIGHT[torch.float64])
    for a, b in zip(stats["mine"], stats["torch"]):
        torch.testing.assert_close(a, b, **TIGHT[torch.float64])


@pytest.mark.parametrize("cls, shape", [("InstanceNorm1d", (4, 3, 5)), ("InstanceNorm1d", (3, 5)),
                                        ("InstanceNorm2d", (2, 3, 4, 5)), ("InstanceNorm2d", (3, 4, 5))])
@pytest.mark.parametrize("kwargs", [{}, dict(affine=True, track_running_stats=True), dict(track_running_stats=True,
                                                                                          momentum=None)])
def test_instance_norm_modules_match_torch_in_train_and_eval(cls, shape, kwargs):
    mine, theirs = getattr(bnref, cls)(3, **kwargs).double(), getattr(nn, cls)(3, **kwargs).double()
    assert mine.state_dict().keys() == theirs.state_dict().keys()
    for seed, train in [(0, True), (1, True), (2, False)]:
        x = randn(*shape, seed=seed)
        mine.train(train), theirs.train(train)
        torch.testing.assert_close(mine(x), theirs(x), **TIGHT[torch.float64])
    for (name, a), (_, b) in zip(mine.state_dict().items(), theirs.state_dict().items()):
        torch.testing.assert_close(a, b, msg=name, **TIGHT[torch.float64])


def test_instance_norm_defaults_are_torchs():
    m = bnref.InstanceNorm2d(3)
    assert (m.affine, m.track_running_stats, m.weight, m.running_mean) == (False, False, None, None)


def test_instance_norm_is_group_norm_with_one_channel_per_group():
    x = randn(2, 6, 3, 4)
    torch.testing.assert_close(BN.instance_norm(x), BN.group_norm(x, 6))


# ---------------------------------------------------------------- errors
X = randn(2, 6, 4, dtype=torch.float32)
ONES = torch.ones
ERRORS = {
    "ln shape": lambda F: F.layer_norm(X, (5,)),
    "ln shape too long": lambda F: F.layer_norm(X, (1, 2, 6, 4)),
    "ln empty shape": lambda F: F.layer_norm(X, ()),
    "ln int shape": lambda F: F.layer_norm(X, 4),
    "ln weight": lambda F: F.layer_norm(X, (4,), ONES(3)),
    "ln bias": lambda F: F.layer_norm(X, (4,), ONES(4), ONES(3)),
    "ln weight before input": lambda F: F.layer_norm(X, (5,), ONES(3)),
    "ln long": lambda F: F.layer_norm(ONES(2, 4, dtype=torch.long), (4,)),
    "ln mixed dtype": lambda F: F.layer_norm(X, (4,), ONES(4, dtype=torch.float64)),
    "gn 1d": lambda F: F.group_norm(ONES(6), 2),
    "gn one value per group": lambda F: F.group_norm(ONES(1, 6), 6),
    "gn not divisible": lambda F: F.group_norm(X, 4),
    "gn zero groups": lambda F: F.group_norm(X, 0),
    "gn weight": lambda F: F.group_norm(X, 2, ONES(3)),
    "gn weight 2d": lambda F: F.group_norm(X, 2, ONES(2, 3)),
    "gn bias": lambda F: F.group_norm(X, 2, ONES(6), ONES(3)),
    "gn bias no weight": lambda F: F.group_norm(X, 2, None, ONES(5)),
    "gn long": lambda F: F.group_norm(ONES(2, 4, dtype=torch.long), 2),
    "gn mixed dtype": lambda F: F.group_norm(X, 2, ONES(6, dtype=torch.float64)),
    "in one spatial": lambda F: F.instance_norm(ONES(2, 3, 1)),
    "in no spatial": lambda F: F.instance_norm(ONES(2, 3)),
    "in eval no stats": lambda F: F.instance_norm(X, use_input_stats=False),
    "in running size": lambda F: F.instance_norm(X, torch.zeros(5), ONES(5)),
    "in weight size": lambda F: F.instance_norm(X, None, None, ONES(5)),
    "in momentum None": lambda F: F.instance_norm(X, momentum=None),
    "in long": lambda F: F.instance_norm(ONES(2, 4, 3, dtype=torch.long)),
}
MODULE_ERRORS = {
    "GroupNorm not divisible": lambda nn: nn.GroupNorm(4, 6),
    "InstanceNorm1d 4d": lambda nn: nn.InstanceNorm1d(6)(ONES(2, 6, 4, 4)),
    "InstanceNorm2d 2d": lambda nn: nn.InstanceNorm2d(6)(ONES(6, 4)),
    "InstanceNorm1d affine size": lambda nn: nn.InstanceNorm1d(5, affine=True)(X),
    "InstanceNorm1d unbatched one spatial": lambda nn: nn.InstanceNorm1d(6)(ONES(6, 1)),
}


def raised(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("case", ERRORS)
def test_same_error_as_torch(case):
    assert raised(lambda: ERRORS[case](BN)) == raised(lambda: ERRORS[case](TF))


@pytest.mark.parametrize("case", MODULE_ERRORS)
def test_module_same_error_as_torch(case):
    assert raised(lambda: MODULE_ERRORS[case](bnref)) == raised(lambda: MODULE_ERRORS[case](nn))


def test_rejected_instance_norm_changes_nothing():
    rm, rv = torch.zeros(3), torch.ones(3)
    with pytest.raises(RuntimeError):
        BN.instance_norm(randn(2, 3, 4, dtype=torch.float32), rm, rv, ONES(4))
    assert rm.eq(0).all() and rv.eq(1).all()


def test_instance_norm_warns_like_torch_when_num_features_is_unused():
    x = randn(2, 6, 4)
    with pytest.warns(UserWarning) as mine:
        y = bnref.InstanceNorm1d(5)(x)
    with pytest.warns(UserWarning) as theirs:
        nn.InstanceNorm1d(5)(x)
    assert [str(w.message) for w in mine] == [str(w.message) for w in theirs]
    torch.testing.assert_close(y, TF.instance_norm(x))


@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "InstanceNorm1d",
                                  "InstanceNorm2d"])
def test_class_tree_is_torchs(name):
    """InstanceNorm shares its parameters with BatchNorm but is not a batch norm, in torch and here:
    code that picks batch-norm layers with isinstance(m, _BatchNorm) picks the same ones."""
    from bnref import modules

    ours, theirs = getattr(bnref, name)(3), getattr(nn, name)(3)
    assert isinstance(ours, modules._NormBase) and isinstance(theirs, nn.modules.batchnorm._NormBase)
    assert isinstance(ours, modules._BatchNorm) == isinstance(theirs, nn.modules.batchnorm._BatchNorm)


def test_convert_sync_batchnorm_leaves_instance_norm_alone_like_torch():
    net = nn.Sequential(bnref.BatchNorm1d(3), bnref.InstanceNorm1d(3), nn.BatchNorm1d(3))
    converted = bnref.SyncBatchNorm.convert_sync_batchnorm(net)
    assert [type(m).__name__ for m in converted] == ["SyncBatchNorm", "InstanceNorm1d", "SyncBatchNorm"]
