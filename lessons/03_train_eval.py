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
# # 학습 모드와 평가 모드
#
# 지금까지 본 배치 정규화(batch normalization)는 그때그때 들어온 미니배치(mini-batch)의 평균과 분산으로
# 정규화했습니다. 학습할 때는 이것으로 충분하지만, 학습을 마친 모델을 실제로 쓸 때는 문제가
# 생깁니다.
#
# - 사진 한 장을 분류하고 싶을 뿐인데 미니배치가 없습니다. 샘플이 하나면 분산이 0이라 정규화가
#   의미를 잃습니다.
# - 미니배치로 묶어 넣더라도, 어떤 샘플의 결과가 **함께 묶인 다른 샘플들**에 따라 달라집니다.
#   같은 사진이 어느 날은 고양이, 어느 날은 개로 나온다면 곤란합니다.
#
# 그래서 배치 정규화 층은 두 가지 모드로 동작합니다. 학습 모드(training mode)에서는 미니배치의
# 통계로 정규화하면서, 그 통계를 조금씩 누적해 **이동 평균**(running mean)과 **이동 분산**(running
# variance)을 기록해 둡니다. 평가 모드(evaluation mode)에서는 미니배치의 통계를 전혀 쓰지 않고
# 기록해 둔 이동 통계(running statistics)만으로 정규화합니다. 모드는 `model.train()`과 `model.eval()`로 바꿉니다.

# %%
import torch

import bnref
from bnref.course.printing import fmt
from bnref.course.viz import use_korean_font

# %% [markdown]
# ## 학습 모드: 배치 통계로 정규화하고 이동 통계를 갱신한다
#
# 학습 모드에서 층을 한 번 부를 때마다 이동 통계는 다음과 같이 갱신됩니다. 모멘텀(momentum)의
# 기본값은 0.1입니다.
#
# $$\text{running_mean} \leftarrow (1 - \text{momentum}) \cdot \text{running_mean} + \text{momentum} \cdot \mu_\mathcal{B}$$
#
# $$\text{running_var} \leftarrow (1 - \text{momentum}) \cdot \text{running_var} + \text{momentum} \cdot s_\mathcal{B}^2,
# \qquad s_\mathcal{B}^2 = \frac{1}{n - 1} \sum_{i=1}^{n} \left(x_i - \mu_\mathcal{B}\right)^2$$
#
# 두 가지를 눈여겨보세요.
#
# 1. **새 값의 비중이 momentum입니다.** momentum = 0.1이면 지금 미니배치의 통계를 10%, 지금까지의
#    기록을 90% 반영합니다. 옵티마이저의 모멘텀이나 Keras의 `momentum=0.99`처럼 "기존 값의 비중"을
#    뜻하는 관례와 정반대이니, 다른 프레임워크의 설정을 옮길 때 조심해야 합니다.
# 2. **PyTorch는 이동 분산에 불편 분산(unbiased variance)을 넣습니다.** 정규화할 때는 지금 미니배치가
#    얼마나 퍼져 있는지를 그대로 재는 편향 분산(biased variance, $n$으로 나눈 분산)을 썼습니다. 이동
#    분산은 미니배치의 샘플 몇 개로 데이터 전체의 분산을 **추정**하는 값이라고 보고, 원 논문(Ioffe와
#    Szegedy, 2015)을 따라 $n - 1$로 나누는 불편 분산을 넣는 것입니다. 이것은 하나의 관례이고 유일한
#    정답은 아닙니다. CS231n 과제, 「Dive into Deep Learning」(d2l), Keras 3은 편향 분산을 그대로 쌓습니다.
#    그 차이가 숫자로 얼마나 되는지는 [같은 이름, 다른 관례](18_conventions.py)에서 봅니다.
#
# [직접 구현하기](02_implement.py)에서 쓴 4×3 미니배치를 새 층에 한 번 넣어 봅니다.

# %%
torch.manual_seed(0)
x = torch.randn(4, 3) * 10 + 50  # (N, C) = (4, 3)

bn = bnref.BatchNorm1d(3)  # momentum=0.1
print("학습 모드인가:", bn.training)
print("처음 running_mean:", fmt(bn.running_mean))
print("처음 running_var: ", fmt(bn.running_var))

