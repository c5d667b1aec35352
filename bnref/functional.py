r"""배치 정규화의 수학 (the math of batch normalization), ``torch.nn.functional.batch_norm``의 쌍둥이.

작은 조각으로 나뉘어 있어 ``bnref.sync`` 같은 다른 구현이 통계나 기울기 합만 바꿔 끼워 다시 씁니다:
모양 (:func:`_reduce_dims`, :func:`_per_channel`, :func:`_count`), 채널별 합 (:func:`_channel_sum`),
통계 (:func:`_batch_stats`), 정규화 (:func:`_normalize`), 이동 통계 (:func:`_update_running_stats`),
역전파 (:func:`_grad_sums`, :func:`_grad_input`).
"""
import math

import torch

from bnref import _checks
from bnref._checks import _check_args  # torch 와 같은 오류 (bnref.sync 도 씀)

__all__ = ["batch_norm"]


# ---------------------------------------------------------------- shapes
def _reduce_dims(input):
    """통계를 모으는 차원: 채널(dim 1)만 빼고 전부. (N, C, *) -> (0, 2, 3, ...)"""
    return (0, *range(2, input.dim()))


def _per_channel(t, input):
    """채널별 값 (C,) 을 input에 브로드캐스트되는 (1, C, 1, ...) 모양으로."""
    return t.reshape(1, -1, *([1] * (input.dim() - 2)))


def _count(input):
    """채널 하나가 보는 값의 개수 n = N · (공간 크기)."""
    return input.size(0) * math.prod(input.shape[2:])


def _compute_dtype(input):
    # float16/bfloat16 은 float32 로 올려 계산하고, 채널별 합은 항상 float64 로 모읍니다.
    return torch.float64 if input.dtype == torch.float64 else torch.float32


