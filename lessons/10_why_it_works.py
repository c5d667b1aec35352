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
# # BN은 왜 효과가 있을까
#
# [앞 강의](07_digits_training.py)에서는 배치 정규화(batch normalization)가 있을 때 학습이 어떻게
# 달라지는지를 쟀습니다. 이번에는 **왜** 그런지를 묻습니다.
#
# 배치 정규화를 제안한 Ioffe와 Szegedy(2015)의 설명은 이렇습니다. 학습 중에 앞쪽 층이 바뀌면 뒤쪽 층이
# 받는 입력의 분포가 계속 움직이는데(내부 공변량 변화, internal covariate shift), 배치 정규화가 이
# 분포를 고정해 주므로 학습이 쉬워진다는 것입니다. Santurkar 등(2018)은 이 설명을 두 가지 실험으로
# 따져 보았습니다.
#
# 1. **잡음 섞인 배치 정규화**(noisy batch normalization): 배치 정규화 바로 뒤에 스텝마다 바뀌는 잡음을 넣어 분포를 일부러
#    흔듭니다. 분포의 안정이 핵심이라면 이 망의 손실(loss)과 정확도(accuracy)는 좋아지지 못해야
#    합니다.
# 2. **손실 지형(loss landscape)의 매끄러움**: 기울기(gradient) 방향으로 조금씩 움직이며 손실과
#    기울기가 얼마나 변하는지 잽니다. 그들은 배치 정규화의 효과가 여기에 있다고 보았습니다.
#
# 두 실험을 손글씨 숫자 데이터와 작은 다층 퍼셉트론(multilayer perceptron, MLP)으로 다시 합니다. 결론은 이 페이지가 잰 숫자에서만
# 끌어냅니다.

# %%
import copy

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from bnref.course.experiments import NoisyBatchNorm, load_digits, mlp, train
from bnref.course.printing import fmt, markdown_table
from bnref.course.viz import use_korean_font

use_korean_font()
# 모델이 작아서 스레드를 여럿 쓰면 나눠 주고 기다리는 비용이 계산보다 큽니다. 스레드 하나로 돌립니다.
torch.set_num_threads(1)

data = load_digits()

# %% [markdown]
# ## 잡음 섞인 배치 정규화
#
# `bnref.course.experiments.NoisyBatchNorm`은 배치 정규화의 출력에 채널마다 무작위 스케일 $s_c$를 곱하고
# 시프트 $t_c$를 더합니다.
#
# $$y_c = s_c \cdot \operatorname{BN}(x)_c + t_c, \qquad \log s_c \sim U(-\log 2, \log 2), \quad
# t_c \sim U(-1, 1)$$
#
# $s_c$와 $t_c$는 학습 스텝마다 새로 뽑습니다. 그래서 다음 층이 받는 입력의 평균은 ±1 범위에서,
# 표준편차는 1/2배에서 2배 사이에서 스텝마다 흔들립니다. 평가 모드(evaluation mode)에서는 잡음을
# 넣지 않습니다.
#
# 세 모델을 같은 조건으로 학습합니다. 은닉층(hidden layer) 세 개(각 64개 뉴런(neuron))에 ReLU를 쓰는 다층 퍼셉트론이고,
# 배치 정규화가 없는 표준 모델, 배치 정규화를 넣은 모델, 잡음 섞인 배치 정규화를 넣은 모델입니다.
# 학습 중에는 마지막 ReLU의 0번 뉴런이 받는 입력을 미니배치(mini-batch)마다 기록합니다.

# %%
MODELS = {"표준 (BN 없음)": None, "BN": "bn", "잡음 섞인 BN": "noisy_bn"}
EPOCHS, BATCH, LR, UNIT = 10, 128, 0.1, 0

def record_relu_input(model, log):
    """마지막 ReLU가 학습 모드에서 받는 입력의 UNIT번 뉴런 값을, 미니배치마다 (평균, 표준편차)로."""
    last_relu = [m for m in model if isinstance(m, torch.nn.ReLU)][-1]

    def hook(module, inputs):
        if module.training:
            z = inputs[0][:, UNIT].detach()
            log.append((z.mean().item(), z.std(correction=0).item()))

    last_relu.register_forward_pre_hook(hook)


