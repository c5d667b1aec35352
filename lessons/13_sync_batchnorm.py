# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 여러 프로세스에서 BN (SyncBatchNorm)
#
# 미니배치(mini-batch) 하나를 여러 장치에 나눠 계산하면 학습이 빨라집니다. 모델이나 이미지가 커서
# 미니배치가 한 장치에 다 들어가지 않을 때도 이렇게 나눕니다. 장치마다 프로세스(process)를 하나씩 띄워
# 각자 자기 몫을 계산하는데, 이것을 데이터 병렬(data parallel) 학습이라고 합니다. 프로세스마다 붙은
# 번호를 랭크(rank)라고 부릅니다.
#
# 배치 정규화(batch normalization)는 미니배치의 통계로 정규화하는 층입니다. 그런데 데이터 병렬에서는
# 각 프로세스가 미니배치의 일부만 봅니다. 아무것도 하지 않으면 BN은 **자기 몫**의 평균과 분산으로
# 정규화합니다. 장치 하나에 샘플이 두세 개뿐이라면 이 통계는 믿기 어렵습니다. 그래서 모든 프로세스의
# 조각을 합친 미니배치 전체의 통계로 정규화하는 층을 씁니다. 이것이 동기화 배치 정규화(synchronized
# batch normalization, `SyncBatchNorm`)입니다.
#
# 이 강의에서 다루는 것은 네 가지입니다.
#
# 1. 프로세스마다 따로 구한 통계가 얼마나 틀리는지 (샘플 2–8개)
# 2. 여러 조각의 통계를 정확히 합치는 방법: 병렬 분산 공식(parallel variance formula)
# 3. 이 기계에서 프로세스 4개로 `bnref.SyncBatchNorm`을 돌려, 미니배치 하나와 같은 값이 나오는지 확인
# 4. 그 대가: 주고받는 바이트 수와 시간
#
# 용어는 [용어집](../glossary.md)에 정리해 두었습니다.

# %%
import copy
import statistics

import torch
from IPython.display import Markdown, display

import bnref
from bnref.course.printing import fmt, markdown_table

# %% [markdown]
# ## 샘플이 적으면 프로세스마다의 통계가 흔들린다
#
# 가장 극단적인 경우부터 봅니다. 특성(feature) 하나에 샘플이 두 개뿐이면, 두 값이 무엇이든 배치
# 정규화의 출력은 −1과 1입니다. 평균은 두 값의 한가운데이고, 표준편차는 두 값 사이 거리의 절반이기
# 때문입니다. 출력에 남는 정보는 어느 쪽이 더 큰가 하나뿐입니다.

# %%
for pair in ([3.0, 7.0], [-50.0, 1000.0]):
    x = torch.tensor(pair).reshape(2, 1)  # 샘플 2개, 특성 1개
    y = bnref.functional.batch_norm(x, None, None, training=True)
    print(f"입력 {fmt(x.flatten(), 1)} -> 출력 {fmt(y.flatten())}")

# %% [markdown]
# 이제 조금 더 일반적으로 재 봅니다. 프로세스 8개가 각자 $k$개씩 샘플을 가진다고 합시다. 전체
# 미니배치는 $8k$개입니다. 값은 평균 0, 분산 1인 정규분포(normal distribution)에서 뽑습니다. 같은
# 실험을 2000번 되풀이하면서, 각 프로세스의 배치 평균이 전체 미니배치의 배치 평균에서 얼마나
# 떨어지는지, 각 프로세스의 배치 분산이 전체의 배치 분산의 몇 배인지를 잽니다. 배치 분산은 정규화에 쓰는
# 편향 분산(n으로 나눈 분산)입니다.
#
# 평균의 차이는 이론으로도 구할 수 있습니다. 샘플 $k$개의 평균은 분산이 $1/k$이고, 전체 평균은
# 그 프로세스의 샘플도 포함하므로 차이의 분산은 $1/k - 1/(8k)$입니다. 표에는 그 제곱근을 함께 적었습니다.

# %%
WORLD = 8  # 프로세스 수
TRIALS = 2000  # 되풀이 횟수
gen = torch.Generator().manual_seed(0)

