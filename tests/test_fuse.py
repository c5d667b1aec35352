"""bnref.fuse 대 torch.nn.utils.fusion 과 torch.optim.swa_utils.update_bn.

접은 층의 weight·bias 가 torch 의 것과 같고 (≤ 1e-6), 접은 층 하나의 출력이 원래의 층 + BN 과
같은지 봅니다. recalibrate_bn 은 누적 평균이 정확히 배치 통계들의 평균이 되는지도 확인합니다.
"""
import pytest
import torch
from torch import nn
from torch.nn.utils import fusion

import bnref
from bnref.fuse import fuse_conv_bn_eval, fuse_linear_bn_eval, recalibrate_bn

BN_CLASSES = {1: (nn.BatchNorm1d, bnref.BatchNorm1d), 2: (nn.BatchNorm2d, bnref.BatchNorm2d),
              3: (nn.BatchNorm3d, bnref.BatchNorm3d)}


def trained_bn(bn, seed=0):
    """running 통계와 γ, β 가 기본값이 아닌 평가 모드 BN."""
    g = torch.Generator().manual_seed(seed)
    C = bn.num_features
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(C, generator=g) * 2)
        bn.running_var.copy_(torch.rand(C, generator=g) * 3 + 0.1)
        if bn.affine:
            bn.weight.copy_(torch.randn(C, generator=g))
            bn.bias.copy_(torch.randn(C, generator=g))
    return bn.eval()


def assert_same_params(got, want, atol=1e-6):
    assert type(got) is type(want)
    for name in ("weight", "bias"):
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype and a.requires_grad == b.requires_grad, name
        torch.testing.assert_close(a, b, atol=atol, rtol=1e-6, msg=name)


@pytest.mark.parametrize("bn_impl", [0, 1], ids=["torch_bn", "bnref_bn"])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch_fusion(bias, bn_impl):
    torch.manual_seed(0)
    linear = nn.Linear(5, 4, bias=bias).eval()
    bn = trained_bn(BN_CLASSES[1][bn_impl](4))
    fused = fuse_linear_bn_eval(linear, bn)
    assert_same_params(fused, fusion.fuse_linear_bn_eval(linear, bn))
    x = torch.randn(8, 5)
    torch.testing.assert_close(fused(x), bn(linear(x)), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("bn_impl", [0, 1], ids=["torch_bn", "bnref_bn"])
@pytest.mark.parametrize("dims, groups, bias", [(1, 1, True), (2, 1, True), (2, 2, False), (3, 1, True)])
def test_conv_matches_torch_fusion(dims, groups, bias, bn_impl):
    torch.manual_seed(0)
    conv = getattr(nn, f"Conv{dims}d")(4, 6, 3, padding=1, groups=groups, bias=bias).eval()
    bn = trained_bn(BN_CLASSES[dims][bn_impl](6))
    fused = fuse_conv_bn_eval(conv, bn)
    assert_same_params(fused, fusion.fuse_conv_bn_eval(conv, bn))
    x = torch.randn(2, 4, *[5] * dims)
    torch.testing.assert_close(fused(x), bn(conv(x)), atol=1e-5, rtol=1e-5)


def test_conv_transpose_matches_torch_fusion():
    torch.manual_seed(0)
    conv = nn.ConvTranspose2d(4, 6, 3).eval()
    bn = trained_bn(nn.BatchNorm2d(6))
    fused = fuse_conv_bn_eval(conv, bn, transpose=True)
    assert_same_params(fused, fusion.fuse_conv_bn_eval(conv, bn, transpose=True))
    x = torch.randn(2, 4, 5, 5)
    torch.testing.assert_close(fused(x), bn(conv(x)), atol=1e-5, rtol=1e-5)


def test_bn_without_affine_folds_too():
    # torch.nn.utils.fusion.fuse_linear_bn_eval 은 affine=False 에서 None 을 곱하다 멈춥니다.
    torch.manual_seed(0)
    linear, bn = nn.Linear(3, 2).eval(), trained_bn(bnref.BatchNorm1d(2, affine=False))
    x = torch.randn(4, 3)
    torch.testing.assert_close(fuse_linear_bn_eval(linear, bn)(x), bn(linear(x)))


def test_float64_fold_is_exact():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3).double().eval()
    bn = trained_bn(bnref.BatchNorm2d(4)).double()
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    torch.testing.assert_close(fuse_conv_bn_eval(conv, bn)(x), bn(conv(x)), atol=1e-12, rtol=1e-12)