noisy_runs = {}
for name, norm in MODELS.items():
    model, log = mlp(norm, depth=3), []
    record_relu_input(model, log)
    noisy_runs[name] = (train(model, data, epochs=EPOCHS, lr=LR, batch_size=BATCH), torch.tensor(log))

fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.2))
for name, (h, log) in noisy_runs.items():
    axes[0].plot(range(1, len(h.step_loss) + 1), h.step_loss, label=name, linewidth=1)
    axes[1].plot(range(len(h.test_acc)), h.test_acc, marker=".", label=name)
    axes[2].plot(range(1, len(log) + 1), log[:, 0], label=name, linewidth=1)
axes[0].set(title="학습 손실 (미니배치)", xlabel="스텝", ylabel="교차 엔트로피 손실")
axes[1].set(title="테스트 정확도", xlabel="에폭", ylabel="정확도", ylim=(0, 1))
axes[2].set(title=f"ReLU {UNIT}번 뉴런 입력의 배치 평균", xlabel="스텝", ylabel="평균")
for ax in axes:
    ax.legend(fontsize=7)
fig.suptitle("표준, BN, 잡음 섞인 BN")
fig.tight_layout()
plt.show()

# %% [markdown]
# 오른쪽 그림이 잡음의 효과입니다. 표로도 정리합니다. "흔들림"은 **연속한 두 스텝** 사이에 그 뉴런
# 입력의 배치 평균과 배치 표준편차가 바뀐 크기의 평균입니다. 분포가 스텝마다 얼마나 움직이는지를
# 나타냅니다.

# %%
def step_to_step(values):
    """연속한 두 스텝 사이 변화량 |v[t+1] − v[t]|의 평균."""
    return (values[1:] - values[:-1]).abs().mean().item()


rows = []
for name, (h, log) in noisy_runs.items():
    rows.append([name, fmt(step_to_step(log[:, 0]), 3), fmt(step_to_step(log[:, 1]), 3),
                 fmt(h.test_acc[3], 3), fmt(h.test_acc[-1], 3), fmt(h.train_loss[-1], 4)])
display(Markdown(markdown_table(
    ["모델", "평균의 흔들림", "표준편차의 흔들림", "3에폭 정확도", f"{EPOCHS}에폭 정확도",
     "마지막 에폭 학습 손실"], rows)))

acc = {name: h.test_acc[-1] for name, (h, _) in noisy_runs.items()}
shake = {name: step_to_step(log[:, 0]) for name, (_, log) in noisy_runs.items()}
standard, bn, noisy = MODELS
print(f"{EPOCHS}에폭 정확도 차이: 잡음 섞인 BN − BN = {fmt(acc[noisy] - acc[bn], 3)}, "
      f"잡음 섞인 BN − 표준 = {fmt(acc[noisy] - acc[standard], 3)}")
shakier = "더" if shake[noisy] > shake[standard] else "덜"
better = "높은" if acc[noisy] > acc[standard] else "높지 않은"
print(f"잡음 섞인 BN은 표준 모델보다 분포가 {shakier} 흔들렸고, {better} 정확도에 닿았습니다.")

# %% [markdown]
# 위의 출력이 이 실험의 결과입니다. 잡음 섞인 BN이 분포를 BN보다 훨씬 크게 흔드는데도 표준 모델보다
# 잘 학습했다면, "분포를 안정시켜서 학습이 쉬워진다"는 설명만으로는 배치 정규화의 효과를 다 설명할 수
# 없습니다. 분포의 안정은 배치 정규화의 효과를 얻는 데 꼭 필요한 조건이 아니라는 뜻이기 때문입니다.
# Santurkar 등은 훨씬 큰 합성곱 신경망(convolutional neural network)인 VGG와
# CIFAR-10으로 이 실험을 했고, 잡음 섞인 BN도 BN과 비슷하게 학습된다고 보고했습니다. 여기서는 작은
# 모델과 데이터 하나, 시드 하나로 잰 결과이므로, 시드나 잡음의 크기를 바꿔 직접 확인해 보세요.