rows = []
for k in range(2, 9):
    x = torch.randn(TRIALS, WORLD, k, generator=gen, dtype=torch.float64)  # (실험, 프로세스, 샘플)
    local_mean, local_var = x.mean(-1), x.var(-1, correction=0)  # 프로세스마다: (실험, 프로세스)
    whole = x.reshape(TRIALS, -1)
    global_mean, global_var = whole.mean(-1, keepdim=True), whole.var(-1, correction=0, keepdim=True)
    mean_gap = (local_mean - global_mean).pow(2).mean().sqrt()  # 차이의 제곱평균제곱근
    ratio = local_var / global_var
    rows.append([
        str(k),
        mean_gap,
        (1 / k - 1 / (WORLD * k)) ** 0.5,
        ratio.mean(),
        (ratio < 0.5).double().mean(),
        (ratio > 2).double().mean(),
    ])

headers = ["프로세스당 샘플", "평균의 차이", "이론", "분산의 비 (평균)", "비 < 0.5인 비율", "비 > 2인 비율"]
display(Markdown(markdown_table(headers, rows, digits=2)))

# %% [markdown]
# 첫 줄(샘플 2개)을 보면, 프로세스의 배치 평균은 전체의 배치 평균에서 표준편차(여기서는 1)의 3분의 2쯤
# 떨어져 있습니다. 배치 분산은 평균적으로 전체의 0.53배이고, 전체의 절반에도 못 미치는 경우가 열에
# 여섯 번이 넘습니다(0.65).
# 편향 분산은 $n$으로 나누므로 $n$이 작을수록 평균적으로 작게 나오는데(기댓값이 $\frac{n-1}{n}$배),
# 그 위에 흔들림까지 큽니다. 측정한 평균의 차이는 이론값과 잘 맞고, 샘플이 늘어도 $1/\sqrt{k}$처럼
# 천천히 줄어들 뿐입니다.
#
# 이런 통계로 정규화하면 같은 샘플이라도 어느 프로세스에서 누구와 함께 묶였느냐에 따라 출력이 크게
# 바뀝니다. 학습 모드와 평가 모드의 차이도 커집니다. 이동 통계(running statistics)는 전체 분포를
# 담으려 하는데, 학습 때 쓴 통계는 작은 조각의 것이기 때문입니다.
#
# 해결책은 간단합니다. 모든 프로세스의 조각을 이어 붙인 미니배치 **하나의** 통계를 쓰면 됩니다.
# 데이터 자체를 모을 필요는 없습니다. 각 프로세스가 특성마다 숫자 몇 개만 내놓으면 됩니다.

# %% [markdown]
# ## 통계를 합치는 법: 병렬 분산 공식
#
# 프로세스 $i$가 특성마다 세 값을 내놓는다고 합시다. 샘플 수 $n_i$, 평균 $\mu_i$, 그리고 편차
# 제곱합 $M_{2,i} = \sum (x - \mu_i)^2$입니다. 그러면 이어 붙인 미니배치의 값은 다음과 같습니다.
#
# $$n = \sum_i n_i, \qquad \mu = \frac{1}{n}\sum_i n_i \mu_i, \qquad
# M_2 = \sum_i M_{2,i} + \sum_i n_i (\mu_i - \mu)^2$$
#
# 편차 제곱합은 "조각 안에서의 흩어짐"과 "조각 평균끼리의 흩어짐"의 합이라는 뜻입니다(Chan 등, 1979).
# 배치 분산은 $M_2/n$ (편향 분산, 정규화에 씀), 이동 분산에 넣는 불편 분산(unbiased variance)은
# $M_2/(n-1)$입니다. 샘플이 없는 프로세스는 $n_i = 0$이라 아무것도 더하지 않으므로, 조각 크기가
# 제각각이어도, 빈 조각이 있어도 그대로 맞습니다.
#
# 값 $8$개를 크기가 3, 0, 5인 세 조각으로 나누어 확인해 봅니다. `bnref.sync.combine_moments`가 이
# 공식입니다. 값은 일부러 1000 근처에 둡니다.

# %%
from bnref.sync import combine_moments

gen = torch.Generator().manual_seed(1)
x = torch.randn(8, 1, generator=gen, dtype=torch.float64) + 1000  # 샘플 8개, 특성 1개
parts = torch.split(x, [3, 0, 5])

