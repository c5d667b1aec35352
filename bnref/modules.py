r"""배치 정규화 층 (modules): 파라미터·버퍼와 장부 정리(bookkeeping)만 하고, 수학은 :mod:`bnref.functional`."""
import torch
from torch import nn

from bnref import functional as F

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


class _NormBase(nn.Module):
    """파라미터·버퍼·초기화·state_dict: 배치 정규화 층과 InstanceNorm 층이 함께 쓰는 부분 (torch와 같은 구조)."""

    _version = 2  # torch 와 같은 state_dict 판(version): num_batches_tracked 가 있는 판

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.empty(num_features, **factory))
            self.bias = nn.Parameter(torch.empty(num_features, **factory)) if bias else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        """running_mean ← 0, running_var ← 1, num_batches_tracked ← 0."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        """이동 통계를 초기화하고 γ ← 1, β ← 0."""
        self.reset_running_stats()
        if self.affine:
            nn.init.ones_(self.weight)
            if self.bias is not None:
                nn.init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
        # 판 1 의 state_dict 에는 num_batches_tracked 가 없습니다: torch 처럼 지금 값(처음엔 0)을 채웁니다.
        key = prefix + "num_batches_tracked"
        if local_metadata.get("version", 1) < 2 and self.track_running_stats and key not in state_dict:
            state_dict[key] = self.num_batches_tracked
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)

class _BatchNorm(_NormBase):
    """BatchNorm1d/2d/3d 의 공통 부분. 하위 클래스는 :meth:`_check_input_dim` 만 다릅니다."""

    def forward(self, input):
        self._check_input_dim(input)
        # 배치 통계를 쓰는 때: 훈련 모드, 또는 running 통계가 없을 때(평가에서도).
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        use_buffers = not self.training or self.track_running_stats
        running_mean = self.running_mean if use_buffers else None
        running_var = self.running_var if use_buffers else None
        momentum = 0.0 if self.momentum is None else self.momentum
        # torch 와 달리 먼저 검사하고 나서 num_batches_tracked 를 올립니다: 거절된 호출은 아무것도 바꾸지 않습니다.
        F._check(input, running_mean, running_var, self.weight, self.bias, bn_training, momentum, self.eps)
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # 누적 평균(cumulative average): k 번째 배치의 몫은 1/k
                momentum = 1.0 / float(self.num_batches_tracked)
        # 검사는 끝났으므로 F.batch_norm 을 거치지 않고 바로 계산합니다.
        return F._forward(input, self.weight, self.bias, running_mean, running_var, bn_training, momentum, self.eps)


class BatchNorm1d(_BatchNorm):
    r"""Applies Batch Normalization over a 2D or 3D input.

    :class:`torch.nn.BatchNorm1d`의 쌍둥이. 채널 c마다, 미니배치와 길이 L에 걸쳐

    .. math::
        y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \cdot \gamma + \beta

    학습 모드에서는 배치의 평균과 편향(biased) 분산으로 정규화하고, ``running_mean``/``running_var``에는
    ``(1 − momentum)·running + momentum·batch``로 평균과 불편(unbiased, n−1) 분산을 쌓습니다.
    평가(``eval()``)에서는 쌓아 둔 이동 통계로 정규화합니다. 어느 쪽인지는 ``self.training``만 정합니다.

    Args:
        num_features: 채널 수 C
        eps: 분모에 더하는 작은 수. Default: 1e-5
        momentum: 이동 통계에 새 배치가 차지하는 몫; ``None``이면 누적 평균. Default: 0.1
        affine: 학습하는 γ, β를 둘지. Default: ``True``
        track_running_stats: 이동 통계를 쌓을지; ``False``면 평가에서도 배치 통계. Default: ``True``
        device, dtype: 파라미터와 버퍼를 만들 곳과 자료형. Default: ``None``
        bias: (키워드 전용) β를 둘지. Default: ``True``

    Shape:
        - Input: :math:`(N, C)` or :math:`(N, C, L)`
        - Output: same shape as input

    Examples::

        >>> import torch, bnref
        >>> bn = bnref.BatchNorm1d(3)
        >>> x = torch.arange(12.0).reshape(4, 3) * 10 + 50      # 채널 평균 95, 105, 115
        >>> y = bn(x)
        >>> [round(v, 4) + 0.0 for v in y.mean(0).tolist()]
        [0.0, 0.0, 0.0]
        >>> [round(v, 3) for v in y.var(0, correction=0).tolist()]
        [1.0, 1.0, 1.0]
        >>> bn.running_mean, bn.num_batches_tracked      # 0.1·(95, 105, 115)
        (tensor([ 9.5000, 10.5000, 11.5000]), tensor(1))
    """

    def _check_input_dim(self, input):
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    r"""Applies Batch Normalization over a 4D input (N, C, H, W).

    :class:`torch.nn.BatchNorm2d`의 쌍둥이: 채널 c마다 N·H·W 개의 값에 걸쳐 정규화합니다.
    수식과 인자는 :class:`BatchNorm1d`와 같습니다.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: same shape as input

    Examples::

        >>> import torch, bnref
        >>> bn = bnref.BatchNorm2d(1, affine=False)
        >>> x = torch.arange(8.0).reshape(2, 1, 2, 2)          # 0, 1, ..., 7
        >>> y = bn(x)
        >>> round(y.mean().item(), 4) + 0.0, round(y.var(correction=0).item(), 4)
        (0.0, 1.0)
        >>> bn.running_mean, bn.running_var   # 0.1·3.5,  0.9 + 0.1·6 (불편 분산 42/7; 편향 분산은 42/8)
        (tensor([0.3500]), tensor([1.5000]))
    """

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    r"""Applies Batch Normalization over a 5D input (N, C, D, H, W).

    :class:`torch.nn.BatchNorm3d`의 쌍둥이: 채널 c마다 N·D·H·W 개의 값에 걸쳐 정규화합니다.
    수식과 인자는 :class:`BatchNorm1d`와 같습니다.

    Shape:
        - Input: :math:`(N, C, D, H, W)`
        - Output: same shape as input

    Examples::

        >>> import torch, bnref
        >>> bn = bnref.BatchNorm3d(2, momentum=None).eval()     # 평가: 이동 통계(0, 1)로 정규화
        >>> x = torch.ones(1, 2, 1, 1, 2)
        >>> [round(v, 4) for v in bn(x).flatten().tolist()]    # 1/√(1 + eps)
        [1.0, 1.0, 1.0, 1.0]
    """

    def _check_input_dim(self, input):
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")
