"""동기화 배치 정규화(synchronized batch normalization): 여러 프로세스에 나뉜 미니배치 전체의 통계로 정규화.

``torch.nn.SyncBatchNorm``과 같은 이름, 같은 인자입니다. 다른 점은 하나입니다. torch의 것은 CPU 입력과
gloo 백엔드에서 ``ValueError: SyncBatchNorm expected input tensor to be on GPU or XPU or
privateuseone``을 내지만, 이것은 ``all_gather``와 ``all_reduce``만 있으면 어느 백엔드에서나
돕니다.

한 번의 학습 스텝에서 통신은 두 번뿐입니다.

- 순전파(forward): 각 랭크(rank)가 채널마다 ``[n, 평균, M2]``(M2는 편차 제곱합)를 float64로 만들어
  ``all_gather`` 합니다. 모은 값을 병렬 분산 공식(parallel variance formula)으로 합치면 이어 붙인
  배치 하나의 평균과 분산이 나옵니다. 랭크마다 배치 크기가 달라도, 빈 랭크가 있어도 정확합니다.
- 역전파(backward): 입력 기울기에 필요한 채널별 합 Σdy와 Σdy·x̂을 ``all_reduce``로 더합니다.
  γ, β의 기울기는 torch와 같이 자기 랭크의 몫만 돌려줍니다. 랭크 사이에서 파라미터 기울기를 맞추는
  일은 DistributedDataParallel이 모든 파라미터에 대해 하기 때문입니다(기울기의 평균을 냅니다).

평가(eval) 모드는 아무것도 주고받지 않습니다. 프로세스 그룹이 없거나 그 크기가 1이면
``bnref.BatchNorm*``과 똑같이 동작합니다.
"""

import torch
import torch.distributed as dist
from torch import nn
from torch.autograd.function import once_differentiable

from bnref import functional as F
from bnref.modules import _BatchNorm

__all__ = ["SyncBatchNorm", "combine_moments"]


def combine_moments(counts, means, m2s):
    """랭크마다의 (n_i, 평균_i, M2_i)를 합친 배치 하나의 (n, 평균, M2)로 만듭니다.

    병렬 분산 공식(parallel variance formula, Chan 외 1979)입니다. 전체 편차 제곱합은 각 조각
    안의 편차 제곱합에, 조각 평균이 전체 평균에서 떨어진 만큼을 조각 크기로 곱해 더한 것입니다.

    .. math::

        n = \\sum_i n_i, \\quad
        \\mu = \\frac{1}{n}\\sum_i n_i \\mu_i, \\quad
        M_2 = \\sum_i M_{2,i} + \\sum_i n_i (\\mu_i - \\mu)^2

    빈 조각(n_i = 0, 평균과 M2는 0)은 아무것도 더하지 않습니다. Σx와 Σx²만 더하는 방법과 달리
    큰 수끼리 빼는 일이 없어서, 값이 0에서 멀리 있어도 정확합니다.

    Args:
        counts: ``(W,)`` 조각마다 채널당 원소 수.
        means: ``(W, C)`` 조각마다 채널별 평균.
        m2s: ``(W, C)`` 조각마다 채널별 편차 제곱합.

    Returns:
        ``(n, mean, m2)``: 스칼라 텐서, ``(C,)``, ``(C,)``. ``n``이 0이면 평균은 nan입니다.

    Examples::

        >>> x = torch.tensor([1.0, 2.0, 3.0, 4.0, 10.0], dtype=torch.float64)
        >>> parts = [x[:2], x[2:2], x[2:]]
        >>> counts = torch.tensor([float(len(p)) for p in parts], dtype=torch.float64)
        >>> means = torch.stack([p.mean() if len(p) else x.new_zeros(()) for p in parts])[:, None]
        >>> m2s = torch.stack([((p - p.mean()) ** 2).sum() if len(p) else x.new_zeros(()) for p in parts])[:, None]
        >>> n, mean, m2 = combine_moments(counts, means, m2s)
        >>> print(int(n), f"{mean.item():.4f}", f"{(m2 / n).item():.4f}", f"{x.var(unbiased=False).item():.4f}")
        5 4.0000 10.0000 10.0000
    """
    n = counts.sum()
    mean = (counts[:, None] * means).sum(0) / n  # (W, C) -> (C,)
    m2 = m2s.sum(0) + (counts[:, None] * (means - mean) ** 2).sum(0)
    return n, mean, m2