counts = torch.tensor([float(len(p)) for p in parts], dtype=torch.float64)
means = torch.stack([p.mean(0) if len(p) else torch.zeros(1, dtype=torch.float64) for p in parts])
m2s = torch.stack([((p - p.mean(0)) ** 2).sum(0) if len(p) else torch.zeros(1, dtype=torch.float64) for p in parts])
n, mean, m2 = combine_moments(counts, means, m2s)

print("합친 평균:", fmt(mean), "  한 번에 구한 평균:", fmt(x.mean(0)))
print("합친 분산:", fmt(m2 / n), "  한 번에 구한 분산:", fmt(x.var(0, correction=0)))

# %% [markdown]
# 더 간단해 보이는 방법도 있습니다. 각 프로세스가 $n_i$, $\sum x$, $\sum x^2$만 내놓고 모두 더한 뒤
# $\operatorname{E}[x^2] - \operatorname{E}[x]^2$으로 분산을 구하는 것입니다. 더하기 한 번(`all_reduce`)이면
# 되지만, 값이 0에서 멀면 큰 두 수를 빼면서 자릿수를 잃습니다. float32로 해 보면 차이가 분명합니다.

# %%
x32 = x.float()
sum_x = sum(p.sum(0) for p in torch.split(x32, [3, 0, 5]))
sum_x2 = sum((p * p).sum(0) for p in torch.split(x32, [3, 0, 5]))
naive = sum_x2 / 8 - (sum_x / 8) ** 2
print("Σx, Σx²으로 구한 분산 (float32):", fmt(naive))
print("실제 분산:", fmt(x.var(0, correction=0)))

# %% [markdown]
# 그래서 `bnref.SyncBatchNorm`은 각 프로세스가 float64로 구한 $[n_i, \mu_i, M_{2,i}]$를 모두에게
# 보내고(`all_gather`), 받은 것을 위 공식으로 합칩니다. `all_gather`와 `all_reduce`처럼 그룹의 모든
# 프로세스가 함께 부르는 통신을 집합 통신(collective communication)이라고 합니다. 모든 프로세스가 같은
# 표를 받아 같은 순서로 합치므로, 합친 값과 갱신한 이동 통계가 프로세스마다 비트 하나까지 같습니다.
#
# 역전파(backward)도 한 번 주고받습니다. 배치 정규화의 입력 기울기는 [강의 6](06_backward.md)에서 구한 대로
# $\frac{\partial L}{\partial x} = \frac{\gamma r}{n}\big(n\,dy - \sum dy - \hat{x}\sum dy\,\hat{x}\big)$입니다
# ($r = (\sigma^2 + \epsilon)^{-1/2}$). 여기서 전체 미니배치에 걸친 것은 특성마다의 두 합 $\sum dy$,
# $\sum dy\,\hat{x}$뿐입니다. 그래서 이 두 합을 모든 프로세스에 대해 더하면(`all_reduce`) 됩니다.
# γ와 β의 기울기는 자기 몫만 냅니다. 프로세스 사이에서 파라미터 기울기를 맞추는 일은
# `DistributedDataParallel`(DDP)가 모든 파라미터에 대해 한꺼번에 합니다.
# DDP는 기울기의 **평균**을 냅니다. 각 프로세스의 기울기를 프로세스 수로 나누고 모두 더합니다. 실제
# 학습에서는 각 프로세스의 손실이 자기 몫의 평균이므로, 조각 크기가 같으면 이 평균이 전체 미니배치의
# 평균 손실의 기울기가 됩니다. `torchrun`과 DDP로 모델 전체를 학습하는 것은
# [다음 강의](14_ddp_torchrun.md)에서 봅니다.