with torch.no_grad():
    bn(x)
print("한 스텝 뒤 running_mean:", fmt(bn.running_mean))
print("한 스텝 뒤 running_var: ", fmt(bn.running_var))
print("num_batches_tracked:", bn.num_batches_tracked.item())

# %% [markdown]
# 이동 평균의 처음 값은 0, 이동 분산의 처음 값은 1입니다. 마지막 줄의 `num_batches_tracked`는 층이
# 학습 모드로 불린 횟수를 세는 버퍼(buffer)입니다. 기본 설정(`momentum=0.1`)의 갱신에는 쓰이지 않고, `momentum=None`으로 두면
# $k$번째 미니배치의 몫을 $1/k$로 하는 누적 평균(cumulative average)을 낼 때 이 횟수가 $k$가 됩니다.
# 이 방식은 [추론 단계의 BN](16_inference.py)에서 이동 통계를 다시 잴 때 씁니다.
#
# 한 스텝 뒤의 값이 위의 공식과 맞는지 직접 계산해서 확인합니다. 비교를 위해 PyTorch와 달리 편향
# 분산을 넣었을 때의 값도 함께 계산합니다.

# %%
momentum = 0.1
mean_by_formula = (1 - momentum) * 0.0 + momentum * x.mean(dim=0)
var_by_formula = (1 - momentum) * 1.0 + momentum * x.var(dim=0)  # 불편 분산 (÷(n−1))
var_if_biased = (1 - momentum) * 1.0 + momentum * x.var(dim=0, unbiased=False)

print("공식의 running_mean:         ", fmt(mean_by_formula))
print("공식의 running_var:          ", fmt(var_by_formula))
print("편향 분산을 넣었다면:        ", fmt(var_if_biased))
print("bnref와 공식이 같은가:       ",
      torch.allclose(bn.running_mean, mean_by_formula),
      torch.allclose(bn.running_var, var_by_formula))

bn_torch = torch.nn.BatchNorm1d(3)
with torch.no_grad():
    bn_torch(x)
print("bnref와 nn.BatchNorm1d가 같은가:",
      torch.allclose(bn.running_mean, bn_torch.running_mean),
      torch.allclose(bn.running_var, bn_torch.running_var))

# %% [markdown]
# `bnref`, PyTorch, 공식이 모두 같은 값을 냅니다. 편향 분산을 넣었다면 이동 분산이 눈에 띄게 작게
# 기록되었을 것입니다. 샘플이 4개인 미니배치에서는 두 분산의 비가 $4/3$이나 되기 때문입니다.

# %% [markdown]
# ## 여러 스텝에 걸친 이동 평균
#
# 한 스텝만으로는 이동 평균이 처음 값 0에서 조금 움직였을 뿐입니다. 학습 중에는 이 갱신이 스텝마다
# 반복됩니다. $k$ 스텝이 지나면 처음 값의 비중은 $(1 - \text{momentum})^k = 0.9^k$로 줄어들고, 최근
# 미니배치의 통계일수록 큰 비중을 차지합니다. 그래서 이동 평균은 정확히는 지수 이동 평균(exponential
# moving average)입니다.
#
# 새 층을 하나 만들고, 같은 분포(평균 50, 표준편차 10)에서 샘플 32개짜리 미니배치를 계속 뽑아
# 넣으면서 첫 번째 특성의 배치 평균과 이동 평균을 기록해 봅니다.

# %%
true_mean, true_std = 50.0, 10.0  # 미니배치를 뽑는 분포


def train_steps(bn, steps, batch_size=32):
    """학습 모드로 steps번 부르고, 첫 번째 특성의 배치 평균과 이동 평균을 기록합니다."""
    batch_means, running_means = [], []
    with torch.no_grad():
        for _ in range(steps):
            batch = torch.randn(batch_size, 3) * true_std + true_mean
            bn(batch)
            batch_means.append(batch[:, 0].mean().item())
            running_means.append(bn.running_mean[0].item())
    return batch_means, running_means


bn = bnref.BatchNorm1d(3)  # 처음 값(평균 0, 분산 1)에서 다시 시작합니다.
torch.manual_seed(1)
batch_means, running_means = train_steps(bn, steps=60)