def _local_moments(x):
    """이 랭크의 채널별 통계. x는 계산용 dtype입니다.

    Returns: (centred, shift, n, mean, m2). centred = x − shift는 정규화와 역전파가 다시 쓰고,
    mean, m2는 float64 (C,)입니다. 빈 배치면 평균과 M2를 0으로 둡니다. 병렬 분산 공식에서 n_i = 0인
    조각은 그 값과 상관없이 아무것도 더하지 않지만, nan은 0을 곱해도 nan이기 때문입니다.
    """
    n = F._count(x)
    if n == 0:
        zeros = x.new_zeros(x.shape[1], dtype=torch.float64)
        return x, zeros.to(x.dtype), n, zeros, zeros.clone()
    centred, shift, mean, var = F._batch_stats(x)
    return centred, shift, n, mean, var * n  # M2 = n · (편향 분산)


def _all_gather_moments(n, mean, m2, group):
    """모든 랭크의 (n, 평균, M2)를 모아 합칩니다. 통신은 float64 (2C + 1)개의 all_gather 한 번."""
    mine = torch.cat([mean.new_tensor([n]), mean, m2])  # (2C + 1,)
    everyone = [torch.empty_like(mine) for _ in range(dist.get_world_size(group))]
    # all_reduce(합)가 아니라 all_gather: 평균과 M2는 더해서 합쳐지는 값이 아니고,
    # 조각 크기가 서로 다를 수 있어서 각자의 n과 함께 모두 봐야 합니다.
    dist.all_gather(everyone, mine, group=group)
    table = torch.stack(everyone)  # (W, 2C + 1)
    c = mean.numel()
    return combine_moments(table[:, 0], table[:, 1 : c + 1], table[:, c + 1 :])


