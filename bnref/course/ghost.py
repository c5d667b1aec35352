r"""고스트 배치 정규화(ghost batch normalization): 미니배치를 작은 가상 배치로 나눠 따로 정규화합니다.

Hoffer, Hubara & Soudry (2017, "Train longer, generalize better")의 알고리즘 1입니다. 기울기는 큰
미니배치 전체로 계산하면서, 배치 정규화의 통계만은 ``virtual_batch_size``개짜리 가상 배치(ghost
batch)마다 따로 냅니다. 그래서 "배치 통계의 잡음"을 배치 크기와 떼어 놓고 바꿔 볼 수 있습니다.
torch에는 없는 층이라 쌍둥이가 아니므로 ``bnref.course``에 둡니다.

이 모듈이 정한 규칙은 모두 "가상 배치마다 :class:`bnref.BatchNorm1d`를 차례로 부른 것과 같다"는
한 문장에서 나옵니다 (테스트가 이 문장을 그대로 확인합니다).

- **나누기**: ``torch.split(input, virtual_batch_size)``처럼 0번 차원을 앞에서부터 잘라 씁니다.
  N이 나누어떨어지지 않으면 마지막 가상 배치만 ``N mod virtual_batch_size``개로 작습니다.
  ``N ≤ virtual_batch_size``이면 가상 배치가 하나뿐이라 보통의 배치 정규화와 똑같습니다.
- **정규화**: 가상 배치마다 자기 평균과 편향 분산(n으로 나눈 분산)으로 정규화하고, 같은 γ, β를 씁니다.
- **이동 통계**: 가상 배치 하나가 배치 정규화의 한 번 호출입니다. 앞에서부터 가상 배치마다
  ``r ← (1 − momentum)·r + momentum·(그 가상 배치의 통계)``로 갱신하고(분산은 불편 분산),
  ``num_batches_tracked``도 가상 배치마다 1씩 늘어납니다. 그래서 ``momentum=None``이면 지금까지 본
  모든 가상 배치의 누적 평균이고, 한 번의 forward에서 이동 통계는 가상 배치 수만큼 움직입니다.
  이 규칙은 이 모듈이 정한 것입니다. 논문의 알고리즘 1도 가상 배치들의 통계에 지수적으로 줄어드는
  가중치를 주어 이동 통계를 쌓지만, 세부까지 torch의 배치 정규화와 맞춘 것은 이 모듈의 선택입니다.
- **평가 모드**: 이동 통계로 정규화하므로 입력을 나누지 않으며 :class:`bnref.BatchNorm1d`와 똑같습니다.
  이동 통계가 없으면(``track_running_stats=False``) 평가에서도 학습 때처럼 가상 배치마다 배치 통계를 씁니다.
- **나쁜 입력**: 각 가상 배치에 대해 배치 정규화와 같은 오류를 냅니다. 예를 들어 학습 모드에서 마지막
  가상 배치에 채널당 값이 하나뿐이면 ``ValueError: Expected more than 1 value per channel when
  training, ...``입니다. 모든 가상 배치를 먼저 검사하므로, 거절된 호출은 버퍼를 하나도 바꾸지 않습니다.

파라미터와 버퍼는 배치 정규화와 이름까지 같아서 ``state_dict``를 서로 주고받을 수 있습니다.

계산은 가상 배치마다 층을 부르지 않고, 크기가 같은 가상 배치들을 채널 축에 늘어놓아 배치 정규화 한 번으로
합니다(``_GhostBatchNorm._full_ghosts``). 가상 배치가 많아도 한 번의 호출이라 빠르고, 결과는 가상
배치마다 부른 것과 반올림 오차 안에서 같습니다.
"""

from __future__ import annotations

import torch

from bnref import functional as F
from bnref.modules import BatchNorm1d, BatchNorm2d, _BatchNorm

__all__ = ["GhostBatchNorm1d", "GhostBatchNorm2d"]


