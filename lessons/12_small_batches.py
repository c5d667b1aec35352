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
# # 작은 배치와 대안들
#
# 배치 정규화(batch normalization)는 미니배치(mini-batch)의 평균과 분산을 데이터 전체의 평균과
# 분산 대신 씁니다. 미니배치가 크면 둘이 거의 같지만, 배치 크기(batch size)가 작아지면 배치 통계는
# 샘플 몇 개로 낸 거친 추정값이 됩니다. 큰 이미지를 다루는 검출·분할 모델이나 메모리가 빠듯한
# 모델에서는 GPU 하나에 샘플이 1~2개밖에 안 들어가는 일이 흔하므로, 이것은 실제로 자주 부딪히는
# 문제입니다.
#
# 이번 강의에서는 먼저 배치 크기 2, 4, 8, 32에서 배치 정규화가 얼마나 흔들리는지 숫자로 재고, 그다음
# 통계를 미니배치가 아니라 **샘플 하나 안에서** 내는 세 가지 대안, 층 정규화(layer normalization),
# 인스턴스 정규화(instance normalization), 그룹 정규화(group normalization)를 봅니다. 넷의 가장 큰 차이는
# "어떤 값들을 모아 평균과 분산을 내는가"입니다. 용어는 [용어집](../glossary.md)에 있습니다.

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as TF
from IPython.display import Markdown, display
from torch import nn

import bnref
from bnref import norms
from bnref.course import experiments
from bnref.course.printing import fmt, markdown_table
from bnref.course.viz import use_korean_font

use_korean_font()

# %% [markdown]
# ## 데이터: 손글씨 숫자
#
# [실제 데이터로 학습하기](07_digits_training.py)에서 쓴 scikit-learn의 손글씨 숫자(8×8 픽셀 64개)를
# 씁니다. `experiments.load_digits`는 픽셀마다 **학습 데이터 전체**의 평균을 빼고 표준편차로 나눠
# 둡니다. 그래서 학습 데이터 전체를 모집단(population)으로 보면, 값이 모두 0인 가장자리 픽셀을 뺀 모든 픽셀의
# 모집단 평균은 정확히 0, 모집단 분산은 정확히 1입니다. 미니배치의 통계가 이 참값에서 얼마나
# 벗어나는지 바로 잴 수 있습니다.

# %%
data = experiments.load_digits()
pixels = data.x_train[:, data.x_train.var(0, correction=0) > 0]  # 항상 0인 픽셀은 뺌
print("학습 샘플과 픽셀:", tuple(pixels.shape))
print("모집단 평균의 범위:", fmt(pixels.mean(0).min()), "~", fmt(pixels.mean(0).max()))
print("모집단 분산의 범위:", fmt(pixels.var(0, correction=0).min()), "~", fmt(pixels.var(0, correction=0).max()))

# %% [markdown]
# ## 배치 통계는 표본입니다
#
# 배치 크기마다 미니배치를 500개씩 무작위로 뽑아, 배치 정규화가 학습 모드에서 하는 일을 그대로
# 합니다. 픽셀마다 배치 평균과 배치 분산(편향 분산, 곧 n으로 나눈 분산)을 내고, 그것으로 정규화합니다. 세 가지를 잽니다.
#
# - **배치 평균의 오차**: 배치 평균과 모집단 평균(0)의 차이의 제곱평균제곱근(RMS). 모집단 표준편차가
#   1이므로 이론값은 대략 $1/\sqrt{n}$입니다.
# - **배치 분산 ÷ 모집단 분산**: 평균과 그 흩어짐(표준편차). 편향 분산의 기댓값은 모집단 분산의
#   $(n-1)/n$배라서, 작은 배치일수록 평균적으로도 작게 나옵니다.
# - **출력의 흔들림**: 같은 값을 배치 통계로 정규화한 결과와 모집단 통계로 정규화한 결과(평가 모드가
#   하려는 일)의 차이, RMS. 학습 모드의 출력이 같은 샘플이라도 함께 뽑힌 샘플에 따라 얼마나
#   달라지는지를 보여 줍니다.

