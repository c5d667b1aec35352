"""bnref: 처음부터 다시 쓴 배치 정규화(batch normalization), ``torch.nn.BatchNorm*`` 의 쌍둥이.

수학은 :mod:`bnref.functional`, 층(매개변수·버퍼·장부 정리)은 :mod:`bnref.modules`.
"""
from bnref import functional
from bnref.modules import BatchNorm1d, BatchNorm2d, BatchNorm3d
from bnref.sync import SyncBatchNorm

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "functional"]

from bnref.norms import GroupNorm, InstanceNorm1d, InstanceNorm2d, LayerNorm  # noqa: E402  배치 정규화의 대안들
__all__ += ["LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d"]