class _GhostBatchNorm(_BatchNorm):
    """GhostBatchNorm1d/2d의 공통 부분. 파라미터·버퍼·검사는 :class:`bnref.modules._BatchNorm`,
    통계·정규화·역전파는 :mod:`bnref.functional`을 그대로 씁니다."""

    def __init__(self, num_features, virtual_batch_size, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        if isinstance(virtual_batch_size, bool) or not isinstance(virtual_batch_size, int) \
                or virtual_batch_size < 1:
            raise ValueError(f"virtual_batch_size must be a positive integer, got {virtual_batch_size!r}")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.virtual_batch_size = virtual_batch_size

    def extra_repr(self):
        return f"{super().extra_repr()}, virtual_batch_size={self.virtual_batch_size}"

    def forward(self, input):
        self._check_input_dim(input)
        uses_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        size = self.virtual_batch_size
        if not uses_batch_stats or input.size(0) <= size:
            return super().forward(input)  # 가상 배치가 하나뿐이거나 이동 통계로 정규화: 보통의 배치 정규화
        k = input.size(0) // size          # 꽉 찬 가상 배치 수
        full, rest = input[:k * size], input[k * size:]
        # 버퍼를 건드리기 전에, 배치 정규화가 가상 배치마다 할 검사를 모두 합니다 (거절된 호출은 아무것도
        # 바꾸지 않음). 가상 배치 가운데 모양이 다른 것은 마지막(나머지) 것뿐입니다.
        use_buffers = not self.training or self.track_running_stats
        buffers = (self.running_mean, self.running_var) if use_buffers else (None, None)
        momentum = 0.0 if self.momentum is None else self.momentum
        for ghost in (full[:size], rest) if rest.size(0) else (full[:size],):
            F._check_args(ghost, *buffers, self.weight, self.bias, True, momentum, self.eps)
        out = self._full_ghosts(full, k)
        if rest.size(0):  # 나머지 가상 배치: 보통의 배치 정규화 한 번 (이동 통계도 그다음 차례로 갱신)
            out = torch.cat([out, super().forward(rest)])
        return out

    def _full_ghosts(self, x, k):
        """크기가 같은 가상 배치 k개를 배치 정규화 한 번으로 계산합니다.

        (k·V, C, *S)를 (V, k·C, *S)로 바꾸면 "가상 배치 i의 채널 c"가 채널 하나(i·C + c)가 되므로,
        :mod:`bnref.functional`의 채널별 통계가 곧 가상 배치별 통계입니다. γ, β는 k번 되풀이합니다.
        """
        v, c, spatial = x.size(0) // k, x.size(1), x.shape[2:]
        xs = x.reshape(k, v, c, *spatial).transpose(0, 1).reshape(v, k * c, *spatial)
        weight = None if self.weight is None else self.weight.repeat(k)
        bias = None if self.bias is None else self.bias.repeat(k)
        track = self.training and self.track_running_stats
        # 임시 버퍼에 momentum 1로 "갱신"하면 가상 배치마다의 평균과 불편 분산이 그대로 담깁니다.
        stats = [torch.zeros(k * c, dtype=self.running_mean.dtype, device=x.device) for _ in range(2)] \
            if track else [None, None]
        y = F._BatchNormFunction.apply(xs, weight, bias, *stats, True, 1.0, self.eps)
        if track:
            self._update_running_stats(*(t.reshape(k, c) for t in stats))
        return y.reshape(v, k, c, *spatial).transpose(0, 1).reshape(x.shape)

    @torch.no_grad()
    def _update_running_stats(self, means, variances):
        """가상 배치 k개의 통계 (k, C)로, 배치 정규화를 k번 부른 것과 같은 갱신을 한 번에 합니다.

        momentum m 이면 r ← (1 − m)^k·r + Σ_i m(1 − m)^(k−1−i)·s_i (최근 가상 배치일수록 큰 몫),
        ``momentum=None``이면 누적 평균 r ← (t·r + Σ_i s_i)/(t + k) (t = 지금까지의 num_batches_tracked).
        """
        k = means.size(0)
        t = int(self.num_batches_tracked)
        self.num_batches_tracked.add_(k)
        if self.momentum is None:
            keep, weights = t / (t + k), torch.full((k,), 1.0 / (t + k), dtype=torch.float64)
        else:
            m = self.momentum
            keep = (1 - m) ** k
            weights = m * (1 - m) ** torch.arange(k - 1, -1, -1, dtype=torch.float64)
        for running, stat in ((self.running_mean, means), (self.running_var, variances)):
            running.copy_(keep * running.double() + weights.to(stat.device) @ stat.double())


class GhostBatchNorm1d(_GhostBatchNorm):
    r"""(N, C) 또는 (N, C, L) 입력을 ``virtual_batch_size``개짜리 가상 배치마다 정규화합니다.

    학습 모드에서는 입력을 0번 차원을 따라 ``virtual_batch_size``개씩 자르고(마지막 조각은 작을 수
    있음), 조각마다 :class:`bnref.BatchNorm1d`를 한 번 부른 것과 같은 값을 돌려줍니다. 이동 통계도
    조각마다 차례로 갱신됩니다. 평가 모드는 :class:`bnref.BatchNorm1d`와 같습니다. 자세한 규칙은
    :mod:`bnref.course.ghost`에 있습니다.

    Args:
        num_features: 채널 수 C
        virtual_batch_size: 가상 배치 하나의 샘플 수 (양의 정수)
        eps, momentum, affine, track_running_stats, device, dtype, bias: :class:`bnref.BatchNorm1d`와 같음

    Shape:
        - Input: :math:`(N, C)` or :math:`(N, C, L)`
        - Output: same shape as input

    Examples::

        >>> import torch, bnref
        >>> from bnref.course.ghost import GhostBatchNorm1d
        >>> x = torch.tensor([[0.0], [2.0], [10.0], [30.0]])     # (N, C) = (4, 1)
        >>> gbn = GhostBatchNorm1d(1, virtual_batch_size=2, affine=False)
        >>> gbn(x).flatten()                                     # 가상 배치 [0, 2]와 [10, 30]이 각자
        tensor([-1.0000,  1.0000, -1.0000,  1.0000])
        >>> gbn.running_mean, gbn.num_batches_tracked            # 0 → 0.1·1 = 0.1 → 0.9·0.1 + 0.1·20
        (tensor([2.0900]), tensor(2))
        >>> bnref.BatchNorm1d(1, affine=False)(x).flatten()      # 배치 전체로 정규화하면
        tensor([-0.8850, -0.7165, -0.0421,  1.6437])
    """

    _check_input_dim = BatchNorm1d._check_input_dim


class GhostBatchNorm2d(_GhostBatchNorm):
    r"""(N, C, H, W) 입력을 ``virtual_batch_size``개짜리 가상 배치마다 정규화합니다.

    채널마다 가상 배치 안의 (샘플 수)·H·W개 값으로 통계를 냅니다. 나머지는 :class:`GhostBatchNorm1d`와
    같습니다.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: same shape as input

    Examples::

        >>> import torch
        >>> from bnref.course.ghost import GhostBatchNorm2d
        >>> gbn = GhostBatchNorm2d(3, virtual_batch_size=4)
        >>> gbn(torch.randn(10, 3, 5, 5)).shape                  # 가상 배치 4 + 4 + 2
        torch.Size([10, 3, 5, 5])
        >>> gbn.num_batches_tracked
        tensor(3)
    """

    _check_input_dim = BatchNorm2d._check_input_dim