for step in (1, 10, 30, 60):
    print(f"{step:2d} 스텝 뒤 running_mean[0]: {fmt(running_means[step - 1])}")
print("60 스텝 뒤 running_mean:", fmt(bn.running_mean))
print("60 스텝 뒤 running_var: ", fmt(bn.running_var))

# %%
import matplotlib.pyplot as plt

use_korean_font()  # 그림 속 한글과 마이너스 기호가 깨지지 않게 합니다.

steps = range(1, len(running_means) + 1)
fig, ax = plt.subplots()
ax.plot(steps, batch_means, "o", markersize=3, alpha=0.6, label="배치 평균")
ax.plot(steps, running_means, label="이동 평균 (running_mean)")
ax.axhline(true_mean, color="gray", linestyle="--", linewidth=1, label="분포의 평균")
ax.set_title("첫 번째 특성의 이동 평균")
ax.set_xlabel("학습 스텝")
ax.set_ylabel("평균")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# 배치 평균(점)은 스텝마다 들쑥날쑥하지만, 이동 평균(선)은 처음 값 0에서 출발해 분포의 평균
# 50 근처로 부드럽게 다가간 뒤 거기 머무릅니다. 이동 분산도 같은 방식으로 분포의 분산 100 근처에
# 자리 잡습니다. 위에서 찍은 세 특성의 이동 분산은 약 99에서 109 사이입니다. 최근 미니배치 몇십 개의
# 통계를 섞은 값이라 배치 통계의 잡음이 남아 있어서, 정확히 100이 되지는 않습니다. 학습이 끝났을 때 이
# 값들이 데이터 전체의 평균과 분산을 대신하게 됩니다.

# %% [markdown]
# ## 평가 모드: 이동 통계만 쓴다
#
# `bn.eval()`을 부르면 층은 평가 모드가 됩니다. 이제 미니배치의 통계는 쓰지 않고, 기록해 둔 이동
# 통계로 정규화합니다.
#
# $$y = \gamma \cdot \frac{x - \text{running_mean}}{\sqrt{\text{running_var} + \epsilon}} + \beta$$
#
# 평가 모드에서는 층을 불러도 이동 통계가 바뀌지 않습니다. 공식대로 직접 계산한 값과 비교해 봅니다.

# %%
bn.eval()
before = bn.running_mean.clone(), bn.running_var.clone()
with torch.no_grad():
    y = bn(x)
y_by_formula = (bn.weight * (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps)
                + bn.bias).detach()

print("평가 모드 출력:")
print(fmt(y))
print("공식과 같은가:", torch.allclose(y, y_by_formula, atol=1e-6))
print("이동 통계가 그대로인가:",
      torch.equal(before[0], bn.running_mean), torch.equal(before[1], bn.running_var))

# %% [markdown]
# 평가 모드의 출력은 평균 0, 분산 1이 아닙니다. 이 네 샘플의 통계가 아니라, 학습하는 동안 기록해 둔
# 이동 통계로 정규화했기 때문입니다. 평가 모드의 배치 정규화는 특성마다 정해진 수를 곱하고 더하는
# 고정된 아핀 변환(affine transform)일 뿐입니다.

# %% [markdown]
# ## 같은 샘플, 다른 미니배치
#
# 두 모드의 차이가 가장 잘 드러나는 실험입니다. 샘플 하나를 서로 다른 두 미니배치에 넣습니다.
# 미니배치 A에는 다른 샘플 3개가, B에는 다른 샘플 7개가 함께 들어 있습니다. 같은 샘플의 출력이
# 두 미니배치에서 같게 나오는지 봅니다.

# %%
sample = x[:1]  # 샘플 하나, (1, 3)
torch.manual_seed(2)
batch_a = torch.cat([sample, torch.randn(3, 3) * 10 + 50])  # 샘플 4개
batch_b = torch.cat([sample, torch.randn(7, 3) * 10 + 50])  # 샘플 8개


def output_of_sample(bn, batch):
    """미니배치를 층에 넣었을 때 첫 번째 샘플(sample)의 출력."""
    with torch.no_grad():
        return bn(batch)[0]


