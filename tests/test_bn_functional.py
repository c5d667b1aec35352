"""bnref.functional.batch_norm 대 torch.nn.functional.batch_norm: 같은 입력, 같은 결과.

출력, 제자리 갱신된 running 통계, 그리고 손으로 쓴 역전파의 dx, dγ, dβ 를 비교합니다.
float64 는 좁은 허용 오차, float32 는 torch 의 기본 허용 오차(assert_close)로.
"""
import pytest
import torch
import torch.nn.functional as TF

from bnref import functional as BF

SHAPES = [(8, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 3, 4)]
TIGHT = {torch.float64: dict(rtol=1e-10, atol=1e-12), torch.float32: {}}


def make(shape, dtype=torch.float64, seed=0, offset=2.0):
    """입력, γ, β, running 통계, 역전파로 흘릴 기울기 (채널 수 = shape[1])."""
    g = torch.Generator().manual_seed(seed)
    C = shape[1]
    return dict(
        x=(torch.randn(shape, generator=g, dtype=torch.float64) * 3 + offset).to(dtype),
        weight=torch.randn(C, generator=g, dtype=torch.float64).to(dtype),
        bias=torch.randn(C, generator=g, dtype=torch.float64).to(dtype),
        running_mean=torch.randn(C, generator=g, dtype=torch.float64).to(dtype),
        running_var=(torch.rand(C, generator=g, dtype=torch.float64) + 0.5).to(dtype),
        grad=torch.randn(shape, generator=g, dtype=torch.float64).to(dtype),
    )


def run(batch_norm, d, training, momentum=0.1, eps=1e-5, affine=True, stats=True, layout=lambda t: t):
    """한 구현으로 정방향+역전파: 모든 결과를 dict 로."""
    x = layout(d["x"].clone()).requires_grad_()
    w = d["weight"].clone().requires_grad_() if affine else None
    b = d["bias"].clone().requires_grad_() if affine else None
    rm = d["running_mean"].clone() if stats else None
    rv = d["running_var"].clone() if stats else None
    y = batch_norm(x, rm, rv, w, b, training=training, momentum=momentum, eps=eps)
    y.backward(layout(d["grad"].clone()))
    out = dict(y=y, running_mean=rm, running_var=rv, dx=x.grad)
    if affine:
        out.update(dweight=w.grad, dbias=b.grad)
    return out