def test_originals_are_untouched():
    linear, bn = nn.Linear(3, 2).eval(), trained_bn(nn.BatchNorm1d(2))
    before = [p.clone() for p in linear.parameters()]
    fuse_linear_bn_eval(linear, bn)
    assert all(torch.equal(a, b) for a, b in zip(before, linear.parameters()))


ERRORS = {
    "linear training": lambda f: f.fuse_linear_bn_eval(nn.Linear(3, 2), nn.BatchNorm1d(2).eval()),
    "bn training": lambda f: f.fuse_linear_bn_eval(nn.Linear(3, 2).eval(), nn.BatchNorm1d(2)),
    "sizes": lambda f: f.fuse_linear_bn_eval(nn.Linear(3, 2).eval(), nn.BatchNorm1d(3).eval()),
    "no running stats": lambda f: f.fuse_linear_bn_eval(nn.Linear(3, 2).eval(),
                                                         nn.BatchNorm1d(2, track_running_stats=False).eval()),
    "conv training": lambda f: f.fuse_conv_bn_eval(nn.Conv2d(3, 2, 1), nn.BatchNorm2d(2).eval()),
    "conv no running stats": lambda f: f.fuse_conv_bn_eval(nn.Conv2d(3, 2, 1).eval(),
                                                           nn.BatchNorm2d(2, track_running_stats=False).eval()),
}


@pytest.mark.parametrize("case", ERRORS)
def test_same_error_as_torch(case):
    import bnref.fuse as mine

    def raised(module):
        with pytest.raises(Exception) as info:
            ERRORS[case](module)
        return type(info.value), str(info.value)

    assert raised(mine) == raised(fusion)


# ---------------------------------------------------------------- recalibrate_bn
def small_model(bn_cls=nn.BatchNorm1d, dropout=0.0):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6), bn_cls(6), nn.ReLU(), nn.Dropout(dropout), nn.Linear(6, 3), bn_cls(3))


def batches(k=5, n=16):
    g = torch.Generator().manual_seed(1)
    return [torch.randn(n, 4, generator=g) * 2 + 1 for _ in range(k)]


@pytest.mark.parametrize("bn_cls", [nn.BatchNorm1d, bnref.BatchNorm1d])
def test_recalibrate_matches_update_bn(bn_cls):
    # update_bn 은 torch 의 BN 층만 찾으므로, 비교 대상은 늘 torch BN 으로 만든 같은 모델입니다.
    mine, theirs = small_model(bn_cls), small_model(nn.BatchNorm1d)
    data = batches()
    for m in (mine, theirs):
        m.train()
        m(data[0] * 5)                  # 치우친 running 통계를 만들어 둠
    recalibrate_bn(mine, data)
    torch.optim.swa_utils.update_bn(data, theirs)
    for (name, a), (_, b) in zip(mine.state_dict().items(), theirs.state_dict().items()):
        torch.testing.assert_close(a, b, msg=name)


def test_recalibrated_stats_are_the_average_of_batch_stats():
    model = small_model()
    data = batches(k=3)
    recalibrate_bn(model, data)
    z = torch.stack([model[0](x) for x in data])            # 첫 BN 의 입력, (배치, n, C)
    torch.testing.assert_close(model[1].running_mean, z.mean(1).mean(0))
    torch.testing.assert_close(model[1].running_var, z.var(1).mean(0))    # 불편 분산들의 평균
    assert model[1].num_batches_tracked.item() == 3


def test_recalibrate_restores_modes_and_momentum_and_keeps_dropout_off():
    model = small_model(dropout=0.5).eval()
    model[1].momentum = 0.3
    recalibrate_bn(model, [(x, None) for x in batches()])
    assert not any(m.training for m in model.modules())
    assert model[1].momentum == 0.3
    # 드롭아웃이 꺼진 채로 잰 통계: 다시 재도 같은 값 (드롭아웃이 켜졌다면 마스크가 무작위라 달라짐)
    first = model[5].running_mean.clone()
    assert recalibrate_bn(model, batches()) is model
    assert torch.equal(model[5].running_mean, first)