bn.train()
train_a, train_b = output_of_sample(bn, batch_a), output_of_sample(bn, batch_b)
bn.eval()
eval_a, eval_b = output_of_sample(bn, batch_a), output_of_sample(bn, batch_b)
eval_alone = output_of_sample(bn, sample)

print("학습 모드, 미니배치 A:", fmt(train_a))
print("학습 모드, 미니배치 B:", fmt(train_b))
print("평가 모드, 미니배치 A:", fmt(eval_a))
print("평가 모드, 미니배치 B:", fmt(eval_b))
print("평가 모드, 혼자서:    ", fmt(eval_alone))
print("평가 모드 출력이 모두 같은가:", torch.equal(eval_a, eval_b) and torch.equal(eval_a, eval_alone))

# %% [markdown]
# 학습 모드에서는 같은 샘플인데도 함께 묶인 샘플들에 따라 출력이 달라졌습니다. 미니배치의 평균과
# 분산이 달라지기 때문입니다. 평가 모드에서는 어느 미니배치에 넣든, 샘플 하나만 넣든 출력이 똑같습니다.
#
# 한 가지 더 있습니다. 방금 학습 모드로 두 번 부른 것만으로도 이동 통계가 두 번 갱신되었습니다.
# 학습 모드에서는 층을 부르는 것 자체가 이동 통계를 바꾼다는 뜻입니다. 평가하면서 `eval()`을 잊으면
# 결과가 미니배치에 따라 흔들릴 뿐 아니라, 평가용 데이터가 이동 통계에 섞여 들어갑니다. 아래의
# `num_batches_tracked`도 이 층을 학습 모드로 부른 횟수, 곧 앞의 60 스텝에 방금의 두 번을 더한 값입니다.

# %%
print("num_batches_tracked:", bn.num_batches_tracked.item())

# %% [markdown]
# 마지막으로, 학습 모드에서는 샘플 하나짜리 입력을 받지 않습니다. 분산이 0이라 정규화가 의미가
# 없기 때문입니다. 평가 모드에서는 위에서 본 것처럼 문제없이 동작합니다.

# %%
bn.train()
try:
    with torch.no_grad():
        bn(sample)
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# ## 정리
#
# | | 학습 모드 `train()` | 평가 모드 `eval()` |
# | --- | --- | --- |
# | 정규화에 쓰는 통계 | 지금 미니배치의 평균과 편향 분산 | `running_mean`, `running_var` |
# | 이동 통계 | 갱신함 (새 값의 비중 = momentum, 분산은 불편 분산) | 바꾸지 않음 |
# | 한 샘플의 출력 | 함께 묶인 샘플과 미니배치 크기에 따라 달라짐 | 그 샘플만으로 정해짐 |
# | 샘플 하나짜리 입력 | `ValueError` | 가능 |
#
# `torch.no_grad()`는 기울기 기록만 끌 뿐 모드를 바꾸지 않는다는 점도 기억해 두세요. 모델을 평가할
# 때는 `model.eval()`과 `torch.no_grad()`를 함께 쓰는 것이 보통입니다.
#
# 다음 강의 [분포로 보기](04_distribution.py)에서는 샘플을 많이 모아 정규화 전후의 분포를 그림으로
# 비교합니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** momentum = 0.1일 때, 처음 값(running_mean = 0)의 비중이 1%보다 작아지려면 최소 몇 스텝이
# 필요할까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 처음 값의 비중은 $0.9^k$입니다. $0.9^k < 0.01$을 풀면 $k > \ln 0.01 / \ln 0.9 \approx 43.7$이므로
# 44 스텝입니다. 위 그림에서 이동 평균이 처음 몇십 스텝에 걸쳐 분포의 평균으로 다가가는 모습과도
# 맞습니다.
#
# </details>
#
# **2.** Keras에서 `BatchNormalization(momentum=0.99)`로 학습한 설정을 PyTorch로 옮기려고 합니다.
# `nn.BatchNorm1d`의 `momentum`에는 얼마를 넣어야 할까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# Keras의 momentum은 기존 값의 비중이고, PyTorch의 momentum은 새 값의 비중입니다. 따라서
# `momentum=1 - 0.99 = 0.01`을 넣어야 새 값의 비중이 같아집니다. 다만 위에서 보았듯 Keras는 이동 분산에
# 편향 분산을 쌓으므로, 이동 분산까지 똑같아지지는 않습니다. 남는 차이는
# [같은 이름, 다른 관례](18_conventions.py)에서 봅니다.
#
# </details>
#
# **3.** 다음 코드로 검증 정확도를 재면 무엇이 잘못될까요?
#
# ```python
# with torch.no_grad():
#     for images, labels in val_loader:
#         outputs = model(images)
# ```
#
# <details markdown="1">
# <summary>풀이</summary>
#
# `model.eval()`을 부르지 않았습니다. `torch.no_grad()`는 모드를 바꾸지 않으므로 배치 정규화 층은
# 학습 모드 그대로입니다. 그래서 출력이 검증 미니배치의 통계에 따라 달라지고, 검증 데이터로 이동
# 통계까지 갱신됩니다. 루프 앞에 `model.eval()`을, 학습을 다시 시작할 때 `model.train()`을 불러야
# 합니다.
#
# </details>