def assert_same(got, want, **tol):
    assert got.keys() == want.keys()
    for k in want:
        if want[k] is None:
            assert got[k] is None, k
        else:
            assert got[k].dtype == want[k].dtype, k
            torch.testing.assert_close(got[k], want[k], msg=k, **tol)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_matches_torch(shape, training, dtype):
    d = make(shape, dtype)
    assert_same(run(BF.batch_norm, d, training), run(TF.batch_norm, d, training), **TIGHT[dtype])


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("stats", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_training_with_and_without_affine_and_buffers(shape, affine, stats):
    d = make(shape, seed=1)
    want = run(TF.batch_norm, d, True, affine=affine, stats=stats)
    assert_same(run(BF.batch_norm, d, True, affine=affine, stats=stats), want, **TIGHT[torch.float64])


@pytest.mark.parametrize("momentum", [0.0, 0.25, 1.0])
@pytest.mark.parametrize("eps", [1e-5, 1e-2])
def test_momentum_and_eps(momentum, eps):
    d = make((6, 4, 3), seed=2)
    want = run(TF.batch_norm, d, True, momentum=momentum, eps=eps)
    assert_same(run(BF.batch_norm, d, True, momentum=momentum, eps=eps), want, **TIGHT[torch.float64])


def test_eval_allows_eps_zero():
    d = make((5, 3))
    assert_same(run(BF.batch_norm, d, False, eps=0.0), run(TF.batch_norm, d, False, eps=0.0), **TIGHT[torch.float64])


def test_normalises_with_biased_and_tracks_unbiased_variance():
    # 한 채널 [1, 2, 3, 4]: 편향 분산 1.25 로 정규화, running_var 에는 불편 분산 5/3.
    x = torch.tensor([[1.0], [2.0], [3.0], [4.0]], dtype=torch.float64)
    rm, rv = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    y = BF.batch_norm(x, rm, rv, training=True)
    torch.testing.assert_close(y.flatten(), (x.flatten() - 2.5) / (1.25 + 1e-5) ** 0.5)
    torch.testing.assert_close(rm, torch.tensor([0.25], dtype=torch.float64))
    torch.testing.assert_close(rv, torch.tensor([0.9 + 0.1 * 5 / 3], dtype=torch.float64))


def test_gamma_scales_and_beta_shifts():
    x = torch.tensor([[1.0], [3.0]], dtype=torch.float64)
    y = BF.batch_norm(x, None, None, torch.tensor([2.0], dtype=torch.float64),
                      torch.tensor([10.0], dtype=torch.float64), training=True, eps=0.5)
    torch.testing.assert_close(y.flatten(), torch.tensor([10 - 2 / 1.5 ** 0.5, 10 + 2 / 1.5 ** 0.5], dtype=torch.float64))


@pytest.mark.parametrize("training", [True, False])
def test_channels_last(training):
    d = make((3, 4, 5, 6), torch.float32)
    cl = lambda t: t.contiguous(memory_format=torch.channels_last)
    got, want = run(BF.batch_norm, d, training, layout=cl), run(TF.batch_norm, d, training, layout=cl)
    assert_same(got, want)
    assert got["y"].is_contiguous(memory_format=torch.channels_last) == want["y"].is_contiguous(
        memory_format=torch.channels_last)


@pytest.mark.parametrize("training", [True, False])
def test_non_contiguous_input(training):
    d = make((4, 3, 10))
    view = lambda t: t.transpose(0, 2).contiguous().transpose(0, 2)[..., ::2]  # 뒤섞인 보폭(stride), 건너뛰기
    assert not view(d["x"]).is_contiguous()
    assert_same(run(BF.batch_norm, d, training, layout=view), run(TF.batch_norm, d, training, layout=view),
                **TIGHT[torch.float64])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("training", [True, False])
def test_half_precision_returns_input_dtype(dtype, training):
    d = make((16, 3, 4), torch.float32)
    x = d["x"].to(dtype)
    for params in (dtype, torch.float32):   # 같은 dtype 의 매개변수, 또는 float32 매개변수(섞인 dtype)
        args = [d[k].to(params) for k in ("running_mean", "running_var", "weight", "bias")]
        a, b = [t.clone() for t in args], [t.clone() for t in args]
        want = TF.batch_norm(x, a[0], a[1], a[2], a[3], training=training)
        got = BF.batch_norm(x, b[0], b[1], b[2], b[3], training=training)
        assert got.dtype == want.dtype == dtype
        tol = dict(rtol=0.02, atol=0.02) if dtype == torch.bfloat16 else dict(rtol=2e-3, atol=2e-3)
        torch.testing.assert_close(got, want, **tol)
        torch.testing.assert_close(b[0], a[0], **tol)
        torch.testing.assert_close(b[1], a[1], **tol)


def test_nan_and_inf_poison_only_their_channel():
    d = make((6, 4, 3))
    d["x"][2, 1, 0] = float("nan")
    d["x"][0, 3, 1] = float("inf")
    got, want = run(BF.batch_norm, d, True), run(TF.batch_norm, d, True)
    for k in ("y", "running_mean", "running_var", "dx", "dweight"):
        g = got[k] if got[k].dim() == 1 else got[k].transpose(0, 1).reshape(4, -1)
        bad = ~g[[1, 3]].isfinite()
        assert (bad.any(dim=-1) if g.dim() > 1 else bad).all(), k
        assert g[[0, 2]].isfinite().all(), k
    assert_same(got, want, equal_nan=True, **TIGHT[torch.float64])


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4), (2, 3, 0), (0, 3, 2, 2)])
def test_empty_batch(shape):
    d = make(shape)
    got, want = run(BF.batch_norm, d, True), run(TF.batch_norm, d, True)
    assert got["y"].shape == shape
    torch.testing.assert_close(got["running_mean"], d["running_mean"])   # 아무 통계도 없으니 그대로
    torch.testing.assert_close(got["running_var"], d["running_var"])
    assert_same(got, want)


