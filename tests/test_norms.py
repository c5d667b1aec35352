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


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_layer_norm_of_one_value_has_zero_input_gradient(dtype):
    """issue #11, 2: x̂ = 0 whatever x is, so dx = 0 exactly (torch gives 0). dx = a·dy + c with a = γ·invstd
    (≈ 1581 here) left a residue of about 2e-4 when a·dy and c were rounded differently."""
    x = torch.tensor([0.7], dtype=dtype, requires_grad=True)
    BN.layer_norm(x, (1,), torch.tensor([5.0], dtype=dtype)).backward(torch.tensor([3.0], dtype=dtype))
    assert x.grad.tolist() == [0.0]
    x = randn(4, 1, dtype=dtype).requires_grad_()
    BN.layer_norm(x, (1,), randn(1, dtype=dtype, seed=1), randn(1, dtype=dtype, seed=2)).backward(
        randn(4, 1, dtype=dtype, seed=3))
    assert x.grad.eq(0).all()


def test_layer_norm_gradient_for_a_constant_dy_is_float32_exact():
    """dy = 3 everywhere (the gradient of 3·y.sum()): the exact dx is nearly 0, a·dy and −a·mean(dy) cancel.
    Rounded apart they left 6e-5 here (a ≈ 300, x spread 1e-3); torch's own kernel leaves 6e-3."""
    x = randn(8, 5, dtype=torch.float32, scale=1e-3, offset=1.0)
    grads = {}
    for dtype in (torch.float32, torch.float64):
        xs = x.to(dtype, copy=True).requires_grad_()
        (3 * BN.layer_norm(xs, (5,))).sum().backward()
        grads[dtype] = xs.grad
    assert (grads[torch.float32].double() - grads[torch.float64]).abs().max() < 1e-9


def test_layer_norm_module_matches_torch():
    x = randn(2, 3, 4)
    mine, theirs = bnref.LayerNorm((3, 4), bias=False).double(), nn.LayerNorm((3, 4), bias=False).double()
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()] == ["weight"]
    assert mine.extra_repr() == theirs.extra_repr()
    torch.testing.assert_close(mine(x), theirs(x))
    assert bnref.LayerNorm(4).normalized_shape == (4,)


# ---------------------------------------------------------------- half precision
def test_half_layer_norm_from_the_issue():
    """issue #11, 3: torch applies γ, β in float32 and rounds once; bnref rounded x̂ to float16 first."""
    x, w, b = (torch.tensor(v, dtype=torch.float16) for v in ([[1, 2, 4]], [7, -7, 3], [0.3, 0.1, -3.6]))
    ours, theirs = BN.layer_norm(x, (3,), w, b), TF.layer_norm(x, (3,), w, b)
    exact = TF.layer_norm(x.double(), (3,), w.double(), b.double())
    assert ours[0, 2].item() == theirs[0, 2].item() == 0.4091796875      # exact: 0.409296
    assert (ours.double() - exact).abs().le((theirs.double() - exact).abs()).all()


HALF_CASES = {   # 이름: (함수, 입력 모양, γ·β의 모양)
    "layer_norm": (lambda x, w, b: BN.layer_norm(x, (6, 5), w, b), (8, 6, 5), (6, 5)),
    "group_norm": (lambda x, w, b: BN.group_norm(x, 3, w, b), (8, 6, 5), (6,)),
    "instance_norm": (lambda x, w, b: BN.instance_norm(x, weight=w, bias=b), (8, 6, 5), (6,)),
}


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("case", HALF_CASES)
def test_half_precision_is_float32_rounded_once(case, dtype):
    """float16/bfloat16 in, float32 inside, one rounding at the end, as torch's CPU kernels do: y and the
    gradients of x, γ and β equal the float32 results (from the same values) rounded once. The γ, β
    gradients sum over the batch; instance_norm's γ gradient used to be rounded per sample before the sum,
    and layer_norm/group_norm rounded x̂, x̂·γ and x̂·γ + β each to half precision."""
    fn, shape, param_shape = HALF_CASES[case]
    x = randn(*shape, dtype=dtype)
    params = [randn(*param_shape, dtype=dtype, seed=s) for s in (1, 2)]
    dy = randn(*shape, dtype=dtype, seed=7, offset=0.0)
    results = {}
    for precision in (dtype, torch.float32):      # the same half-precision values, and them in float32
        leaves = [t.detach().to(precision, copy=True).requires_grad_() for t in (x, *params)]
        y = fn(*leaves)
        y.backward(dy.to(precision))
        results[precision] = [y.detach()] + [t.grad for t in leaves]
    for name, got, wide in zip(["y", "dx", "dγ", "dβ"], results[dtype], results[torch.float32]):
        assert got.dtype == dtype, name
        assert torch.equal(got, wide.to(dtype)), name


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
                                        ("InstanceNorm2d", (2, 3, 4, 5)), ("InstanceNorm2d", (3, 4, 5)),
                                        ("InstanceNorm3d", (2, 3, 2, 3, 4)), ("InstanceNorm3d", (3, 2, 3, 4))])
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