# %%
BATCH_SIZES = [2, 4, 8, 32]
generator = torch.Generator().manual_seed(0)


def batch_stats_noise(n, draws=500):
    idx = torch.stack([torch.randperm(len(pixels), generator=generator)[:n] for _ in range(draws)])
    batches = pixels[idx]  # (미니배치 500개, n, 픽셀)
    mean = batches.mean(1, keepdim=True)  # (500, 1, 픽셀): 배치 평균
    var = batches.var(1, correction=0, keepdim=True)  # 편향 분산: 정규화에 쓰는 것
    train_out = (batches - mean) / torch.sqrt(var + 1e-5)  # 학습 모드의 정규화
    eval_out = batches  # 모집단 평균 0, 분산 1로 정규화한 값 = 원래 값
    return [n, mean.pow(2).mean().sqrt(), var.mean(), var.std(),
            (train_out - eval_out).pow(2).mean().sqrt()]


rows = [batch_stats_noise(n) for n in BATCH_SIZES]
display(Markdown(markdown_table(
    ["배치 크기", "배치 평균의 오차 (RMS)", "분산 비 (평균)", "분산 비 (표준편차)", "출력의 흔들림 (RMS)"],
    [[str(r[0]), *r[1:]] for r in rows], digits=3)))

# %% [markdown]
# 배치가 작을수록 세 값이 모두 나빠집니다. 평균의 오차는 대략 $1/\sqrt{n}$을 따라 커지고, 분산은
# 평균적으로 작게 잡히면서 훨씬 크게 흩어집니다. 그 결과 학습 모드의 출력은 모집단 통계로 정규화한
# 값과 점점 멀어집니다. 학습 때 보는 출력과 평가 때 보는 출력이 달라진다는 뜻입니다.
#
# 배치 크기 2는 특히 극단적입니다. 값이 두 개뿐이면 평균은 둘의 가운데이고 편향 분산은 (차이/2)²이라,
# 정규화한 값은 두 값이 무엇이든 ε을 무시하면 언제나 −1과 +1(두 값이 같으면 0)이 됩니다. 크기 정보가 모두
# 사라집니다.

# %%
pair = pixels[:2]  # 미니배치 하나: 샘플 2개
out = bnref.functional.batch_norm(pair, None, None, training=True)
magnitudes = out.abs().flatten()
share = ((magnitudes - 1).abs() < 1e-3) | (magnitudes < 1e-3)
print("정규화한 값의 개수:", magnitudes.numel())
print("−1, 0, +1 중 하나인 값의 비율:", fmt(share.double().mean()))

# %% [markdown]
# ## 같은 가중치, 다른 배치 크기
#
# 학습에 미치는 영향을 보기 전에, 가중치는 그대로 두고 **정규화에 쓰는 배치 크기만** 바꿔 봅니다.
# 먼저 배치 정규화가 들어간 작은 다층 퍼셉트론(multilayer perceptron, MLP)을 배치 크기 32로 학습합니다.
# 학습 루프는 이 강의의 실험에 맞게 간단히 씁니다. 스텝마다 복원 추출로 $n$개를 뽑고, SGD 모멘텀(SGD
# momentum)을 0.9로 준 확률적 경사 하강법(stochastic gradient descent, SGD)으로 정해진 스텝 수만큼
# 학습합니다. 층을 바꿔 끼울 수 있게 정규화 층을 만드는 함수 `norm`을 인자로 받습니다.

# %%
STEPS, LR = 100, 0.02