E = torch.empty
# 빈 입력 (issue #11, 1): torch의 C++ 커널은 빈 입력이면 다른 검사 없이 input의 복사본에 γ[0]을 곱하고
# β[0]을 더해 돌려줍니다. 1차원 입력은 비어 있을 때만 받습니다 ("1-D input"은 test_bn_errors.py).
EMPTY_CALLS = {
    "1-D, training": lambda F: F.batch_norm(E(0), E(0), E(0), training=True),
    "1-D, eval": lambda F: F.batch_norm(E(0), E(0), E(0), training=False),
    "1-D, no buffers": lambda F: F.batch_norm(E(0), None, None, training=True),
    "buffers of another size": lambda F: F.batch_norm(E(0, 3), torch.zeros(5), torch.ones(5), training=True),
    "eval without buffers": lambda F: F.batch_norm(E(0, 3), None, None),
    "float64 weight": lambda F: F.batch_norm(E(0, 3), None, None, torch.full((3,), 2.0, dtype=torch.float64),
                                             training=True),
    "integer input": lambda F: F.batch_norm(E(0, 3, dtype=torch.long), None, None, training=True),
    "empty weight": lambda F: F.batch_norm(E(0), None, None, E(0), training=True),
    "eps 0": lambda F: F.batch_norm(E(0), None, None, training=True, eps=0.0),
    "momentum None": lambda F: F.batch_norm(E(0), None, None, training=True, momentum=None),
}


def outcome(fn):
    """(dtype, shape) of the result, or (exception type, message)."""
    try:
        y = fn()
    except Exception as e:  # noqa: BLE001 — 어떤 예외든 종류와 문장을 비교합니다
        return type(e), str(e)
    return y.dtype, tuple(y.shape)


@pytest.mark.parametrize("case", EMPTY_CALLS)
def test_empty_input_like_torch(case):
    assert outcome(lambda: EMPTY_CALLS[case](BF)) == outcome(lambda: EMPTY_CALLS[case](TF))


def test_empty_1d_input_from_the_issue():
    y = BF.batch_norm(E(0), E(0), E(0), training=True)
    assert y.shape == (0,) and y.dtype == torch.float32


def test_batch_of_one_in_eval():
    d = make((1, 3, 2))
    assert_same(run(BF.batch_norm, d, False), run(TF.batch_norm, d, False), **TIGHT[torch.float64])


def test_running_stats_updated_in_place_without_autograd():
    d = make((5, 3))
    rm, rv = d["running_mean"].clone(), d["running_var"].clone()
    rm_ptr, rv_ptr = rm.data_ptr(), rv.data_ptr()
    y = BF.batch_norm(d["x"].requires_grad_(), rm, rv, training=True)
    assert y.requires_grad and not rm.requires_grad and not rv.requires_grad
    assert (rm.data_ptr(), rv.data_ptr()) == (rm_ptr, rv_ptr)
    assert not torch.equal(rm, d["running_mean"])


def test_backward_when_only_some_inputs_need_grad():
    d = make((6, 3, 2))
    for need in ([True, False, False], [False, True, False], [False, False, True]):
        x, w, b = d["x"].clone(), d["weight"].clone(), d["bias"].clone()
        for t, r in zip((x, w, b), need):
            t.requires_grad_(r)
        y = BF.batch_norm(x, None, None, w, b, training=True)
        y.backward(d["grad"])
        xt, wt, bt = [t.detach().clone().requires_grad_(r) for t, r in zip((x, w, b), need)]
        TF.batch_norm(xt, None, None, wt, bt, training=True).backward(d["grad"])
        for mine, theirs in zip((x, w, b), (xt, wt, bt)):
            assert (mine.grad is None) == (theirs.grad is None)
            if mine.grad is not None:
                torch.testing.assert_close(mine.grad, theirs.grad, **TIGHT[torch.float64])