class _SyncBatchNormFunction(torch.autograd.Function):
    """주어진 전역 통계로 정규화하고, 역전파에서 두 채널별 합을 그룹 전체에 대해 더합니다.

    순전파의 통계는 밖에서(기울기 없이) 구해 넘깁니다. 평균과 분산이 x에 달려 있다는 사실은
    :func:`bnref.functional._grad_input`의 닫힌 꼴이 이미 반영하므로, 필요한 것은 Σdy와 Σdy·x̂이
    이 랭크의 몫이 아니라 이어 붙인 배치 전체의 합이라는 것 하나입니다.
    """

    @staticmethod
    def forward(ctx, input, weight, bias, centred, offset, invstd, count, group):
        ctx.save_for_backward(weight, centred, offset, invstd)
        ctx.count, ctx.group = count, group
        ctx.input_dtype = input.dtype
        ctx.bias_dtype = None if bias is None else bias.dtype
        return F._normalize(centred, offset, invstd, weight, bias).to(input.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        weight, centred, offset, invstd = ctx.saved_tensors
        dy = grad_out.to(centred.dtype)
        sum_dy, sum_dy_xhat = F._grad_sums(dy, centred, offset, invstd)  # 이 랭크의 몫, (C,) 둘
        dx = None
        if ctx.needs_input_grad[0]:
            both = torch.cat([sum_dy, sum_dy_xhat])  # (2C,) float64
            dist.all_reduce(both, group=ctx.group)  # 모든 랭크의 합 = 이어 붙인 배치의 합
            total_dy, total_dy_xhat = both.split(sum_dy.numel())
            dx = F._grad_input(dy, centred, offset, invstd, weight, total_dy, total_dy_xhat, ctx.count)
            dx = dx.to(ctx.input_dtype)
        # γ, β의 기울기는 이 랭크의 몫입니다(torch.nn.SyncBatchNorm과 같게). 랭크 사이에서 맞추는 일(평균)은
        # DistributedDataParallel이 모든 파라미터에 대해 한꺼번에 합니다.
        dw = sum_dy_xhat.to(weight.dtype) if ctx.needs_input_grad[1] else None
        db = sum_dy.to(ctx.bias_dtype) if ctx.needs_input_grad[2] else None
        return dx, dw, db, None, None, None, None, None


def _checkable(input):
    """채널당 값이 1개인 입력을 2개짜리 view로 늘립니다(복사 없음).

    :func:`bnref.functional._check_args`는 이 랭크의 입력에 값이 1개뿐이면 거절하지만, 동기화할 때는
    그룹 전체의 개수가 중요하므로 그 검사는 모은 뒤에 따로 합니다. 나머지 검사(eps, 모양, dtype)는
    그대로 받기 위해 이 view를 넘깁니다.
    """
    return input.expand(2, *input.shape[1:]) if F._count(input) == 1 else input


class SyncBatchNorm(_BatchNorm):
    r"""Applies Batch Normalization over a N-Dimensional input, with statistics over every process.

    :class:`torch.nn.SyncBatchNorm`의 쌍둥이입니다. 학습 중에는 프로세스 그룹(process group)의 모든
    랭크가 가진 미니배치를 이어 붙인 것 하나의 평균과 편향 분산(biased variance, n으로 나눈 분산)으로
    정규화합니다.

    .. math::
        y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \cdot \gamma + \beta

    랭크마다 채널별 (n, 평균, M2)를 float64로 구해 ``all_gather`` 하고 병렬 분산 공식
    (:func:`combine_moments`)으로 합치므로, 랭크마다 배치 크기가 달라도, 배치가 빈 랭크가 있어도
    이어 붙인 배치에 ``bnref.BatchNorm*``을 쓴 것과 같은 값이 나옵니다. 이동 통계 ``running_mean``,
    ``running_var``는 전역 평균과 전역 불편 분산(unbiased, n−1로 나눈 분산)으로 갱신되어 모든 랭크에서
    같습니다. 역전파는 채널별 합 Σdy, Σdy·x̂을 ``all_reduce`` 합니다. γ, β의 기울기는 이 랭크의 몫입니다.

    평가 모드는 아무것도 주고받지 않습니다. ``torch.distributed``의 프로세스 그룹이 초기화되지
    않았거나 그룹 크기가 1이면 ``bnref.BatchNorm*``과 똑같이 동작합니다. torch의 것과 달리 CPU와
    gloo에서도 돌고, 이중 미분(double backward)은 동기화 경로에서 지원하지 않습니다.

    Args:
        num_features: 채널 수 C
        eps: 분모에 더하는 작은 수. Default: 1e-5
        momentum: 이동 통계에서 새 배치가 차지하는 몫. ``None``이면 누적 평균. Default: 0.1
        affine: 학습하는 γ, β를 둘지. Default: ``True``
        track_running_stats: 이동 통계를 쌓을지. Default: ``True``
        process_group: 통계를 모을 프로세스 그룹. ``None``이면 전체(WORLD). Default: ``None``
        device, dtype: 파라미터와 버퍼를 만들 곳과 자료형. Default: ``None``
        bias: (키워드 전용) β를 둘지. Default: ``True``

    Shape:
        - Input: :math:`(N, C, +)`
        - Output: :math:`(N, C, +)` (same shape as input)

    Examples::

        >>> import torch, bnref
        >>> bn = bnref.SyncBatchNorm(2)     # 프로세스 그룹 없음: BatchNorm과 같음
        >>> x = torch.arange(12.0).reshape(3, 2, 2)
        >>> y = bn(x)
        >>> [round(v, 4) + 0.0 for v in y.mean((0, 2)).tolist()]
        [0.0, 0.0]
        >>> bn.running_mean                 # 0.1 · (4.5, 6.5)
        tensor([0.4500, 0.6500])

    여러 프로세스에서 쓰는 예는 :func:`bnref.course.launch.spawn`과 강의 13을, ``torchrun``과
    DistributedDataParallel로 모델 전체를 학습하는 예는 ``bnref.course.examples.ddp_digits``와 강의 14를
    보세요.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device=device, dtype=dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input):
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def _group_to_sync(self):
        """통계를 모을 그룹, 또는 모을 필요가 없으면 None (평가 모드, 그룹 없음, 크기 1)."""
        if not (self.training and dist.is_available() and dist.is_initialized()):
            return None
        group = dist.group.WORLD if self.process_group is None else self.process_group
        return group if dist.get_world_size(group) > 1 else None

    def forward(self, input):
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        group = self._group_to_sync()
        if group is None:
            return super().forward(input)
        running_mean = self.running_mean if self.track_running_stats else None
        running_var = self.running_var if self.track_running_stats else None
        momentum = 0.0 if self.momentum is None else self.momentum
        # 통신 전에 이 rank 에서 알 수 있는 잘못은 모두 거절합니다. 아무것도 바꾸지 않습니다.
        F._check_args(_checkable(input), running_mean, running_var, self.weight, self.bias, True,
                      momentum, self.eps)
        with torch.no_grad():
            x = input.detach().to(F._compute_dtype(input))
            centred, shift, n_local, mean, m2 = _local_moments(x)
            n, mean, m2 = _all_gather_moments(n_local, mean, m2, group)
        n = int(n.item())
        if n == 1:  # 모든 rank 가 같은 n 을 보므로 모두 함께 거절합니다 (하나만 멈추지 않게).
            raise ValueError(
                "Expected more than 1 value per channel when training, got 1 value per channel "
                f"across the {dist.get_world_size(group)} processes of the group"
            )
        if self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # 누적 평균(cumulative average)
                momentum = 1.0 / float(self.num_batches_tracked)
        if n == 0:  # 그룹 전체가 빈 배치: BatchNorm 처럼 빈 출력, running 통계 그대로
            return _SyncBatchNormFunction.apply(input, self.weight, self.bias, centred,
                                                mean.new_zeros(mean.shape), mean.new_ones(mean.shape),
                                                n, group)
        var = m2 / n  # 정규화에는 편향(biased) 분산
        F._update_running_stats(running_mean, running_var, mean, var, n, momentum)  # 여기서 n/(n−1)
        invstd = F._invstd(var, self.eps)
        offset = mean - shift.double()  # 전역 평균은 이 rank 의 centred = x − shift 기준으로
        return _SyncBatchNormFunction.apply(input, self.weight, self.bias, centred, offset, invstd, n, group)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        r"""모델 안의 모든 ``BatchNorm*D`` 층을 :class:`SyncBatchNorm`으로 바꿉니다(torch의 것과 같게).

        ``bnref.BatchNorm*``과 ``torch.nn.BatchNorm*``을 모두 바꿉니다. 하위 모듈을 따라 내려가며
        바꾸고, γ, β와 이동 통계 버퍼는 복사하지 않고 같은 텐서를 넘겨주며(그래서 옵티마이저가 가진
        파라미터가 그대로 이어집니다), ``training`` 플래그를 지킵니다.

        Args:
            module: 하나 이상의 ``BatchNorm*D`` 층을 가진 모듈
            process_group: 통계를 모을 그룹. ``None``이면 전체. Default: ``None``

        Returns:
            바뀐 층을 가진 원래 ``module``. ``module`` 자체가 ``BatchNorm*D``이면 새
            :class:`SyncBatchNorm`을 돌려줍니다.

        Examples::

            >>> import torch, bnref
            >>> net = torch.nn.Sequential(torch.nn.Linear(4, 3), bnref.BatchNorm1d(3), torch.nn.ReLU())
            >>> net = bnref.SyncBatchNorm.convert_sync_batchnorm(net)
            >>> [type(m).__name__ for m in net]
            ['Linear', 'SyncBatchNorm', 'ReLU']
        """
        converted = module
        # torch 처럼 배치 정규화 층(_BatchNorm) 은 모두, InstanceNorm(_NormBase) 은 그대로 둡니다.
        if isinstance(module, (_BatchNorm, nn.modules.batchnorm._BatchNorm)):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                with torch.no_grad():
                    converted.weight = module.weight
                    converted.bias = module.bias
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.training = module.training
            if hasattr(module, "qconfig"):
                converted.qconfig = module.qconfig
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted
