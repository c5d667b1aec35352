"""나쁜 입력: torch 와 같은 예외 종류, 같은 문장. 그리고 torch 와 달리 아무것도 바꾸지 않습니다."""
import copy
import itertools

import pytest
import torch
import torch.nn.functional as TF

import bnref
from bnref import functional as BF


def raised(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 — 어떤 예외든 종류와 문장을 비교합니다
        return type(e), str(e)
    return None


def call(x=(4, 3), rm=3, rv=3, w=None, b=None, training=True, eps=1e-5, momentum=0.1,
         dtype=torch.float32, x_dtype=None, rm_dtype=None, rm_grad=False, rm_dims=1):
    """나쁜 호출 하나를 만듭니다: 숫자는 채널 수, None 은 빠진 텐서."""
    def t(n, fill, dt):
        if n is None:
            return None
        return torch.full((1,) * (rm_dims - 1) + (n,), fill, dtype=dt)
    xs = torch.ones(x, dtype=x_dtype or dtype) if isinstance(x, tuple) else x
    rmt, rvt = t(rm, 0.0, rm_dtype or dtype), t(rv, 1.0, rm_dtype or dtype)
    if rm_grad:
        rmt.requires_grad_()
    return dict(input=xs, running_mean=rmt, running_var=rvt, weight=t(w, 1.0, dtype), bias=t(b, 0.0, dtype),
                training=training, momentum=momentum, eps=eps)


BAD_CALLS = {
    "one value per channel (N, C)": call(x=(1, 3)),
    "one value per channel (N, C, 1)": call(x=(1, 3, 1)),
    "one value per channel (N, C, 1, 1)": call(x=(1, 3, 1, 1), rm=None, rv=None),
    "eps 0 in training": call(eps=0.0),
    "eps negative in training": call(eps=-1.0),
    "eps negative in eval": call(eps=-1.0, training=False),
    "momentum None": call(momentum=None),
    "running_mean size": call(x=(4, 5)),
    "running_var size": call(rv=5),
    "weight size": call(w=5),
    "bias size": call(w=3, b=2),
    "weight and bias size, eval": call(w=5, b=5, training=False),
    "running_mean missing in eval": call(rm=None, training=False),
    "running_var missing in eval": call(rv=None, training=False),
    "only one running buffer": call(rv=None),
    "only the other running buffer": call(rm=None),
    "integer input": call(x_dtype=torch.long, rm=None, rv=None),
    "integer input, eval": call(x_dtype=torch.int32, training=False),
    "bool input": call(x_dtype=torch.bool, rm=None, rv=None),
    "complex input": call(x_dtype=torch.complex64, rm=None, rv=None),
    "float64 buffers, float32 input": call(rm_dtype=torch.float64),
    "float32 buffers, float64 input": call(x_dtype=torch.float64),
    "integer buffers": call(rm_dtype=torch.long),
    "buffer requires grad": call(rm_grad=True),
    "buffer requires grad, eval": call(rm_grad=True, training=False),
    "2-D running_mean": call(rm_dims=2),
    "1-D input": call(x=(3,), rm=None, rv=None),
    "1-D input, eval": call(x=(3,), rm=0, rv=0, training=False),
    "1-D input, buffers": call(x=(3,)),
    "0-D input": call(x=(), rm=None, rv=None),
    "size before dtype": call(x=(4, 5), x_dtype=torch.long),
    "batch size before eps": call(x=(1, 3), eps=0.0),
}


@pytest.mark.parametrize("kwargs", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_functional_raises_like_torch_and_changes_nothing(kwargs):
    want = raised(lambda: TF.batch_norm(**copy.deepcopy(kwargs)))
    assert want is not None, "torch accepts this call: not a bad call"
    mine = copy.deepcopy(kwargs)
    assert raised(lambda: BF.batch_norm(**mine)) == want
    for k in ("running_mean", "running_var"):
        if kwargs[k] is not None:
            assert torch.equal(mine[k], kwargs[k]), k


@pytest.mark.parametrize("training", [True, False])
def test_dtype_rules_like_torch(training):
    # 입력 dtype × 매개변수 dtype 의 모든 조합 (running_mean 과 running_var 는 같은 dtype).
    dtypes = [torch.float16, torch.bfloat16, torch.float32, torch.float64, None]
    checked = 0
    for xd in dtypes[:4]:
        for wd, bd, rd in itertools.product(dtypes, repeat=3):
            if rd is None and not training:
                continue
            args = dict(input=torch.ones(4, 3, dtype=xd), training=training,
                        weight=None if wd is None else torch.ones(3, dtype=wd),
                        bias=None if bd is None else torch.zeros(3, dtype=bd),
                        running_mean=None if rd is None else torch.zeros(3, dtype=rd),
                        running_var=None if rd is None else torch.ones(3, dtype=rd))
            want = raised(lambda: TF.batch_norm(**copy.deepcopy(args)))
            assert raised(lambda: BF.batch_norm(**copy.deepcopy(args))) == want, (xd, wd, bd, rd)
            checked += want is not None
    assert checked > 100


def test_messages_from_the_issue():
    cases = [
        (lambda f: f(torch.ones(1, 3), None, None, training=True), ValueError,
         "Expected more than 1 value per channel when training, got input size torch.Size([1, 3])"),
        (lambda f: f(torch.ones(4, 5), torch.zeros(3), torch.ones(3), training=True), RuntimeError,
         "running_mean should contain 5 elements not 3"),
        (lambda f: f(torch.ones(4, 3), None, None, training=True, eps=0.0), ValueError,
         "batch_norm eps must be positive during training, but got 0.0"),
        (lambda f: f(torch.ones(4, 3), None, None, training=False), RuntimeError,
         "running_mean must be defined in evaluation mode"),
        (lambda f: f(torch.ones(4, 3, dtype=torch.long), None, None, training=True), NotImplementedError,
         "\"batch_norm\" not implemented for 'Long'"),
    ]
    for fn, kind, message in cases:
        for f in (TF.batch_norm, BF.batch_norm):
            assert raised(lambda: fn(f)) == (kind, message)


MODULE_CASES = [  # (클래스 이름, 생성 인자, 입력 모양, 입력 dtype, 거절되는 모드)
    ("BatchNorm1d", {}, (4, 3, 2, 2), torch.float32, "train eval"),
    ("BatchNorm1d", {}, (3,), torch.float32, "train eval"),
    ("BatchNorm2d", {}, (4, 3, 2), torch.float32, "train eval"),
    ("BatchNorm3d", {}, (4, 3, 2, 2), torch.float32, "train eval"),
    ("BatchNorm1d", {}, (1, 3), torch.float32, "train"),            # 평가에서는 N=1 도 됩니다
    ("BatchNorm2d", {}, (1, 3, 1, 1), torch.float32, "train"),
    ("BatchNorm1d", {"eps": 0}, (4, 3), torch.float32, "train"),    # 평가에서는 eps=0 도 됩니다
    ("BatchNorm1d", {"eps": 0.0, "momentum": None}, (4, 3), torch.float32, "train"),
    ("BatchNorm1d", {}, (4, 5), torch.float32, "train eval"),
    ("BatchNorm2d", {}, (4, 3, 2, 2), torch.long, "train eval"),
    ("BatchNorm1d", {}, (4, 3), torch.float64, "train eval"),
    ("BatchNorm1d", {"track_running_stats": False}, (1, 3), torch.float32, "train eval"),
]


@pytest.mark.parametrize("name, kwargs, shape, dtype, training", [
    (*case[:4], mode == "train") for case in MODULE_CASES for mode in case[4].split()])
def test_module_raises_like_torch_and_changes_nothing(name, kwargs, shape, dtype, training):
    theirs = getattr(torch.nn, name)(3, **kwargs).train(training)
    mine = getattr(bnref, name)(3, **kwargs).train(training)
    x = torch.ones(shape, dtype=dtype)
    want = raised(lambda: theirs(x))
    assert want is not None, "torch accepts this input in this mode: not a bad call"
    before = copy.deepcopy(mine.state_dict())
    assert raised(lambda: mine(x)) == want
    after = mine.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)   # num_batches_tracked 포함, 그대로


def test_torch_counts_a_rejected_batch_but_bnref_does_not():
    theirs, mine = torch.nn.BatchNorm1d(3), bnref.BatchNorm1d(3)
    for bn in (theirs, mine):
        with pytest.raises(ValueError):
            bn(torch.ones(1, 3))
    assert theirs.num_batches_tracked.item() == 1       # torch 는 올린 뒤에 거절합니다
    assert mine.num_batches_tracked.item() == 0