def make_mlp(norm, seed=0):
    """64 → (Linear(bias=False) → 정규화 → ReLU) × 2 → 10. 가중치는 seed로 고정합니다.

    정규화 층 바로 앞의 Linear는 이 강좌의 관례대로 편향을 뺍니다(강의 8, BN은 어디에 둘까).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(64, 64, bias=False), norm(64), nn.ReLU(),
                             nn.Linear(64, 64, bias=False), norm(64), nn.ReLU(),
                             nn.Linear(64, 10)).double()


def fit(model, n, steps=STEPS, lr=LR, seed=0):
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    model.train()
    for _ in range(steps):
        idx = torch.randint(len(data.y_train), (n,), generator=generator)
        loss = TF.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


model = fit(make_mlp(bnref.BatchNorm1d), n=32)
trained = {("배치 정규화", 32): model}  # 아래 표에서 다시 씀 (같은 시드, 같은 학습)
_, eval_acc = experiments.evaluate(model, data.x_test, data.y_test)
print("평가 모드(이동 통계)의 테스트 정확도:", fmt(eval_acc))

# %% [markdown]
# 이제 같은 모델을 학습 모드로 두고 테스트 데이터를 $n$개씩 잘라 넣습니다. 그러면 각 미니배치가 자기
# 배치 통계로 정규화됩니다. 학습 모드는 이동 통계(running statistics)도 바꾸므로 모델의 사본으로
# 합니다.

# %%
@torch.no_grad()
def accuracy_with_batch_stats(model, n):
    probe = copy.deepcopy(model).train()  # 이동 통계가 바뀌어도 원본은 그대로
    correct = 0
    for start in range(0, len(data.y_test) - n + 1, n):
        logits = probe(data.x_test[start:start + n])
        correct += (logits.argmax(1) == data.y_test[start:start + n]).sum().item()
    return correct / (len(data.y_test) // n * n)


rows = [[str(n), accuracy_with_batch_stats(model, n)] for n in BATCH_SIZES]
rows.append(["평가 모드", eval_acc])
display(Markdown(markdown_table(["정규화에 쓴 배치", "테스트 정확도"], rows)))

# %% [markdown]
# 가중치는 하나도 바뀌지 않았는데, 정규화에 쓰는 미니배치가 작아질수록 정확도가 떨어집니다. 다음
# 층들이 배운 것은 배치 크기 32에서 나오던 출력이므로, 배치 통계가 흔들려 출력이 달라지면 그만큼
# 틀립니다.

# %% [markdown]
# ## 배치 크기를 바꿔 학습하기
#
# 이번에는 배치 크기 $n$으로 **처음부터** 학습한 뒤 평가 모드로 테스트 정확도를 잽니다. 작은 배치로
# 학습하면 기울기도 더 시끄러워지므로, 정규화 탓만 따로 보려면 비교 대상이 필요합니다. 같은 모델에서
# 배치 정규화 자리에 그룹 정규화 `bnref.GroupNorm(8, 64)`(특성 64개를 8개씩 8묶음)를 넣은 것을
# 같은 배치 크기, 같은 스텝 수로 학습합니다. 그룹 정규화의 통계는 샘플 하나 안에서 나오므로 배치
# 크기와 상관이 없습니다. 두 모델이 받는 미니배치와 스텝 수는 같으니, 둘의 차이가 정규화 방식의
# 차이입니다.

# %%
NORMS = {"배치 정규화": bnref.BatchNorm1d, "그룹 정규화 (G = 8)": lambda c: bnref.GroupNorm(8, c)}
for name, norm in NORMS.items():
    for n in BATCH_SIZES:
        if (name, n) not in trained:
            trained[name, n] = fit(make_mlp(norm), n)
accuracy = {name: [experiments.evaluate(trained[name, n], data.x_test, data.y_test)[1] for n in BATCH_SIZES]
            for name in NORMS}
display(Markdown(markdown_table(["정규화"] + [f"n = {n}" for n in BATCH_SIZES],
                                [[name, *accs] for name, accs in accuracy.items()])))

bn_acc, gn_acc = accuracy["배치 정규화"], accuracy["그룹 정규화 (G = 8)"]
print(f"배치 크기 2: 배치 정규화 {fmt(bn_acc[0])}, 그룹 정규화 {fmt(gn_acc[0])}, "
      f"차이 {fmt(gn_acc[0] - bn_acc[0])}")
print(f"배치 크기 32: 배치 정규화 {fmt(bn_acc[-1])}, 그룹 정규화 {fmt(gn_acc[-1])}, "
      f"차이 {fmt(gn_acc[-1] - bn_acc[-1])}")

# %% [markdown]
# 시드 하나로 잰 값이라 칸마다 잡음이 섞여 있지만, 위 두 줄의 차이를 비교해 보면 배치가 클 때와 작을
# 때 배치 정규화와 그룹 정규화의 차이가 어떻게 달라지는지 보입니다. 표를 보면 배치 정규화가 크게 무너진
# 것은 배치 크기 2뿐이고, 4와 8에서는 오히려 배치 정규화가 더 높았습니다. 그룹 정규화가 언제나 낫다는
# 뜻은 아닙니다. Wu와 He(2018)는 ImageNet에서 비슷한 실험을 GPU당 배치 크기 32부터 2까지 했고, 배치
# 정규화의 오류율만 배치가 작아질수록 가파르게 올라갔습니다.

# %% [markdown]
# ## 네 가지 정규화: 어떤 값들을 모으는가
#
# 네 방법은 모두 같은 식으로 정규화합니다.
#
# $$\hat{x}_i = \frac{x_i - \mu_i}{\sqrt{\sigma_i^2 + \epsilon}}, \qquad
# \mu_i = \frac{1}{m} \sum_{k \in \mathcal{S}_i} x_k, \qquad
# \sigma_i^2 = \frac{1}{m} \sum_{k \in \mathcal{S}_i} (x_k - \mu_i)^2$$
#
# 다른 것은 값 $x_i$와 함께 평균을 낼 값들의 집합 $\mathcal{S}_i$(크기 $m$)뿐입니다. 입력의 모양이
# $(N, C, H, W)$일 때
#
# | 방법 | $\mathcal{S}_i$: $x_i$와 같은 … | 모으는 차원 | 값의 개수 $m$ |
# | --- | --- | --- | --- |
# | 배치 정규화 | 채널 | $N, H, W$ | $N \cdot H \cdot W$ |
# | 층 정규화 | 샘플 | $C, H, W$ | $C \cdot H \cdot W$ |
# | 인스턴스 정규화 | 샘플, 채널 | $H, W$ | $H \cdot W$ |
# | 그룹 정규화 | 샘플, 채널 묶음(group) | $C/G$개 채널, $H, W$ | $(C/G) \cdot H \cdot W$ |
#
# 입니다. 배치 정규화만 $N$ 방향으로 값을 모읍니다. 나머지 셋은 샘플 하나 안에서 끝나므로 배치 크기와
# 상관없고, 학습 모드와 평가 모드의 계산도 같아서 이동 통계가 필요 없습니다. 스케일 γ와 시프트 β는
# 배치·인스턴스·그룹 정규화에서는 채널마다, 층 정규화(`torch.nn.LayerNorm`)에서는 정규화하는 원소마다
# 하나씩입니다.
#
# 그룹 정규화 논문의 그림 2처럼, $H$와 $W$를 한 축으로 합친 $N \times C \times (H \cdot W)$ 상자에서
# 값 하나의 집합 $\mathcal{S}_i$를 파랗게 칠해 봅니다.

# %%
def draw_set(ax, shaded, title):
    """(N, C, H·W) 모양의 bool 배열 shaded를 상자로 그립니다. 칠한 칸이 한 번에 정규화되는 값들."""
    colors = np.where(shaded[..., None], [0.12, 0.47, 0.71, 0.95], [0.85, 0.85, 0.85, 0.12])
    ax.voxels(np.ones(shaded.shape, dtype=bool), facecolors=colors, edgecolor=(0.3, 0.3, 0.3, 0.25),
              linewidth=0.3)
    ax.set_title(title, pad=0)
    ax.set_xlabel("N", labelpad=-12)
    ax.set_ylabel("C", labelpad=-12)
    ax.set_zlabel("H, W", labelpad=-12)
    ax.set_xticks([]), ax.set_yticks([]), ax.set_zticks([])
    ax.view_init(elev=20, azim=-55)
    ax.set_box_aspect(shaded.shape, zoom=0.85)


N, C, HW, G = 3, 6, 4, 2
cube = np.zeros((N, C, HW), dtype=bool)
sets = {"배치 정규화": (slice(None), 0), "층 정규화": (0, slice(None)),
        "인스턴스 정규화": (0, 0), "그룹 정규화": (0, slice(0, C // G))}

fig = plt.figure(figsize=(9.6, 3.0))
fig.suptitle("한 번에 정규화하는 값들 (파란 칸)")
for k, (title, (n_idx, c_idx)) in enumerate(sets.items()):
    shaded = cube.copy()
    shaded[n_idx, c_idx, :] = True
    draw_set(fig.add_subplot(1, 4, k + 1, projection="3d"), shaded, title)
fig.subplots_adjust(left=0, right=1, bottom=0, top=0.85, wspace=0)
plt.show()

# %% [markdown]
# 그룹 정규화는 두 극단 사이에 있습니다. 묶음이 하나($G = 1$)면 샘플의 모든 채널을 모으는 층
# 정규화가 되고, 묶음이 채널 수만큼($G = C$)이면 채널 하나씩 따로 정규화하는 인스턴스 정규화가
# 됩니다.

# %% [markdown]
# ## bnref로 구현하고 torch와 비교하기
#
# `bnref.norms`는 세 방법을 따로 계산하지 않습니다. 입력을 $(1, M, K)$ 모양으로 펼쳐 집합
# $\mathcal{S}_i$ 하나가 "채널" 하나가 되게 하면, 배치 정규화의 채널별 통계가 곧 집합별 통계이기
# 때문입니다. 그래서 `bnref.functional`의 배치 정규화(두 번 훑는 통계와 닫힌 꼴 역전파)를 그대로
# 다시 씁니다. 예를 들어 그룹 정규화는
#
# ```python
# x.reshape(1, N * G, -1)   # 샘플 N개 × 묶음 G개 = 집합 N·G개, 집합마다 (C/G)·H·W개의 값
# ```
#
# 를 학습 모드로 정규화한 뒤 원래 모양으로 되돌리고 채널마다 γ, β를 적용합니다.
#
# $(N, C, H, W) = (4, 6, 5, 5)$ 입력에 γ, β를 주고 torch의 같은 함수와 비교합니다. 출력과, 간단한
# 손실의 입력 기울기를 봅니다.

# %%
torch.manual_seed(0)
x = torch.randn(4, 6, 5, 5, dtype=torch.float64) * 3 + 1
weight = torch.rand(6, dtype=torch.float64) + 0.5
bias = torch.randn(6, dtype=torch.float64)
ln_weight, ln_bias = torch.rand(6, 5, 5, dtype=torch.float64), torch.randn(6, 5, 5, dtype=torch.float64)

pairs = {
    "배치 정규화": (lambda F, x: F.batch_norm(x, None, None, weight, bias, training=True),
                bnref.functional, TF),
    "층 정규화": (lambda F, x: F.layer_norm(x, (6, 5, 5), ln_weight, ln_bias), norms, TF),
    "인스턴스 정규화": (lambda F, x: F.instance_norm(x, weight=weight, bias=bias), norms, TF),
    "그룹 정규화 (G = 2)": (lambda F, x: F.group_norm(x, 2, weight, bias), norms, TF),
}


def output_and_grad(fn, F):
    xr = x.clone().requires_grad_()
    y = fn(F, xr)
    (y * torch.linspace(-1, 1, y.numel(), dtype=y.dtype).reshape(y.shape)).sum().backward()
    return y.detach(), xr.grad


rows = []
for name, (fn, ours, theirs) in pairs.items():
    (y1, g1), (y2, g2) = output_and_grad(fn, ours), output_and_grad(fn, theirs)
    rows.append([name, torch.allclose(y1, y2) and torch.allclose(g1, g2),
                 (y1 - y2).abs().max(), (g1 - g2).abs().max()])
display(Markdown(markdown_table(["방법", "torch와 같은가", "출력의 최대 차이", "기울기의 최대 차이"],
                                rows, digits=10)))

# %% [markdown]
# 넷 모두 float64의 반올림 오차 안에서 torch와 같습니다. 층 모듈도 torch와 같은 이름과 인자를 가집니다
# (`bnref.LayerNorm`, `bnref.GroupNorm`, `bnref.InstanceNorm1d`, `bnref.InstanceNorm2d`, `bnref.InstanceNorm3d`).
# 마지막으로 그룹 정규화의 두 극단을 확인합니다.

# %%
gn = bnref.GroupNorm(1, 6, affine=False).double()
print("GroupNorm(G = 1) = 층 정규화:", torch.allclose(gn(x), norms.layer_norm(x, (6, 5, 5))))
gn = bnref.GroupNorm(6, 6, affine=False).double()
print("GroupNorm(G = C) = 인스턴스 정규화:", torch.allclose(gn(x), bnref.InstanceNorm2d(6)(x)))

# %% [markdown]
# ## 언제 무엇을 쓰나
#
# - **배치 정규화**: 배치가 충분히 크면(흔히 GPU당 16~32 이상) 여전히 합성곱 신경망(convolutional neural
#   network, CNN)의 기본값입니다. 평가 때는
#   이동 통계를 쓰므로 추가 계산이 없고, 다음 강의들에서 보듯 앞의 층에 접어 넣을 수도 있습니다.
# - **층 정규화**: 트랜스포머(transformer)의 표준이고, 순환 신경망(recurrent neural network, RNN)에서도
#   씁니다. 시퀀스 길이가 제각각이고 배치 안의 다른 샘플을 섞고 싶지 않을 때 알맞습니다.
# - **인스턴스 정규화**: 이미지 한 장, 채널 하나의 평균과 분산(밝기와 대비 같은 정보)을 지우므로 스타일
#   전이처럼 그 정보를 일부러 버리려는 생성 모델에 쓰입니다. 분류에는 정보를 너무 많이 버립니다.
# - **그룹 정규화**: 배치가 작은 검출·분할·비디오 모델에서 배치 정규화 대신 씁니다. 논문의 기본값은
#   $G = 32$입니다.
#
# 작은 배치 문제의 일부는 배치 정규화를 버리지 않고도 덜 수 있습니다. 여러 GPU의 미니배치를 모아 통계를
# 내는 방법은 [여러 프로세스에서 BN](13_sync_batchnorm.py)에서, 작은 배치로 쌓여 부정확해진 이동 통계를
# 학습이 끝난 뒤 다시 재는 방법은 [추론 단계의 BN](16_inference.py)에서 다룹니다. 다시 재는 것은 평가 때의
# 통계만 고칠 뿐, 학습 중의 흔들림은 그대로입니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** 배치 크기가 1이면 학습 모드의 배치 정규화는 어떻게 될까요? torch는 이때 무엇을 할까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 값이 하나뿐이면 배치 평균이 그 값 자신이고 편향 분산은 0이라, 정규화한 값은 언제나 0입니다. 입력이
# 무엇이든 출력이 β가 되므로 학습할 신호가 없습니다. 그래서 `torch.nn.BatchNorm1d`는 학습 모드에서
# 채널 하나에 값이 하나뿐인 입력을 `ValueError: Expected more than 1 value per channel when training`으로
# 거절합니다. `BatchNorm2d`에 넣는 $(N, C, H, W)$ 입력이라면 $N = 1$이어도 $H \cdot W > 1$이면 값이
# 여럿이므로 허용됩니다.
#
# </details>
#
# **2.** 채널이 64개인 합성곱 층 뒤에 `GroupNorm(32, 64)`를 두면 집합 하나에 값이 몇 개 들어갈까요?
# 특성 맵은 14×14입니다.
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 묶음 하나에 채널 $64 / 32 = 2$개, 채널마다 $14 \cdot 14 = 196$개의 위치가 있으니
# $2 \cdot 196 = 392$개입니다. 배치 크기와는 상관없습니다.
#
# </details>
#
# **3.** 층 정규화에는 이동 통계가 없습니다. 왜 필요 없을까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 층 정규화의 통계는 샘플 하나 안의 값들로만 냅니다. 평가 때도 그 샘플의 값은 모두 있으므로 학습 때와
# 똑같이 계산할 수 있습니다. 배치 정규화가 이동 통계를 쌓는 까닭은 평가 때 미니배치가 없거나(샘플
# 하나), 출력이 함께 들어온 다른 샘플에 좌우되면 안 되기 때문인데, 층 정규화에는 그 문제가 처음부터
# 없습니다.
#
# </details>
#
# **4.** 위의 `bnref.norms` 설명처럼, 인스턴스 정규화를 `bnref.functional.batch_norm` 한 번으로
# 계산해 보세요.
#
# <details markdown="1">
# <summary>풀이</summary>
#
# $(N, C, H, W)$를 $(1, N \cdot C, H, W)$로 바꾸면 샘플·채널 한 쌍이 채널 하나가 됩니다. γ와 β는
# 샘플 수만큼 되풀이합니다.
#
# ```python
# y = bnref.functional.batch_norm(x.reshape(1, N * C, H, W), None, None,
#                                 weight.repeat(N), bias.repeat(N), training=True)
# y = y.reshape(N, C, H, W)
# ```
#
# torch의 `instance_norm`도 내부에서 이렇게 계산합니다.
#
# </details>

# %% [markdown]
# ## 직접 구현해 보기
#
# 그룹 정규화를 직접 써 보세요. `torch.nn.functional.group_norm`과 같은 일을 하는 함수입니다.
#
# - `x`: 모양이 $(N, C, H, W)$인 입력
# - `num_groups`: 묶음 수 $G$ ($C$의 약수)
# - `gamma`, `beta`: 모양이 $(C,)$인 채널마다의 γ와 β
# - 돌려줄 값: `x`와 모양이 같은 출력 `y`
#
# `check.group_norm`은 샘플이 하나인 입력, 값이 모두 같은 묶음, `channels_last` 입력으로도 시험합니다.
# 틀렸다면 통계를 배치 전체에서 냈는지, 채널을 엉뚱하게 묶었는지 같은 실수를 알려 줍니다.

# %%
import torch

from bnref.course import check


def group_norm(x, num_groups, gamma, beta, eps=1e-5):
    """그룹 정규화. x: (N, C, H, W), gamma·beta: (C,) -> y: (N, C, H, W)"""
    ...  # 여기를 채우세요


# %%
result = check.group_norm(group_norm)

# %% fold="답 보기"
def group_norm(x, num_groups, gamma, beta, eps=1e-5):
    """그룹 정규화. x: (N, C, H, W), gamma·beta: (C,) -> y: (N, C, H, W)"""
    N, C, H, W = x.shape
    groups = x.reshape(N, num_groups, -1)  # 샘플마다·묶음마다 (C/G)·H·W개의 값이 한 줄
    mean = groups.mean(dim=2, keepdim=True)
    var = groups.var(dim=2, unbiased=False, keepdim=True)  # 편향 분산
    x_hat = ((groups - mean) / torch.sqrt(var + eps)).reshape(N, C, H, W)
    return gamma.view(1, C, 1, 1) * x_hat + beta.view(1, C, 1, 1)


result = check.group_norm(group_norm)