# %% [markdown]
# ## 프로세스 4개로 돌려 보기
#
# `torch.nn.SyncBatchNorm`은 GPU용입니다. CPU 입력에 쓰면
# `ValueError: SyncBatchNorm expected input tensor to be on GPU or XPU or privateuseone`이 납니다.
# `bnref.SyncBatchNorm`은 `torch.distributed`의 `all_gather`와 `all_reduce`만 쓰므로, CPU용 통신
# 백엔드(backend)인 gloo로 이 기계에서 바로 돌아갑니다. 여러 GPU로 학습할 때는 보통 NCCL 백엔드를 쓰는데,
# gloo와 NCCL은 같은 `torch.distributed` API를 제공하므로 이 코드는 어느 백엔드에서나 그대로입니다.
#
# `bnref.course.launch.spawn(함수, 프로세스 수, 인자)`는 프로세스를 띄우고, 모두를 한 프로세스 그룹(process
# group)으로 묶은 다음, 각 프로세스에서 `함수(rank, *인자)`를 불러 결과를 랭크 순서로 돌려줍니다.
# 여기서 부르는 `bnref.course.sync_workers.sync_train`은 이어 붙인 미니배치에서 자기 랭크의 몫을 잘라
# `SyncBatchNorm`으로 학습 스텝을 한 번 돌리고, 출력과 기울기와 이동 통계를 돌려줍니다.
#
# 샘플 8개를 프로세스 4개에 두 개씩 나눕니다. 비교할 기준은 같은 8개를 한 프로세스에서 `BatchNorm1d`
# 하나로 처리한 결과입니다. 아무것도 맞추지 않고 프로세스마다 따로 `BatchNorm1d`를 쓴 경우도 함께 봅니다.
#
# 프로세스를 띄우는 데는 계산보다 훨씬 긴 시간이 듭니다. 프로세스마다 torch를 새로 불러오기 때문입니다.
# 그래서 다음 절에서 볼 비용 측정(`bnref.course.sync_workers.step_cost`)도 같은 프로세스들에서 이어서 돌립니다.
# `bnref.course.launch.run_in_order`가 작업 목록을 차례로 돌려 줍니다.

# %%
from bnref.course.launch import run_in_order, spawn
from bnref.course.sync_workers import shard, step_cost, sync_train, train_steps

SIZES = (2, 2, 2, 2)  # 프로세스마다 샘플 수
gen = torch.Generator().manual_seed(2)
x = torch.randn(8, 3, generator=gen, dtype=torch.float64) * 3 + 10  # 이어 붙인 미니배치: 샘플 8개, 특성 3개
g = torch.randn(8, 3, generator=gen, dtype=torch.float64)  # 출력에 흘러 들어오는 기울기 (손실 Σ y·g)
start = bnref.BatchNorm1d(3, dtype=torch.float64).state_dict()

SHAPE = (8, 64, 16, 16)  # 비용을 잴 층의 입력, 프로세스마다: (N, C, H, W)
jobs = [(sync_train, ([x], [g], SIZES, start)), (step_cost, (SHAPE, 20))]
results = spawn(run_in_order, len(SIZES), (jobs,))  # 프로세스 4개
ranks = [r[0] for r in results]  # 랭크마다 sync_train의 결과
cost = [r[1] for r in results]  # 랭크마다 step_cost의 결과: 다음 절에서 봅니다

one_batch = bnref.BatchNorm1d(3, dtype=torch.float64)
one_batch.load_state_dict(copy.deepcopy(start))
want = train_steps(one_batch, [x], [g])  # 기준: 한 프로세스, 미니배치 하나

alone = []  # 맞추지 않은 BN: 프로세스마다 자기 몫만으로
for rank in range(len(SIZES)):
    bn = bnref.BatchNorm1d(3, dtype=torch.float64)
    bn.load_state_dict(copy.deepcopy(start))
    alone.append(train_steps(bn, [shard(x, SIZES, rank)], [shard(g, SIZES, rank)]))


def gap(results, key):
    """기준과의 가장 큰 차이. 출력과 입력 기울기는 이어 붙이고, 이동 통계는 랭크 0의 것을 봅니다.

    γ·β 기울기는 랭크들의 몫을 더합니다. 이 강의의 손실 Σ(y·g)는 샘플들의 합이므로 전체의 기울기가 몫들의
    합입니다. (DDP는 평균을 냅니다. 실제 학습에서는 손실이 프로세스마다 자기 몫의 평균이어서, 그 평균이
    전체 평균 손실의 기울기가 됩니다.)
    """
    if key in ("output", "grad_input"):
        got = torch.cat([r[key] for r in results])
    elif key in ("grad_weight", "grad_bias"):
        got = sum(r[key] for r in results)
    else:
        got = results[0][key]
    return (got - want[key]).abs().max()


names = {"output": "출력", "grad_input": "입력 기울기", "grad_weight": "γ 기울기", "grad_bias": "β 기울기",
         "running_mean": "이동 평균", "running_var": "이동 분산"}