def _channel_sum(t, block=64):
    """채널별 합 (C,) 을 float64 로 모읍니다.

    큰 텐서를 통째로 float64 로 바꾸면 복사본 때문에 torch 의 한 걸음 전체보다 오래 걸립니다. 그래서
    값 ``block`` 개 남짓한 조각(표본 k 개의 채널 평면) 안에서만 t 의 dtype 으로 더하고, 조각들의 합은
    float64 로 더합니다. 반올림 오차는 조각 하나의 작은 합에서만 생기므로, 합 전체의 오차는 통째로
    float32 로 더할 때보다 10 배쯤 작습니다 (``python -m bnref.course.bench`` 가 torch 와 나란히 잽니다).
    """
    n, c, length = t.size(0), t.size(1), math.prod(t.shape[2:])
    t = t.reshape(n, c, length)                    # (N, C, L)
    k = max(1, block // max(length, 1))            # 조각 하나 = 표본 k 개 × L
    head = n - n % k
    blocks = t[:head].reshape(head // k, k, c, length).sum((1, 3))     # (N/k, C), 조각마다 합
    return blocks.double().sum(0) + t[head:].sum((0, 2)).double()      # 나머지 표본 (k 개 미만)


# ---------------------------------------------------------------- forward
def _batch_stats(x):
    """채널별 평균과 편향 분산 (float64) 을 두 번 훑어(two-pass) 구합니다.

    먼저 Σx, Σx² 를 구해 평균을 얻고, 평균이 0 에서 멀면 두 번째로 중심을 옮긴 값 d = x − shift
    (shift = 그 평균) 의 합 Σd, Σd² 를 구합니다. d 는 작은 수라서 분산을 E[x²]−E[x]² 처럼 큰 두 수의
    차로 구하며 자릿수를 잃지 않습니다 (corrected two-pass). 합은 모두 :func:`_channel_sum` 의 float64:

        mean = shift + Σd/n,   var = (Σd² − (Σd)²/n) / n      ← 편향(biased) 분산, n 으로 나눔

    모든 채널에서 평균이 0 에서 표준편차 하나 안쪽이면 shift = 0 (d = x) 으로도 충분히 정확해서
    두 번째 훑기를 건너뜁니다. 돌려주는 d 는 정규화와 역전파가 다시 씁니다.

    Returns: (d, shift, mean, var) — d 는 x 와 같은 모양, 나머지는 (C,).
    """
    n = _count(x)
    if n == 0:  # 빈 배치: 통계가 없고 출력도 비므로 0 으로 둡니다 (그래야 역전파의 합 dγ, dβ 가 torch 처럼 0).
        zeros = torch.zeros(x.size(1), dtype=torch.float64, device=x.device)
        return x, zeros.to(x.dtype), zeros, zeros
    sum_d, sum_d2 = _channel_sum(x), _channel_sum(x * x)     # 첫 번째 훑기: shift = 0 으로
    mean0 = sum_d / n
    if bool((mean0 * mean0 <= sum_d2 / n - mean0 * mean0).all()):
        # 모든 채널에서 |평균| ≤ 표준편차: shift 0 의 오차 증폭 1 + mean²/var 가 2 이하이므로
        # d = x 를 그대로 씁니다 (빼기 한 번과 x 크기의 텐서 하나를 아낌).
        d, shift = x, torch.zeros_like(mean0, dtype=x.dtype)
    else:                                                     # 평균이 0 에서 멀면 평균만큼 옮겨서 다시
        shift = mean0.to(x.dtype)
        d = x - _per_channel(shift, x)
        sum_d, sum_d2 = _channel_sum(d), _channel_sum(d * d)
    # ±Inf 가 든 채널은 d 가 NaN 이 되므로 평균은 torch 처럼 shift(= ±Inf) 그대로.
    mean = torch.where(shift.isfinite(), shift.double() + sum_d / n, shift.double())
    var = (sum_d2 - sum_d * sum_d / n) / n
    return d, shift, mean, var.clamp(min=0)


def _invstd(var, eps):
    """1/√(var + eps): eps 는 분산이 0 에 가까워도 나눗셈이 폭주하지 않게 합니다."""
    return torch.rsqrt(var + eps)


def _normalize(centred, offset, invstd, weight, bias):
    """y = (x − mean)·invstd·γ + β 를 메모리 한 번 훑기로 계산합니다.

    ``centred`` = x − shift (shift 는 아무 채널별 상수, 0 이어도 됨), ``offset`` = mean − shift.
    그러면 y = centred·scale + (β − offset·scale), scale = γ·invstd 이고, 채널별 계수는 float64 로
    미리 계산합니다.
    """
    scale = invstd if weight is None else invstd * weight.double()
    beta = -offset * scale if bias is None else bias.double() - offset * scale
    dt = centred.dtype
    return torch.addcmul(_per_channel(beta.to(dt), centred), centred, _per_channel(scale.to(dt), centred))


@torch.no_grad()
def _update_running_stats(running_mean, running_var, mean, var, n, momentum):
    """제자리(in place) 갱신: r ← (1 − momentum)·r + momentum·(배치 통계).

    running_var 에는 불편(unbiased) 분산 var·n/(n−1) 을 넣습니다 (정규화에는 편향 분산).
    """
    if running_mean is None or n == 0:
        return
    for running, stat in ((running_mean, mean), (running_var, var * n / (n - 1))):
        running.copy_((1 - momentum) * running.double() + momentum * stat)


# ---------------------------------------------------------------- backward
def _grad_sums(grad_out, centred, offset, invstd):
    """채널별 두 합 Σdy 와 Σdy·x̂ (float64), x̂ = (centred − offset)·invstd."""
    sum_dy = _channel_sum(grad_out)
    sum_dy_d = _channel_sum(grad_out * centred)
    return sum_dy, (sum_dy_d - offset * sum_dy) * invstd


def _dy_shift(grad_out, sum_dy, n):
    """dy에서 먼저 뺄 채널별 값 m (grad_out의 dtype): dy가 상수에 가까운 채널은 평균 Σdy/n, 나머지는 0.

    dy가 채널 안에서 상수에 가까우면 정확한 dx의 a·dy 항과 −a·Σdy/n 항은 거의 지워집니다. 둘을 따로
    반올림하면 지워지지 않고 a에 비례하는 찌꺼기가 남습니다: 값이 하나뿐인 LayerNorm의 dx는 정확히 0이어야
    하는데 2e-4였습니다. 같은 dtype의 dy와 m을 먼저 빼면, dy가 상수일 때 차가 정확히 0입니다. 다른 채널에서는
    빼기가 반올림을 한 번 더 할 뿐이라(벤치마크의 dx 오차가 torch보다 커짐) 하지 않습니다. 고르는 규칙은
    :func:`_batch_stats`가 x를 옮길지 고르는 것과 같습니다: 평균이 표준편차보다 크면(mean² > E[dy²] − mean²).

    E[dy²]는 채널마다 값 8개 남짓(배치에서 고르게 뽑은 표본들의 앞자리)으로 어림합니다. 이 선택은 반올림에만
    영향을 주므로 어림으로 충분하고, dy를 한 번 더 다 읽으면 한 걸음 시간의 10–20%가 듭니다. dy가 상수이면
    어느 값을 골라도 E[dy²] = mean²이므로 빠짐없이 뺍니다.
    """
    N, C = grad_out.shape[:2]
    if grad_out.numel() == 0:                    # 빈 배치 (SyncBatchNorm에서 한 rank의 몫): 뺄 것이 없음
        return torch.zeros(C, dtype=grad_out.dtype, device=grad_out.device)
    k = min(N, 8)                                                       # 표본 k개, 배치에서 고르게
    some = grad_out[:: N // k][:k].reshape(k, C, -1)[:, :, : -(-8 // k)]  # (k, C, ≤ 8/k): 채널마다 값 8개 남짓
    mean_sq = some.square().mean((0, 2)).double()                       # E[dy²]의 어림
    mean_dy = sum_dy / n
    return torch.where(2 * mean_dy * mean_dy > mean_sq, mean_dy, 0.0).to(grad_out.dtype)


def _grad_input(grad_out, centred, offset, invstd, weight, sum_dy, sum_dy_xhat, n):
    """학습 모드의 닫힌 꼴 dx (평균과 분산도 x에 달려 있음을 반영):

        dx = γ·invstd/n · (n·dy − Σdy − x̂·Σ(dy·x̂))

    x̂ = (centred − offset)·invstd를 풀어 쓰면 dx = a·(dy − m) + b·centred + c이고(m은 :func:`_dy_shift`,
    대개 0), 채널별 계수 a, b, c만 float64로 구한 뒤 큰 텐서는 두 번(m이 0이 아닌 채널이 있으면 세 번) 훑습니다.
    """
    g = invstd if weight is None else invstd * weight.double()   # γ·invstd
    b = -g * invstd * sum_dy_xhat / n                              # x̂ 항의 계수 (centred 에 대해)
    m = _dy_shift(grad_out, sum_dy, n)
    c = -g * (sum_dy / n - m.double()) - b * offset                # m 에 담기지 않은 평균의 나머지
    dy = grad_out if not m.any() else grad_out - _per_channel(m, grad_out)
    a, b, c = (_per_channel(t.to(grad_out.dtype), centred) for t in (g, b, c))
    return torch.addcmul(c, dy, a).addcmul_(centred, b)


class _BatchNormFunction(torch.autograd.Function):
    """정방향은 통계와 정규화, 역전파는 손으로 쓴 닫힌 꼴 (dx, dγ, dβ)."""

    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, training, momentum, eps):
        x = input.to(_compute_dtype(input))
        if training:
            d, shift, mean, var = _batch_stats(x)
            _update_running_stats(running_mean, running_var, mean, var, _count(x), momentum)
        else:                                   # 평가: 저장된 통계를 상수로 씀
            d, shift, mean, var = x, None, running_mean.double(), running_var.double()
        invstd = _invstd(var, eps)
        centred, offset = d, mean if shift is None else mean - shift.double()
        ctx.save_for_backward(input, weight, centred, shift, offset, invstd)
        ctx.training, ctx.eps = training, eps
        ctx.bias_dtype = None if bias is None else bias.dtype
        return _normalize(centred, offset, invstd, weight, bias).to(input.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        input, weight, centred, shift, offset, invstd = ctx.saved_tensors
        dy = grad_out.to(centred.dtype)
        if torch.is_grad_enabled():
            # create_graph=True (이중 미분): x̂ 를 input 에서 미분 가능한 연산으로 다시 만들어
            # 그래프가 x 까지 이어지게 합니다. 수식은 같습니다.
            centred = input.to(centred.dtype) - (0 if shift is None else _per_channel(shift, input))
            if ctx.training:
                dims = _reduce_dims(centred)
                offset = centred.mean(dims).double()
                invstd = _invstd(centred.var(dims, correction=0).double(), ctx.eps)
        n = _count(centred)
        sum_dy, sum_dy_xhat = _grad_sums(dy, centred, offset, invstd)
        dx = None
        if ctx.needs_input_grad[0] and ctx.training:
            dx = _grad_input(dy, centred, offset, invstd, weight, sum_dy, sum_dy_xhat, n).to(input.dtype)
        elif ctx.needs_input_grad[0]:           # 평가: 통계가 상수라 dx = γ·invstd·dy
            g = invstd if weight is None else invstd * weight.double()
            dx = (dy * _per_channel(g.to(dy.dtype), dy)).to(input.dtype)
        dw = sum_dy_xhat.to(weight.dtype) if ctx.needs_input_grad[1] else None
        db = sum_dy.to(ctx.bias_dtype) if ctx.needs_input_grad[2] else None
        return dx, dw, db, None, None, None, None, None


# ---------------------------------------------------------------- entry points
def _empty_output(input, weight, bias):
    """빈 입력의 출력: torch처럼 통계 없이 입력의 복사본에 γ[0]을 곱하고 β[0]을 더합니다.

    torch의 C++ 커널은 빈 입력을 받으면 다른 검사 없이 바로 이렇게 돌려줍니다. 복사본이어야 기울기
    그래프가 이어지고, γ, β의 기울기는 0이 됩니다.
    """
    out = input.clone()
    if weight is not None:
        out = out * weight.select(0, 0)      # γ가 비어 있으면 torch와 같은 IndexError
    if bias is not None:
        out = out + bias.select(0, 0)
    return out


def _check(input, running_mean, running_var, weight, bias, training, momentum, eps):
    """torch.nn.functional.batch_norm과 같은 검사. 빈 입력은 torch처럼 C++ 커널의 검사를 건너뜁니다."""
    if input.numel() == 0:
        _checks._check_call(input, training, momentum, eps)
    else:
        _check_args(input, running_mean, running_var, weight, bias, training, momentum, eps)


def _forward(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """검사를 마친 입력의 배치 정규화 (함수, 층, instance_norm이 함께 씀)."""
    if input.numel() == 0:                   # 빈 입력: 통계도 running 통계 갱신도 없음
        return _empty_output(input, weight, bias)
    return _BatchNormFunction.apply(input, weight, bias, running_mean, running_var, training, momentum, eps)


# ---------------------------------------------------------------- public
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    r"""Apply Batch Normalization for each channel across a batch of data.

    ``torch.nn.functional.batch_norm``과 같은 시그니처, 같은 결과. 채널 c마다

    .. math::
        y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \cdot \gamma + \beta

    학습 모드(``training=True``)에서는 배치의 평균과 편향(biased) 분산(n으로 나눔)으로 정규화하고,
    ``running_mean``/``running_var``가 있으면 제자리에서 갱신합니다:
    ``r ← (1 − momentum)·r + momentum·stat``, 이때 분산은 불편(unbiased, n−1로 나눔)입니다.
    평가(``training=False``)에서는 저장된 ``running_mean``/``running_var``로 정규화합니다.

    torch와 달리 float32/float16/bfloat16 입력의 통계도 두 번 훑어 float64로 합치므로, 값이
    평균에서 멀리(예: 1e5 근처) 있어도 분산이 정확합니다. 출력은 입력과 같은 dtype입니다.

    Args:
        input: (N, C), (N, C, L), (N, C, H, W) 또는 (N, C, D, H, W) 텐서.
        running_mean: (C,) 또는 None (학습 모드에서만 None 가능). 학습 모드면 제자리 갱신.
        running_var: (C,) 또는 None. 학습 모드면 불편 분산으로 제자리 갱신.
        weight: γ, (C,) 또는 None (=1). Default: ``None``
        bias: β, (C,) 또는 None (=0). Default: ``None``
        training: 배치 통계를 쓸지. Default: ``False``
        momentum: 이동 통계에 새 배치가 차지하는 몫. Default: 0.1
        eps: 분모에 더하는 작은 수. Default: 1e-5

    Shape:
        - Input: :math:`(N, C, *)`
        - Output: :math:`(N, C, *)` (input과 같은 모양, 같은 dtype)

    Examples::

        >>> import torch
        >>> from bnref.functional import batch_norm
        >>> x = torch.tensor([[1.0], [2.0], [3.0], [4.0]])      # (N=4, C=1)
        >>> rm, rv = torch.zeros(1), torch.ones(1)
        >>> y = batch_norm(x, rm, rv, training=True)
        >>> y.flatten()
        tensor([-1.3416, -0.4472,  0.4472,  1.3416])
        >>> rm, rv                       # 0.1·2.5,  0.9 + 0.1·(5/3)  ← 불편 분산
        (tensor([0.2500]), tensor([1.0667]))
        >>> x = torch.arange(24.0).reshape(2, 3, 4) + 1e5       # 평균에서 먼 값
        >>> y = batch_norm(x, None, None, training=True)
        >>> round(y.mean().item(), 4) + 0.0, round(y.var(correction=0).item(), 4)
        (0.0, 1.0)
    """
    _check(input, running_mean, running_var, weight, bias, training, momentum, eps)
    return _forward(input, weight, bias, running_mean, running_var, training, momentum, eps)