# %% [markdown]
# ## 손실 지형의 매끄러움
#
# 그렇다면 배치 정규화는 무엇을 바꿀까요? Santurkar 등은 손실 지형이 매끄러워진다고 보았습니다.
# 매끄러운 지형에서는 지금 잰 기울기가 조금 떨어진 곳에서도 거의 맞으므로, 기울기 방향으로 크게
# 걸어도 안전합니다. 그것을 세 가지 양으로 잽니다. 학습 중 어느 지점 $\theta$에서 기울기
# $g = \nabla L(\theta)$를 구하고, 여러 걸음 크기 $\eta$에 대해 $\theta - \eta g$로 옮겨 가 봅니다.
#
# - **손실의 변화 폭**: $L(\theta - \eta g)$의 최댓값 − 최솟값 ($\eta = 0$ 포함).
#   작을수록 한 걸음의 결과를 예측하기 쉽습니다.
# - **기울기의 변화**: $\max_\eta \lVert \nabla L(\theta - \eta g) - \nabla L(\theta) \rVert$.
#   작을수록 지금 잰 기울기가 멀리까지 맞습니다.
# - **유효 β-매끄러움(effective β-smoothness)**: 기울기의 변화를 움직인 거리로 나눈 값
#   $\max_\eta \lVert \nabla L(\theta - \eta g) - \nabla L(\theta) \rVert / \lVert \eta g \rVert$.
#   기울기가 거리에 비해 얼마나 빨리 바뀌는지, 곧 지형이 얼마나 급하게 휘는지를 나타냅니다.
#
# 손실은 학습 데이터(training set)의 앞 512개로 학습 모드(training mode)에서 잽니다(배치 정규화는
# 이 512개의 배치 통계를 씁니다). 옮겨 가 보는 것은 모델의 복사본이므로 학습 자체와 이동 통계에는
# 영향을 주지 않습니다.
#
# 결과가 학습 설정에 따라 달라지는지도 보기 위해, 두 모델을 학습률 0.1과 0.3으로 각각 20에폭(200스텝)
# 학습하면서 20스텝마다 잽니다. 걸음 크기 $\eta$는 두 학습률에 같은 값을 씁니다.

# %%
ETAS = [0.05, 0.1, 0.2, 0.4]  # 걸음 크기 η
PROBE_LRS, PROBE_EVERY, PROBE_EPOCHS = [0.1, 0.3], 20, 20
x_probe, y_probe = data.x_train[:512], data.y_train[:512]


def loss_and_grad(model):
    """탐사용 미니배치에서 손실과 (모든 파라미터를 한 줄로 이은) 기울기 벡터."""
    model.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x_probe), y_probe)
    loss.backward()
    return loss.item(), parameters_to_vector([p.grad for p in model.parameters()])


def landscape(model):
    """지금 지점에서 기울기 방향으로 ETAS만큼 옮겨 가며 잰
    (손실 최소, 손실 최대, 기울기 변화, 유효 β, 출발점의 기울기 크기 ‖g‖)."""
    probe = copy.deepcopy(model).train()
    theta = parameters_to_vector(probe.parameters()).detach().clone()
    loss0, g0 = loss_and_grad(probe)
    losses, changes, betas = [loss0], [], []
    for eta in ETAS:
        with torch.no_grad():
            vector_to_parameters(theta - eta * g0, probe.parameters())
        loss, g = loss_and_grad(probe)
        losses.append(loss)
        changes.append((g - g0).norm().item())
        betas.append(changes[-1] / (eta * g0.norm().item()))
    return min(losses), max(losses), max(changes), max(betas), g0.norm().item()


smoothness = {}  # (학습률, 모델 이름) -> (스텝들, (기록 횟수, 5) 텐서)
for lr in PROBE_LRS:
    for name, norm in [("표준 (BN 없음)", None), ("BN", "bn")]:
        steps, measures = [], []

        def probe_now(step, model):
            if step % PROBE_EVERY == 0:
                steps.append(step)
                measures.append(landscape(model))

        train(mlp(norm, depth=3), data, epochs=PROBE_EPOCHS, lr=lr, batch_size=BATCH, on_step=probe_now)
        smoothness[lr, name] = (steps, torch.tensor(measures))