rows = [[label, gap(ranks, key), gap(alone, key)] for key, label in names.items()]
display(Markdown(markdown_table(["값", "SyncBatchNorm (프로세스 4개)", "프로세스마다 따로 BN"], rows, digits=6)))
same = all(torch.equal(r[k], ranks[0][k]) for r in ranks for k in ("running_mean", "running_var"))
print("네 프로세스의 이동 통계가 모두 같은가:", same)

# %% [markdown]
# 표의 숫자는 미니배치 하나로 계산한 값과의 가장 큰 차이입니다. `SyncBatchNorm`은 float64의 반올림
# 차이 말고는 같은 값을 냅니다. 프로세스마다 따로 정규화하면 출력부터 다르고, 이동 통계도 프로세스마다
# 제각각이 됩니다. 출력이 다르니 입력 기울기와 γ 기울기도 달라집니다. β 기울기 $\sum dy$만은 통계와
# 상관이 없어서 같습니다.
#
# 조각 크기가 달라도, 샘플이 하나도 없는 프로세스가 있어도 결과는 같습니다. `tests/test_sync.py`가 프로세스
# 2개와 3개, 조각 크기 (3, 0, 5), 1000 근처의 입력으로 이것을 확인합니다.
#
# 평가 모드(evaluation mode)에서는 주고받는 것이 없습니다. 이동 통계가 모든 프로세스에서 같으므로 각자
# 자기 입력을 정규화하면 됩니다.

# %% [markdown]
# ## 대가: 주고받는 바이트와 시간
#
# 특성(채널)이 $C$개인 층 하나, 학습 스텝 하나에서 프로세스 하나가 통신에 내놓는 데이터는 다음과 같습니다.
#
# - 순전파(forward): $[n_i, \mu_i, M_{2,i}]$, 곧 float64 $2C + 1$개 $= 8(2C+1)$ 바이트를 `all_gather`
# - 역전파: $\sum dy$, $\sum dy\,\hat{x}$, 곧 float64 $2C$개 $= 16C$ 바이트를 `all_reduce`
#
# 앞 절의 프로세스들이 이어서 잰 값을 봅니다. `bnref.course.sync_workers.step_cost`는 모양이 `SHAPE`인
# 입력으로 보통의 `BatchNorm2d`와 `SyncBatchNorm`의 학습 스텝을 20번씩 번갈아 돌려 시간을 재고, 한 스텝
# 동안 부른 통신 함수와 그 크기를 기록했습니다.

# %%
C = SHAPE[1]
formula = [("all_gather", 8 * (2 * C + 1)), ("all_reduce", 16 * C)]
print("한 스텝에 부른 통신 (랭크 0):", cost[0]["collectives"])
print("공식과 같은가:", all(r["collectives"] == formula for r in cost))
activation = torch.Size(SHAPE).numel() * 4  # float32 입력 자체의 크기
sent = sum(size for _, size in formula)
print(f"층 입력의 크기: {activation} 바이트, 통계는 그 {100 * sent / activation:.2f}%")

# %% [markdown]
# 주고받는 통계는 층 입력 자체에 비하면 아주 작습니다. 대가는 바이트보다 **기다림**에 있습니다.
# BN 층마다 순전파에 한 번, 역전파에 한 번, 모든 프로세스가 서로를 기다립니다. BN 층이 $L$개인 모델이면
# 스텝마다 $2L$번이고, 가장 느린 프로세스가 전체의 속도를 정합니다.
#
# 아래는 이 기계에서 잰 스텝당 시간(중앙값)과, 각 프로세스가 통신으로 실제로 내보낸 바이트입니다.
# gloo는 링(ring) 방식으로 주고받으므로 `all_gather`는 자기 조각을 $(W-1)$번, `all_reduce`는 더할
# 데이터 크기의 $2(W-1)/W$배를 보내고, 메시지마다 머리말(header)이 붙습니다. 시간은 실행할 때마다 달라지므로
# 테스트로 고정하지 않습니다. 두 시간의 비는 이 페이지를 만든 기계에 달려 있습니다. 코어보다 프로세스가
# 많으면 프로세스들이 번갈아 돌면서 서로를 기다리는 시간이 비에 섞이고, GPU와 NCCL에서는 계산과 통신의
# 속도가 모두 다릅니다. 그러니 이 비는 기다림이 있다는 것만 보여 줄 뿐, 다른 기계의 비용을 말해 주지는 않습니다.