# %% [markdown]
# ## 직접 구현해 보기
#
# ### 이동 통계 갱신
#
# 학습 모드의 한 스텝에서 이동 통계를 갱신하는 함수를 직접 써 보세요.
#
# - `x`: 모양이 $(N, C)$인 미니배치
# - `running_mean`, `running_var`: 모양이 $(C,)$인 지금까지의 이동 평균과 이동 분산
# - `momentum`: 새 값의 비중
# - 돌려줄 값: 갱신한 `(running_mean, running_var)`. torch처럼 두 텐서를 제자리에서(in place) 바꾸기만 하고
#   아무것도 돌려주지 않아도 됩니다.
#
# `check.update_running_stats`가 샘플 2개와 1000개, 여러 momentum 값, 메모리에서 연속이 아닌(non-contiguous)
# 텐서로 시험하고, 틀렸다면 흔한 실수 가운데 어느 것인지 알려 줍니다.

# %%
import torch

from bnref.course import check


def update_running_stats(x, running_mean, running_var, momentum=0.1):
    """x: (N, C), running_mean·running_var: (C,) -> 갱신한 (running_mean, running_var)"""
    ...  # 여기를 채우세요


# %%
result = check.update_running_stats(update_running_stats)

# %% [markdown]
# 아직 아무것도 채우지 않았으므로 검사기는 위처럼 답합니다. 함수를 채운 뒤 두 셀을 다시 실행해 보세요.
# 답은 아래에 접어 두었습니다.

# %% fold="답 보기"
def update_running_stats(x, running_mean, running_var, momentum=0.1):
    """x: (N, C), running_mean·running_var: (C,) -> 갱신한 (running_mean, running_var)"""
    new_mean = (1 - momentum) * running_mean + momentum * x.mean(dim=0)
    new_var = (1 - momentum) * running_var + momentum * x.var(dim=0)  # 불편 분산: n − 1로 나눔
    return new_mean, new_var


result = check.update_running_stats(update_running_stats)

# %% [markdown]
# ### 평가 모드
#
# 이번에는 평가 모드의 정규화입니다.
#
# - `x`: 모양이 $(N, C)$인 미니배치
# - `running_mean`, `running_var`, `gamma`, `beta`: 모양이 $(C,)$
# - 돌려줄 값: `x`와 모양이 같은 출력 `y`. `running_mean`과 `running_var`는 바꾸지 않습니다.
#
# 검사하는 입력에는 샘플이 하나뿐인 미니배치와 이동 분산이 0인 특성도 들어 있습니다.

# %%
def batch_norm_eval(x, running_mean, running_var, gamma, beta, eps=1e-5):
    """평가 모드의 배치 정규화. x: (N, C), 나머지: (C,) -> y: (N, C)"""
    ...  # 여기를 채우세요


# %%
result = check.batch_norm_eval(batch_norm_eval)

# %% fold="답 보기"
def batch_norm_eval(x, running_mean, running_var, gamma, beta, eps=1e-5):
    """평가 모드의 배치 정규화. x: (N, C), 나머지: (C,) -> y: (N, C)"""
    x_hat = (x - running_mean) / torch.sqrt(running_var + eps)  # 이동 통계로: 배치 통계는 쓰지 않음
    return gamma * x_hat + beta


result = check.batch_norm_eval(batch_norm_eval)