fig, axes = plt.subplots(2, 3, figsize=(9.6, 5.6))
for row, lr in zip(axes, PROBE_LRS):
    for i, name in enumerate(["표준 (BN 없음)", "BN"]):
        steps, m = smoothness[lr, name]
        row[0].fill_between(steps, m[:, 0], m[:, 1], alpha=0.4, color=f"C{i}", label=name)
        row[1].plot(steps, m[:, 2], color=f"C{i}", label=name)
        row[2].plot(steps, m[:, 3], color=f"C{i}", label=name)
    row[0].set(title=f"학습률 {lr}: 손실의 변화 폭", ylabel="손실")
    row[1].set(title=f"학습률 {lr}: 기울기의 변화", ylabel="‖∇L(θ−ηg) − ∇L(θ)‖")
    row[2].set(title=f"학습률 {lr}: 유효 β-매끄러움", ylabel="기울기 변화 / 거리")
    for ax in row:
        ax.set_xlabel("스텝")
        ax.legend(fontsize=7)
fig.suptitle("기울기 방향으로 걸어 본 손실 지형")
fig.tight_layout()
plt.show()

# %% [markdown]
# 세 양을 기록한 모든 지점에 걸친 중앙값과 최댓값으로 정리합니다. 마지막 열은 출발점의 기울기 크기입니다.

# %%
MEASURES = {  # 이름 -> (기록 횟수, 5) 텐서에서 그 양을 꺼내는 함수
    "손실 변화 폭": lambda m: m[:, 1] - m[:, 0],
    "기울기 변화": lambda m: m[:, 2],
    "유효 β": lambda m: m[:, 3],
}
rows = []
for (lr, name), (steps, m) in smoothness.items():
    row = [f"{lr:g}", name]
    for column in MEASURES.values():
        row += [fmt(column(m).median(), 4), fmt(column(m).max(), 4)]
    rows.append(row + [fmt(m[:, 4].median(), 4)])
headers = ["학습률", "모델"]
for label in MEASURES:
    headers += [f"{label} (중앙값)", "(최댓값)"]
display(Markdown(markdown_table(headers + ["‖g‖ (중앙값)"], rows)))

verdicts = []
for lr in PROBE_LRS:
    std_m, bn_m = smoothness[lr, "표준 (BN 없음)"][1], smoothness[lr, "BN"][1]
    ratios = {label: column(bn_m).median().item() / column(std_m).median().item()
              for label, column in MEASURES.items()}
    print(f"학습률 {lr:g}, 중앙값의 비 BN / 표준:",
          ", ".join(f"{label} {fmt(r, 2)}" for label, r in ratios.items()),
          f"(‖g‖ {fmt(bn_m[:, 4].median() / std_m[:, 4].median(), 2)})")
    verdicts.append(sum(r < 1 for r in ratios.values()))
for lr, smaller in zip(PROBE_LRS, verdicts):
    if smaller == len(MEASURES):
        print(f"학습률 {lr:g}: 세 양 모두 BN 쪽이 작았습니다 — 이 측정에서는 BN의 손실 지형이 더 매끄러웠습니다.")
    elif smaller == 0:
        print(f"학습률 {lr:g}: 세 양 모두 BN 쪽이 컸습니다 — 이 측정에서는 BN의 손실 지형이 더 매끄럽지 않았습니다.")
    else:
        print(f"학습률 {lr:g}: 세 양 가운데 {smaller}개만 BN 쪽이 작았습니다 — 어느 쪽이 더 매끄럽다고 말하기 어렵습니다.")

