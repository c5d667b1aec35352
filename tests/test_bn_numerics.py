"""평균에서 먼 값: bnref 의 분산은 정확하고, torch 의 CPU 커널은 그렇지 않습니다 (torch 2.13).

(65536, 4) float32, 값이 1e4 또는 1e5 근처. 기준값은 같은 float32 값들을 float64 로 계산한 것.
스레드 1개와 2개에서 모두 확인합니다 (torch 의 오차는 스레드 수에 따라 달라집니다).
"""
import pytest
import torch

import bnref
from bnref.course import bench

OFFSETS = [0.0, 1e4, 1e5]


@pytest.fixture(params=[1, 2], ids=lambda n: f"{n}thread")
def threads(request):
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)


def far_from_zero(offset, shape=(65536, 4), seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64) + offset).float()


def errors(cls, x):
    """(running_var 의 상대 오차, 출력 표준편차) — momentum=1 이면 running_var 가 곧 배치의 불편 분산."""
    bn = cls(x.size(1), momentum=1.0)
    with torch.no_grad():
        y = bn(x)
    dims = (0, *range(2, x.dim()))
    want = x.double().var(dims)
    rel = ((bn.running_var.double() - want) / want).abs().max().item()
    std = y.double().std(dims, correction=0)
    return rel, std


@pytest.mark.parametrize("offset", OFFSETS)
def test_variance_and_output_std_stay_exact_far_from_zero(offset, threads):
    rel, std = errors(bnref.BatchNorm1d, far_from_zero(offset))
    assert rel <= 1e-6
    torch.testing.assert_close(std, torch.ones_like(std), rtol=0, atol=1e-4)


@pytest.mark.parametrize("offset", [1e4, 1e5])
def test_torch_cpu_kernel_loses_the_variance(offset, threads):
    # 같은 입력에서 torch 는 분산을 0.01% 넘게 (1 스레드, 1e5 근처에서는 수백 배) 틀립니다: bnref 가 필요한 이유이자, 위 테스트가 쉬운 문제가 아니라는 증거.
    rel, std = errors(torch.nn.BatchNorm1d, far_from_zero(offset))
    assert rel > 1e-4


@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_images_far_from_zero(layout, threads):
    x = far_from_zero(1e4, shape=(64, 3, 32, 32))
    if layout == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    rel, std = errors(bnref.BatchNorm2d, x)
    assert rel <= 1e-6
    torch.testing.assert_close(std, torch.ones_like(std), rtol=0, atol=1e-4)


def test_bfloat16_statistics_are_those_of_its_values():
    x = far_from_zero(1e3, shape=(4096, 2)).bfloat16()
    bn = bnref.BatchNorm1d(2, momentum=1.0)
    bn(x)
    want = x.double().var(0)
    assert ((bn.running_var.double() - want) / want).abs().max().item() <= 1e-6


def test_gradients_far_from_zero_match_float64():
    x = far_from_zero(1e4, shape=(4096, 3)).requires_grad_()
    grad = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    bn = bnref.BatchNorm1d(3)
    bn(x).backward(grad)
    ref = torch.nn.BatchNorm1d(3).double()
    xd = x.detach().double().requires_grad_()
    ref(xd).backward(grad.double())
    torch.testing.assert_close(x.grad.double(), xd.grad, rtol=0, atol=1e-5 * xd.grad.abs().max().item())
    torch.testing.assert_close(bn.weight.grad.double(), ref.weight.grad, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("offset", [0.0, 1e4])
@pytest.mark.parametrize("shape", bench.SHAPES, ids=str)
def test_at_least_as_accurate_as_torch_on_the_benchmark(shape, offset, threads):
    """벤치마크의 두 모양에서 y, dx, dγ 의 오차(최대와 RMS) 가 torch 의 CPU 커널보다 크지 않습니다."""
    err = bench.accuracy(shape, offset)
    for name, (torch_err, bnref_err) in zip(["y", "dx", "dgamma"], zip(err["torch"], err["bnref"])):
        assert bnref_err[0] <= torch_err[0] and bnref_err[1] <= torch_err[1], (name, torch_err, bnref_err)
        assert bnref_err[0] < 3e-7, (name, bnref_err)      # float32 반올림 몇 번 정도