@pytest.mark.parametrize("cls", ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"])
def test_instance_norm_defaults_are_torchs(cls):
    m = getattr(bnref, cls)(3)
    assert (m.affine, m.track_running_stats, m.weight, m.running_mean) == (False, False, None, None)
    assert repr(m) == repr(getattr(nn, cls)(3))


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
    "InstanceNorm3d 3d": lambda nn: nn.InstanceNorm3d(6)(ONES(6, 4, 4)),
    "InstanceNorm3d affine size": lambda nn: nn.InstanceNorm3d(5, affine=True)(ONES(2, 6, 2, 2, 2)),
    "InstanceNorm3d unbatched one spatial": lambda nn: nn.InstanceNorm3d(6)(ONES(6, 1, 1, 1)),
    "InstanceNorm1d affine size": lambda nn: nn.InstanceNorm1d(5, affine=True)(X),
    "InstanceNorm1d unbatched one spatial": lambda nn: nn.InstanceNorm1d(6)(ONES(6, 1)),
}


def raised(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


# ---------------------------------------------------------------- empty inputs (issue #11, 1)
E = torch.empty
EMPTY = {
    "ln (0, 5)": lambda F: F.layer_norm(E(0, 5), (5,), ONES(5), ONES(5)),
    "ln (3, 0)": lambda F: F.layer_norm(E(3, 0), (0,)),
    "ln (3, 0, 2)": lambda F: F.layer_norm(E(3, 0, 2), (0, 2), ONES(0, 2)),
    "ln long": lambda F: F.layer_norm(E(0, 5, dtype=torch.long), (5,)),
    "ln mixed dtype": lambda F: F.layer_norm(E(0, 5), (5,), ONES(5, dtype=torch.float64)),
    "ln half with float32 γ": lambda F: F.layer_norm(E(0, 5, dtype=torch.float16), (5,), ONES(5)),
    "gn (0, 2)": lambda F: F.group_norm(E(0, 2), 1),
    "gn (2, 0)": lambda F: F.group_norm(E(2, 0), 1),
    "gn (2, 4, 0)": lambda F: F.group_norm(E(2, 4, 0), 2, ONES(4), ONES(4)),
    "gn (0, 4, 0)": lambda F: F.group_norm(E(0, 4, 0), 2),
    "gn long": lambda F: F.group_norm(E(0, 5, dtype=torch.long), 5),
    "in (0, 4, 3)": lambda F: F.instance_norm(E(0, 4, 3)),
    "in (2, 0, 3)": lambda F: F.instance_norm(E(2, 0, 3)),
    "in (2, 4, 0)": lambda F: F.instance_norm(E(2, 4, 0), weight=ONES(4)),
    "in (0, 4, 3) with γ": lambda F: F.instance_norm(E(0, 4, 3), weight=ONES(4)),        # torch: IndexError
    "in long": lambda F: F.instance_norm(E(0, 4, 3, dtype=torch.long)),
    "in eval": lambda F: F.instance_norm(E(0, 4, 3), torch.zeros(4), ONES(4), use_input_stats=False),
}


def result_or_error(fn):
    try:
        y = fn()
    except Exception as e:  # noqa: BLE001 — 어떤 예외든 종류와 문장을 비교합니다
        return type(e), str(e)
    return y.dtype, tuple(y.shape)


@pytest.mark.parametrize("case", EMPTY)
def test_empty_input_like_torch(case):
    assert result_or_error(lambda: EMPTY[case](BN)) == result_or_error(lambda: EMPTY[case](TF))


def test_empty_inputs_from_the_issue():
    assert bnref.LayerNorm(5)(torch.randn(0, 5)).shape == (0, 5)
    assert BN.group_norm(torch.randn(0, 2), 1).shape == (0, 2)


@pytest.mark.parametrize("fn", [lambda F, x, w, b: F.layer_norm(x, (5,), w, b),
                                lambda F, x, w, b: F.group_norm(x.view(0, 5, 1), 5, w, b)], ids=["ln", "gn"])
def test_empty_input_gradients_are_zero_like_torch(fn):
    grads = []
    for F in (BN, TF):
        x, w, b = E(0, 5, requires_grad=True), ONES(5, requires_grad=True), ONES(5, requires_grad=True)
        fn(F, x, w, b).sum().backward()
        grads.append((x.grad, w.grad, b.grad))
    for mine, theirs in zip(*grads):
        torch.testing.assert_close(mine, theirs)


@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm_of_an_empty_batch_updates_running_stats_like_torch(use_input_stats):
    """torch averages the N = 0 per-sample updates back into running_mean/var: a mean over nothing, nan.
    bnref does the same, being torch's twin; in eval (use_input_stats=False) nothing changes."""
    stats = {F: (torch.full((4,), 0.5), torch.full((4,), 2.0)) for F in (BN, TF)}
    for F, (rm, rv) in stats.items():
        F.instance_norm(E(0, 4, 3), rm, rv, use_input_stats=use_input_stats)
    for mine, theirs in zip(stats[BN], stats[TF]):
        torch.testing.assert_close(mine, theirs, equal_nan=True)


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
                                  "InstanceNorm2d", "InstanceNorm3d"])
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
