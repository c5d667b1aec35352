r"""추론(inference)을 위한 배치 정규화 손질: 앞 층에 접어 넣기(folding)와 이동 통계 다시 재기.

평가 모드의 배치 정규화는 채널마다 정해진 아핀 변환(affine transform)입니다:

.. math::
    \mathrm{BN}(z) = s \cdot z + t, \qquad s = \frac{\gamma}{\sqrt{\mathrm{running\_var} + \epsilon}},
    \qquad t = \beta - s \cdot \mathrm{running\_mean}

그 앞의 Linear/Conv가 :math:`z = Wx + b`이면 둘을 합친 것도 같은 꼴의 층 하나입니다:
:math:`W' = s \cdot W` (출력 채널마다 행을 늘임), :math:`b' = s \cdot b + t`.
:func:`fuse_linear_bn_eval`, :func:`fuse_conv_bn_eval`은 ``torch.nn.utils.fusion``의 같은 이름
함수의 쌍둥이이고, torch의 BN 층과 bnref의 BN 층을 모두 받습니다. 계수는 float64로 계산한 뒤
원래 자료형으로 돌립니다.

:func:`recalibrate_bn`은 학습이 끝난 모델의 이동 통계를 지우고, 학습 데이터를 한 번 더 흘려
누적 평균(``momentum=None``)으로 다시 잽니다. ``torch.optim.swa_utils.update_bn``도 같은 누적 평균을
내지만 모델 전체를 학습 모드로 두고 흘리며(드롭아웃도 켜짐) torch의 BN 층만 찾습니다. 이 함수는 BN
층만 학습 모드로 두고, torch와 bnref의 BN 층을 모두 다시 잽니다.
"""
import copy

import torch
from torch import nn

from bnref import modules as bnref_modules

__all__ = ["fuse_linear_bn_eval", "fuse_conv_bn_eval", "recalibrate_bn"]


def _bn_scale_shift(bn):
    """평가 모드 BN 을 채널별 s, t 로: BN(z) = s·z + t (float64, (C,))."""
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    mean, var = bn.running_mean.double(), bn.running_var.double()
    gamma = torch.ones_like(mean) if bn.weight is None else bn.weight.detach().double()
    beta = torch.zeros_like(mean) if bn.bias is None else bn.bias.detach().double()
    scale = gamma * torch.rsqrt(var + bn.eps)
    return scale, beta - mean * scale


def _fold(layer, bn, channel_dim):
    """layer 의 복사본에 bn 을 접어 넣습니다. channel_dim: weight 에서 출력 채널이 있는 차원."""
    fused = copy.deepcopy(layer)
    scale, shift = _bn_scale_shift(bn)
    w = layer.weight.detach()
    shape = [1] * w.dim()
    shape[channel_dim] = -1
    b = torch.zeros_like(scale) if layer.bias is None else layer.bias.detach().double()
    fused.weight = nn.Parameter((w.double() * scale.reshape(shape)).to(w.dtype), layer.weight.requires_grad)
    bias_dtype = w.dtype if layer.bias is None else layer.bias.dtype
    # torch 처럼: 원래 bias 가 없었으면 새 bias 는 학습하지 않는 값(requires_grad=False)으로 둡니다.
    fused.bias = nn.Parameter((b * scale + shift).to(bias_dtype), layer.bias is not None and layer.bias.requires_grad)
    return fused


def fuse_linear_bn_eval(linear, bn):
    """``Linear`` 뒤의 평가 모드 BN을 접어 넣은 새 ``Linear``를 돌려줍니다 (원래 층은 그대로).

    ``torch.nn.utils.fusion.fuse_linear_bn_eval``의 쌍둥이. ``bn``은 torch 또는 bnref의 BatchNorm1d.

    Examples::

        >>> import torch, bnref
        >>> from bnref.fuse import fuse_linear_bn_eval
        >>> _ = torch.manual_seed(0)
        >>> linear, bn = torch.nn.Linear(3, 2).eval(), bnref.BatchNorm1d(2).eval()
        >>> _ = bn.running_mean.fill_(0.5), bn.running_var.fill_(4.0)
        >>> x = torch.randn(5, 3)
        >>> fused = fuse_linear_bn_eval(linear, bn)
        >>> torch.allclose(fused(x), bn(linear(x)), atol=1e-6)
        True
    """
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            f"To fuse, linear.out_features == bn.num_features or bn.num_features == 1, "
            f"got linear.out_features={linear.out_features} and bn.num_features={bn.num_features}")
    return _fold(linear, bn, channel_dim=0)                    # weight: (out, in)


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """``Conv1d/2d/3d`` 뒤의 평가 모드 BN을 접어 넣은 새 합성곱 층을 돌려줍니다 (원래 층은 그대로).

    ``torch.nn.utils.fusion.fuse_conv_bn_eval``의 쌍둥이. 합성곱의 weight는 (out, in/groups, *k)이므로
    출력 채널(dim 0)마다 s를 곱합니다. ``transpose=True`` (ConvTranspose, weight (in, out/groups, *k))이면
    dim 1에 곱합니다.
    """
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    return _fold(conv, bn, channel_dim=1 if transpose else 0)


_BATCH_NORMS = (nn.modules.batchnorm._BatchNorm, bnref_modules._BatchNorm)


def _is_batch_norm(m):
    return isinstance(m, _BATCH_NORMS) and m.track_running_stats


@torch.no_grad()
def recalibrate_bn(model, batches):
    """모든 BN 층의 이동 통계를 지우고 ``batches``를 흘려 누적 평균으로 다시 잽니다.

    학습 중의 이동 통계는 지수 이동 평균(momentum 0.1)이라 마지막 몇십 배치, 그것도 가중치가
    아직 바뀌던 때의 통계에 치우쳐 있습니다. 학습이 끝난 가중치로 데이터를 다시 흘리고
    ``momentum=None`` (k 번째 배치의 몫 1/k)으로 모으면 모든 배치가 같은 몫을 가집니다.

    BN 층만 학습 모드로 두고 나머지(드롭아웃 등)는 평가 모드로 흘리므로, 평가 때와 같은 신호의
    통계를 잽니다. 끝나면 각 층의 모드와 momentum을 원래대로 돌려놓습니다.

    Args:
        model: BN 층(torch 또는 bnref)을 가진 모델
        batches: 입력 배치들의 iterable. 원소가 (x, y) 같은 tuple/list면 첫 원소를 입력으로 씁니다.

    Returns:
        model (제자리에서 바뀜)
    """
    modes = {m: m.training for m in model.modules()}
    bns = [m for m in model.modules() if _is_batch_norm(m)]
    momenta = [bn.momentum for bn in bns]
    model.eval()
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    try:
        for batch in batches:
            model(batch[0] if isinstance(batch, (list, tuple)) else batch)
    finally:
        for bn, momentum in zip(bns, momenta):
            bn.momentum = momentum
        for m, mode in modes.items():
            m.training = mode
    return model