# %%
plain_ms = 1000 * statistics.median(r["plain_s"] for r in cost)  # 프로세스 4개의 중앙값
sync_ms = 1000 * statistics.median(r["sync_s"] for r in cost)
print(f"BatchNorm2d: {plain_ms:.2f} ms/스텝, SyncBatchNorm: {sync_ms:.2f} ms/스텝 ({sync_ms / plain_ms:.1f}배)")
W = len(cost)
ring = (W - 1) * 8 * (2 * C + 1) + 2 * (W - 1) * 16 * C // W
written = cost[0]["written_bytes"]
if written is None:
    print("이 운영체제에서는 내보낸 바이트를 잴 수 없습니다.")
else:
    messages = (W - 1) + 2 * (W - 1)
    print(f"내보낸 바이트 (랭크 0): {written}, 데이터만 (링 공식): {ring}, "
          f"메시지 {messages}개의 머리말: 메시지당 {(written - ring) / messages:.0f} 바이트")

# %% [markdown]
# ## 정리
#
# - 프로세스마다 샘플이 적으면, 자기 몫만으로 구한 배치 통계는 전체의 것과 크게 다르고 배치 분산은
#   체계적으로 작습니다. `SyncBatchNorm`은 모든 프로세스의 조각을 이어 붙인 미니배치 하나의 통계를 씁니다.
# - 통계는 $[n_i, \mu_i, M_{2,i}]$를 모아(`all_gather`) 병렬 분산 공식으로 합칩니다. 조각 크기가 달라도,
#   빈 조각이 있어도, 값이 0에서 멀어도 정확합니다. 역전파는 두 합을 더합니다(`all_reduce`).
# - 대가는 층마다 스텝마다 두 번의 기다림입니다. 프로세스당 샘플이 충분하면(보통 수십 개) 쓰지 않아도 됩니다.
# - 모델의 BN 층은 `bnref.SyncBatchNorm.convert_sync_batchnorm(model)`로 한꺼번에 바꿉니다. 모델 전체를
#   `torchrun`과 DDP로 학습하는 것은 [torchrun과 DDP로 학습하기](14_ddp_torchrun.md)에서 봅니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** 프로세스 4개가 샘플을 각각 4개, 4개, 4개, 0개 가졌습니다. 빈 프로세스도 `all_gather`와
# `all_reduce`를 불러야 할까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 불러야 합니다. 집합 통신은 그룹의 모든 프로세스가 같은 순서로 불러야
# 끝납니다. 빈 프로세스가 빠지면 나머지 셋은 통신의 제한 시간(timeout)이 지날 때까지 기다리다가 오류로
# 멈춥니다. 빈 프로세스는 $n_i = 0$과 0으로 채운 평균, $M_2$를 보내고, 역전파에서는 0인 두 합을
# 보냅니다. 공식에서 $n_i = 0$인 조각은 아무것도 더하지 않으므로 결과는 그대로입니다.
#
# </details>
#
# **2.** 각 프로세스의 평균 $\mu_i$만 더해서(`all_reduce`) 프로세스 수로 나누면 왜 안 될까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 조각 크기가 같을 때만 맞습니다. 크기가 다르면 샘플이 많은 조각의 평균에 더 큰 비중을 줘야 하므로
# $\mu = \sum n_i \mu_i / \sum n_i$여야 합니다. 분산은 크기가 같아도 안 됩니다. 조각 평균끼리의
# 흩어짐 $\sum n_i(\mu_i - \mu)^2$이 빠지기 때문입니다.
#
# </details>
#
# **3.** 평가 모드에서 `track_running_stats=False`인 `SyncBatchNorm`은 어떤 통계로 정규화할까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 이동 통계가 없으므로 배치 통계를 씁니다. 그런데 평가 모드는 통신하지 않으므로(torch의
# `SyncBatchNorm`도 같습니다) 각 프로세스가 **자기 몫의** 배치 통계로 정규화합니다. 학습 때와 다른
# 통계이니, 이 설정은 프로세스당 샘플이 많을 때만 씁니다.
#
# </details>