# 위의 마지막 두 줄이 이 측정의 결론입니다. 두 학습률에서 결론이 다르다면, 매끄러움의 비교가 학습 설정에
# 따라 달라진다는 것 자체가 이 실험의 결과입니다. 결론을 읽을 때 주의할 점이 두 가지 있습니다.
#
# - **같은 걸음 크기, 다른 모델.** 두 모델은 파라미터의 수와 크기, 기울기의 크기가 다릅니다. 같은
#   $\eta$라도 기울기가 큰 모델은 더 멀리 움직이므로, 손실 변화 폭과 기울기 변화가 커지기 쉽습니다.
#   위에 출력한 기울기 크기의 비가 1에서 멀다면 이 점을 감안해야 합니다. 유효 β는 움직인 거리로
#   나누어 이 차이를 덜어 낸 값입니다. 또 손실이 거의 줄지 않는 평평한 구간(plateau)에 머문 모델은
#   지형이 평평하니 매끄러워 보이지만, 그것이 학습이 잘 된다는 뜻은 아닙니다.
# - **작은 실험.** 모델 둘, 시드 하나, 200스텝입니다. Santurkar 등은 큰 망에서 여러 번
#   재고, 배치 정규화가 손실과 기울기의 립시츠 상수(Lipschitz constant)를 줄인다는 것을 이론으로도 보였습니다.
#   학습률, 걸음 크기 `ETAS`, 시드를 바꿔 결론이 유지되는지 직접 확인해 보세요.
#
# 매끄러운 지형에서는 한 걸음의 결과를 예측하기 쉬우므로 큰 학습률을 써도 안전합니다. 앞 강의의
# 학습률 실험에서 배치 정규화가 더 큰 학습률을 견뎠다면, 이 측정이 그 까닭의 한 후보입니다.

# %% [markdown]
# ## 정리
#
# - 내부 공변량 변화를 줄인다는 원래의 설명을, 분포를 일부러 흔드는 잡음 섞인 배치 정규화로 따져
#   보았습니다.
# - 기울기 방향으로 걸어 보며 손실의 변화 폭, 기울기의 변화, 유효 β-매끄러움을 재어 손실 지형의
#   매끄러움을 비교했습니다.
# - 결론은 이 페이지가 출력한 숫자가 말하는 만큼만 내립니다.
#
# 용어는 [용어집](../glossary.md)에 정리해 두었습니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** 잡음 섞인 배치 정규화에서 평가 모드일 때 잡음을 넣지 않는 이유는 무엇일까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 잡음은 학습 중에 분포를 흔들어 보려는 실험 장치일 뿐, 모델이 배워야 할 것이 아닙니다. 평가 모드에서도
# 잡음을 넣으면 같은 이미지가 부를 때마다 다른 답을 낼 수 있습니다. 드롭아웃(dropout)을 평가 모드에서
# 끄는 것과 같은 이치입니다.
#
# </details>
#
# **2.** 유효 β-매끄러움을 잴 때, 기울기의 변화를 움직인 거리 $\lVert \eta g \rVert$로 나누는 이유는
# 무엇일까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 기울기가 큰 모델은 같은 $\eta$로도 더 멀리 움직이므로, 나누지 않으면 기울기의 변화가 커 보이기 쉽습니다.
# 거리로 나누면 "단위 거리당 기울기가 얼마나 바뀌는가", 곧 $\nabla L$의 립시츠 상수(β)를 그 방향에서
# 어림한 값이 됩니다. β가 작으면 $\eta < 2/\beta$ 정도의 걸음에서 손실이 줄어든다는 것이 경사 하강법의
# 고전적인 결과입니다.
#
# </details>
#
# **3.** `NoisyBatchNorm`의 `scale`을 2에서 4로, `shift`를 1에서 3으로 키우면 결과가 어떻게 될지
# 예상하고, `mlp("noisy_bn")` 대신 잡음 층을 직접 만들어 확인해 보세요.
#
# <details markdown="1">
# <summary>풀이</summary>
#
# `bnref.course.experiments.mlp("noisy_bn", depth=3)`으로 모델을 만든 뒤, 그 안의 `NoisyBatchNorm` 층마다
# `layer.scale = 4.0`, `layer.shift = 3.0`으로 바꾸고 같은 조건으로 학습합니다. 잡음이 커질수록 분포는 더
# 크게 흔들립니다. 정확도가 어디까지 버티는지는 실행해 보아야 알 수 있고, 그 답이 곧 이 실험의 요점인
# "분포의 안정이 얼마나 필요한가"에 대한 답입니다.
#
# </details>
