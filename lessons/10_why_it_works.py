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
# [실제 데이터로 학습하기](07_digits_training.py)에서는 배치 정규화(batch normalization)가 있을 때 학습이
# 어떻게 달라지는지를 쟀습니다. 이번에는 **왜** 그런지를 묻습니다. 이 질문에는 아직 정리된 답이 없습니다.
# 여러 설명이 나와 있고, 서로 겨루거나 보완합니다. 이 강의는 그 가운데 한 논문의 두 실험을 다시 하고,
# 다음 강의 [여러 설명을 실험으로](11_competing_explanations.py)가 나머지 설명들을 잽니다.
#
# 배치 정규화를 제안한 Ioffe와 Szegedy(2015)의 설명은 이렇습니다. 학습 중에 앞쪽 층이 바뀌면 뒤쪽 층이
# 받는 입력의 분포가 계속 움직이는데(내부 공변량 변화, internal covariate shift), 배치 정규화가 이
# 분포를 고정해 주므로 학습이 쉬워진다는 것입니다. Santurkar 등(2018)은 이 설명을 두 가지 실험으로
# 따져 보았습니다.
#
# 1. **잡음 섞인 배치 정규화**(noisy batch normalization): 배치 정규화 바로 뒤에 스텝마다 바뀌는 잡음을
#    넣어 분포를 일부러 흔듭니다. 분포의 안정이 핵심이라면 이 망의 손실(loss)과 정확도(accuracy)는
#    배치 정규화가 없는 망보다 나아지지 못해야 합니다.
# 2. **손실 지형(loss landscape)의 매끄러움**: 기울기(gradient) 방향으로 조금씩 움직이며 손실과
#    기울기가 얼마나 변하는지 잽니다. 그들은 배치 정규화의 효과가 여기에 있다고 보았습니다.
#
# 두 실험을 손글씨 숫자 데이터와 작은 다층 퍼셉트론(multilayer perceptron, MLP)으로 다시 합니다. 시드를
# 세 개씩 써서 결과가 시드에 따라 갈리는지도 봅니다. 결론은 이 페이지가 잰 숫자에서만 끌어냅니다.

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
SEEDS = [0, 1, 2]  # 모델의 처음 가중치와 미니배치 순서를 정하는 시드


def spread(values, digits=3):
    """시드별 값들을 '중앙값 (최솟값 ~ 최댓값)'으로."""
    t = torch.tensor(values, dtype=torch.float64)
    return f"{fmt(t.median(), digits)} ({fmt(t.min(), digits)} ~ {fmt(t.max(), digits)})"


# %% [markdown]
# ## 잡음 섞인 배치 정규화
#
# 논문은 배치 정규화 층 뒤에서 **각 샘플의 각 활성값**(activation)에 서로 독립으로 뽑은(i.i.d.) 잡음을
# 넣었습니다. 잡음의 분포는 평균이 0이 아니고 분산이 1이 아니며, 스텝마다 바뀝니다.
# `bnref.course.experiments.NoisyBatchNorm`은 두 가지 잡음을 넣을 수 있습니다.
#
# - **변형**(`per="channel"`, 기본값): 스텝마다 채널 $c$에 스케일 $s_c$와 시프트 $t_c$를 하나씩 뽑아
#   $y_c = s_c \cdot \operatorname{BN}(x)_c + t_c$로 만듭니다. 미니배치의 모든 샘플이 같은 $s_c$, $t_c$를
#   씁니다. 이 강좌가 앞서 쓰던 장치로, 논문의 장치와 같지 않습니다.
# - **논문식**(`per="activation"`): 스텝마다 잡음의 분포 $\mathcal{N}(\mu, \sigma^2)$를 새로 정하고, 모든
#   샘플의 모든 활성값에 그 분포에서 따로 뽑은 잡음 $n$을 더해 $y = \operatorname{BN}(x) + n$으로 만듭니다.
#   분포가 정규분포(normal distribution)라는 것과 아래의 크기는 이 강좌가 정한 것이고, 논문이 쓴 값과 같다는 보장은 없습니다.
#
# $$\log s_c,\ \log\sigma \sim U(-\log 2, \log 2), \qquad t_c,\ \mu \sim U(-1, 1)$$
#
# 어느 쪽이든 다음 층이 받는 입력의 평균은 ±1 범위에서, 표준편차는 몇 배 범위에서 스텝마다 흔들립니다.
# 논문식은 여기에 더해, 같은 미니배치 안에서도 샘플마다 다른 잡음을 받습니다. 평가 모드(evaluation
# mode)에서는 둘 다 잡음을 넣지 않습니다.
#
# 네 모델을 같은 조건으로 학습합니다. 뉴런(neuron) 64개짜리 은닉층(hidden layer) 세 개에 ReLU를 쓰는
# 다층 퍼셉트론이고, 배치 정규화가 없는 표준 모델, 배치 정규화를 넣은 모델, 두 가지 잡음 섞인 배치
# 정규화를 넣은 모델입니다. 학습 중에는 마지막 ReLU의 0번 뉴런이 받는 입력을 미니배치(mini-batch)마다
# 기록하고, 10스텝마다 모델의 파라미터와 버퍼를 저장해 둡니다. 저장한 것은 뒤의 손실 지형 절에서 씁니다.

# %%
MODELS = {  # 이름 -> (mlp의 norm, NoisyBatchNorm의 per)
    "표준 (BN 없음)": (None, None),
    "BN": ("bn", None),
    "잡음 섞인 BN (변형)": ("noisy_bn", "channel"),
    "잡음 섞인 BN (논문식)": ("noisy_bn", "activation"),
}
EPOCHS, BATCH, LR, UNIT, SAVE_EVERY = 10, 128, 0.1, 0, 10


def build(name, seed):
    norm, per = MODELS[name]
    model = mlp(norm, depth=3, seed=seed)
    for layer in model:
        if isinstance(layer, NoisyBatchNorm):
            layer.per = per
    return model


def record_relu_input(model, log):
    """마지막 ReLU가 학습 모드에서 받는 입력의 UNIT번 뉴런 값을, 미니배치마다 (평균, 표준편차)로."""
    last_relu = [m for m in model if isinstance(m, torch.nn.ReLU)][-1]

    def hook(module, inputs):
        if module.training:
            z = inputs[0][:, UNIT].detach()
            log.append((z.mean().item(), z.std(correction=0).item()))

    last_relu.register_forward_pre_hook(hook)


def run(name, seed, lr=LR):
    """학습하고 (학습 기록, 기록한 (평균, 표준편차) 텐서, SAVE_EVERY스텝마다 저장한 (스텝, state_dict))."""
    model, log, saved = build(name, seed), [], []
    record_relu_input(model, log)

    def save(step, model):
        if step % SAVE_EVERY == 0:
            saved.append((step, copy.deepcopy(model.state_dict())))

    h = train(model, data, epochs=EPOCHS, lr=lr, batch_size=BATCH, seed=seed, on_step=save)
    return h, torch.tensor(log), saved


noisy_runs = {(name, seed): run(name, seed) for name in MODELS for seed in SEEDS}  # (이름, 시드) -> run의 결과

fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.2))
for name in MODELS:
    h, log, _ = noisy_runs[name, SEEDS[0]]
    axes[0].plot(range(1, len(h.step_loss) + 1), h.step_loss, label=name, linewidth=1)
    axes[1].plot(range(len(h.test_acc)), h.test_acc, marker=".", label=name)
    axes[2].plot(range(1, len(log) + 1), log[:, 0], label=name, linewidth=1)
axes[0].set(title="학습 손실 (미니배치)", xlabel="스텝", ylabel="교차 엔트로피 손실")
axes[1].set(title="테스트 정확도", xlabel="에폭", ylabel="정확도", ylim=(0, 1))
axes[2].set(title=f"ReLU {UNIT}번 뉴런 입력의 배치 평균", xlabel="스텝", ylabel="평균")
for ax in axes:
    ax.legend(fontsize=7)
fig.suptitle(f"표준, BN, 두 가지 잡음 섞인 BN (시드 {SEEDS[0]})")
fig.tight_layout()
plt.show()

# %% [markdown]
# 그림은 시드 하나의 학습이고, 오른쪽 그림이 잡음의 효과를 보여 줍니다. 표는 세 시드를 모두 정리합니다.
# "흔들림"은 **연속한 두 스텝** 사이에 그 뉴런 입력의 배치 평균과 배치 표준편차가 바뀐 크기의 평균으로,
# 분포가 스텝마다 얼마나 움직이는지를 나타냅니다. 칸마다 세 시드의 중앙값과 (최솟값 ~ 최댓값)입니다.
# 학습 손실은 학습 모드에서 잰 값이라 잡음이 켜진 채로 잰 것입니다.

# %%
def step_to_step(values):
    """연속한 두 스텝 사이 변화량 |v[t+1] − v[t]|의 평균."""
    return (values[1:] - values[:-1]).abs().mean().item()


def over_seeds(name, measure):
    return [measure(*noisy_runs[name, seed][:2]) for seed in SEEDS]


def mean_shake(h, log):
    return step_to_step(log[:, 0])


def final_acc(h, log):
    return h.test_acc[-1]


rows = []
for name in MODELS:
    rows.append([name, spread(over_seeds(name, mean_shake)),
                 spread(over_seeds(name, lambda h, log: step_to_step(log[:, 1]))),
                 spread(over_seeds(name, lambda h, log: h.test_acc[3])), spread(over_seeds(name, final_acc)),
                 spread(over_seeds(name, lambda h, log: h.train_loss[-1]), 4)])
display(Markdown(markdown_table(
    ["모델", "평균의 흔들림", "표준편차의 흔들림", "3에폭 정확도", f"{EPOCHS}에폭 정확도", "마지막 에폭 학습 손실"],
    rows)))

standard, bn, *noisy_names = MODELS
verdicts = []
for name in noisy_names:
    pairs = list(zip(over_seeds(name, mean_shake), over_seeds(standard, mean_shake),
                     over_seeds(name, final_acc), over_seeds(standard, final_acc), over_seeds(bn, final_acc)))
    shakier = sum(shake > shake_std for shake, shake_std, *_ in pairs)
    better = sum(acc > acc_std for *_, acc, acc_std, _ in pairs)
    gap_bn = torch.tensor([acc - acc_bn for *_, acc, _, acc_bn in pairs]).median()
    print(f"{name}: 세 시드 가운데 {shakier}개에서 표준 모델보다 분포가 더 흔들렸고, {better}개에서 표준 모델보다 "
          f"높은 {EPOCHS}에폭 정확도에 닿았습니다. BN과의 정확도 차이(중앙값): {fmt(gap_bn, 3)}")
    verdicts.append(shakier == better == len(SEEDS))
if all(verdicts):
    print("→ 두 잡음 모두 분포를 표준 모델보다 크게 흔들면서도 모든 시드에서 표준 모델보다 높은 정확도에 "
          "닿았습니다. 이 측정에서는 분포의 안정이 그 차이의 필요조건이 아니었습니다.")
elif any(verdicts):
    print("→ 한 가지 잡음에서만 모든 시드가 그랬습니다. 분포의 안정이 필요한지는 잡음의 종류에 따라 다르게 보입니다.")
else:
    print("→ 어느 잡음에서도 모든 시드가 그렇지는 않았습니다. 이 측정으로는 분포의 안정이 필요한지 말할 수 없습니다.")

# %% [markdown]
# 위 줄들이 이 실험의 결과입니다. 논리는 이렇습니다. 내부 공변량 변화를 줄이는 것이 배치 정규화가 효과를
# 내는 원인이라면, 분포를 표준 모델보다 더 흔드는 망은 표준 모델보다 잘 학습할 수 없어야 합니다. 그러니 분포를
# 크게 흔들고도 표준 모델보다 잘 학습하는 망은 "분포를 안정시켜서 학습이 쉬워진다"는 설명만으로는 배치
# 정규화의 효과를 다 설명할 수 없다는 증거이고, 위 줄은 그런 증거가 시드마다 나왔는지를 말해 줍니다.
# Santurkar 등은 훨씬 큰 합성곱 신경망(convolutional neural network, CNN)인 VGG를 CIFAR-10으로 학습해 이
# 실험을 했고, 잡음 섞인 BN도 BN과 비슷하게 학습된다고 보고했습니다.
#
# 여기서는 두 잡음 모두 BN에는 못 미쳤습니다. 표에서 10에폭 정확도의 범위가 BN과 겹치지 않고, 위에 출력한
# "BN과의 정확도 차이"(중앙값)는 변형이 −0.022, 논문식이 −0.102입니다. 논문식 잡음은 샘플마다
# 다른 잡음을 더하므로 각 샘플의 정보 일부를 지웁니다. 변형의 채널별 스케일과 시프트는 미니배치 전체에 같은
# 아핀 변환(affine transform)이라 샘플 사이의 관계를 지우지 않습니다. 그러니 두 장치는 "분포를 흔든다"는 점은 같아도 망에
# 주는 부담이 다르고, 결과의 크기는 잡음의 크기에 달려 있습니다. 여기서는 작은 모델과 데이터 하나, 시드
# 세 개로 잰 결과입니다. 잡음의 크기를 바꿔 직접 확인해 보세요(연습 문제 3).

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
# 앞의 두 양은 같은 $\eta$로 걸었을 때 **실제로 겪는** 변화입니다. 그런데 같은 $\eta$라도 기울기가 작은
# 모델은 덜 멀리 움직이므로 두 양이 작게 나옵니다. 그래서 앞의 두 양이 작다는 것만으로는 지형이 매끄러운
# 것인지, 덜 움직였을 뿐인지 가를 수 없습니다. 움직인 거리로 나눈 세 번째 양이 이 둘을 가릅니다. 아래의
# 결론은 이 세 번째 양으로 내립니다.
#
# 손실은 학습 데이터(training set)의 앞 512개로 학습 모드(training mode)에서 잽니다(배치 정규화는
# 이 512개의 배치 통계를 씁니다). 옮겨 가 보는 것은 모델의 복사본이므로 학습 자체와 이동 통계에는
# 영향을 주지 않습니다.
#
# 결과가 학습 설정에 따라 달라지는지도 보기 위해, 두 모델을 학습률(learning rate) 0.1과 0.3으로 각각 시드 세 개씩
# 10에폭(100스텝) 학습하면서 10스텝마다 저장한 모델에서 잽니다. 학습률 0.1은 앞 절의 학습에서 저장해 둔
# 것을 그대로 쓰고, 학습률 0.3만 새로 학습합니다. 걸음 크기 $\eta$는 두 학습률에 같은 값을 씁니다.

# %%
ETAS = [0.05, 0.1, 0.2, 0.4]  # 걸음 크기 η
PROBE_LRS = [LR, 0.3]
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


def landscape_along(name, seed, saved):
    """저장해 둔 (스텝, state_dict)마다 같은 구조의 모델에 불러와 landscape를 잽니다."""
    steps, measures = [], []
    for step, state in saved:
        model = build(name, seed)
        model.load_state_dict(state)
        steps.append(step)
        measures.append(landscape(model))
    return steps, torch.tensor(measures)


smoothness = {}  # (학습률, 모델 이름, 시드) -> (스텝들, (기록 횟수, 5) 텐서)
for lr in PROBE_LRS:
    for name in [standard, bn]:
        for seed in SEEDS:
            saved = noisy_runs[name, seed][2] if lr == LR else run(name, seed, lr=lr)[2]
            smoothness[lr, name, seed] = landscape_along(name, seed, saved)

fig, axes = plt.subplots(2, 3, figsize=(9.6, 5.6))
for row, lr in zip(axes, PROBE_LRS):
    for i, name in enumerate([standard, bn]):
        steps, m = smoothness[lr, name, SEEDS[0]]
        row[0].fill_between(steps, m[:, 0], m[:, 1], alpha=0.4, color=f"C{i}", label=name)
        row[1].plot(steps, m[:, 2], color=f"C{i}", label=name)
        row[2].plot(steps, m[:, 3], color=f"C{i}", label=name)
    row[0].set(title=f"학습률 {lr}: 손실의 변화 폭", ylabel="손실")
    row[1].set(title=f"학습률 {lr}: 기울기의 변화", ylabel="‖∇L(θ−ηg) − ∇L(θ)‖")
    row[2].set(title=f"학습률 {lr}: 유효 β-매끄러움", ylabel="기울기 변화 / 거리")
    for ax in row:
        ax.set_xlabel("스텝")
        ax.legend(fontsize=7)
fig.suptitle(f"기울기 방향으로 걸어 본 손실 지형 (시드 {SEEDS[0]})")
fig.tight_layout()
plt.show()

# %% [markdown]
# 그림은 시드 하나입니다. 표는 학습 한 번에서 기록한 모든 지점의 중앙값을 구한 뒤, 세 시드의
# 중앙값과 (최솟값 ~ 최댓값)으로 정리합니다. 마지막 열은 출발점의 기울기 크기 $\lVert g \rVert$입니다.

# %%
MEASURES = {  # 이름 -> (기록 횟수, 5) 텐서에서 그 양을 꺼내는 함수
    "손실 변화 폭": lambda m: m[:, 1] - m[:, 0],
    "기울기 변화": lambda m: m[:, 2],
    "유효 β": lambda m: m[:, 3],
    "‖g‖": lambda m: m[:, 4],
}


def run_median(lr, name, seed, label):
    """학습 한 번에서 기록한 모든 지점에 걸친, 그 양의 중앙값."""
    return MEASURES[label](smoothness[lr, name, seed][1]).median().item()


rows = [[f"{lr:g}", name, *[spread([run_median(lr, name, seed, label) for seed in SEEDS], 4)
                            for label in MEASURES]]
        for lr in PROBE_LRS for name in [standard, bn]]
display(Markdown(markdown_table(["학습률", "모델", *MEASURES], rows)))


def ratios(lr, label):
    """시드마다, 그 양의 중앙값의 비 BN / 표준."""
    return [run_median(lr, bn, seed, label) / run_median(lr, standard, seed, label) for seed in SEEDS]


for lr in PROBE_LRS:
    print(f"학습률 {lr:g}, 중앙값의 비 BN / 표준 (시드 {', '.join(map(str, SEEDS))}):")
    for label in MEASURES:
        print(f"  {label}: {', '.join(fmt(r, 2) for r in ratios(lr, label))}")
beta_verdicts = []
for lr in PROBE_LRS:
    raw_smaller = all(r < 1 for label in ["손실 변화 폭", "기울기 변화"] for r in ratios(lr, label))
    beta_smaller = sum(r < 1 for r in ratios(lr, "유효 β"))
    raw = "날것의 두 양은 모든 시드에서 BN 쪽이 작았고" if raw_smaller else "날것의 두 양은 시드나 양에 따라 달랐고"
    if beta_smaller == len(SEEDS):
        verdict = ("거리로 나눈 유효 β도 모든 시드에서 BN 쪽이 작았습니다 — 이 측정에서는 BN 쪽 지형이 "
                   "덜 휘었습니다.")
    elif beta_smaller == 0:
        verdict = ("거리로 나눈 유효 β는 모든 시드에서 BN 쪽이 컸습니다 — 이 측정에서는 BN 쪽 지형이 더 "
                   "매끄럽다는 증거가 없습니다.")
    else:
        verdict = (f"거리로 나눈 유효 β는 시드 {len(SEEDS)}개 가운데 {beta_smaller}개에서만 BN 쪽이 "
                   "작았습니다 — 어느 쪽이 더 매끄럽다고 말할 수 없습니다.")
    print(f"학습률 {lr:g}: {raw}, {verdict}")
    beta_verdicts.append(beta_smaller)
if len(set(beta_verdicts)) > 1:
    print("→ 두 학습률에서 결론이 달랐습니다. 이 측정에서 매끄러움의 비교는 학습 설정에 따라 달라집니다.")
else:
    print("→ 두 학습률에서 결론이 같았습니다.")

# %% [markdown]
# 위의 마지막 세 줄이 이 측정의 결론입니다. 결론을 읽을 때 주의할 점이 세 가지 있습니다.
#
# - **날것의 양이 말할 수 있는 것과 없는 것.** 손실 변화 폭과 기울기 변화는 "이 학습률로 한 걸음을 디딜
#   때 얼마나 크게 흔들리는가"를 직접 잽니다. 그래서 같은 학습률에서 어느 모델의 학습이 더 안정적일지는
#   말해 줍니다. 하지만 두 모델의 $\lVert g \rVert$가 다르면 같은 $\eta$로 움직이는 거리도 다르므로(위에
#   출력한 ‖g‖의 비), 이 두 양의 차이가 지형 때문인지 움직인 거리 때문인지 가를 수 없습니다. 유효 β는
#   움직인 거리로 나누어 이 차이를 덜어 낸 값이라서, 결론은 이것으로 내렸습니다.
# - **거리를 재는 자 자체가 모델마다 다릅니다.** 배치 정규화 바로 앞 가중치는 크기를 바꿔도 출력이 그대로라서
#   (스케일 불변성, scale invariance), 그 가중치에 대한 기울기는 $1/\lVert w \rVert$배, 휘는 정도는
#   $1/\lVert w \rVert^2$배로 가중치의 크기에 따라 달라집니다. 파라미터 공간의 거리로 잰 유효 β도 모델의 파라미터화에 매여 있다는
#   뜻입니다. 이 성질은 [여러 설명을 실험으로](11_competing_explanations.py)에서 잽니다. 또 손실이 거의 줄지
#   않는 평평한 구간(plateau)에 머문 모델은 지형이 평평하니 매끄러워 보이지만, 그것이 학습이 잘 된다는
#   뜻은 아닙니다.
# - **작은 실험.** 모델 둘, 시드 셋, 100스텝입니다. Santurkar 등은 큰 망에서 여러 번 재고, 배치 정규화가
#   손실과 기울기의 립시츠 상수(Lipschitz constant)를 줄인다는 것을 (가정을 두고) 이론으로도 보였습니다.
#   학습률, 걸음 크기 `ETAS`, 에폭 수를 바꿔 결론이 유지되는지 직접 확인해 보세요.
#
# 매끄러운 지형에서는 한 걸음의 결과를 예측하기 쉬우므로 큰 학습률을 써도 안전합니다. 그래서 매끄러움은
# 배치 정규화가 큰 학습률을 견디는 까닭의 한 후보입니다. 다른 후보인 유효 학습률(effective learning rate)과
# 배치 통계의 잡음, 그리고 그 측정은 [여러 설명을 실험으로](11_competing_explanations.py)에 모아 두었습니다.

# %% [markdown]
# ## 정리
#
# - 내부 공변량 변화를 줄인다는 원래의 설명을, 분포를 일부러 흔드는 두 가지 잡음 섞인 배치 정규화(논문식과
#   이 강좌의 변형)로 따져 보았습니다.
# - 기울기 방향으로 걸어 보며 손실의 변화 폭, 기울기의 변화, 유효 β-매끄러움을 재어 손실 지형의
#   매끄러움을 비교했습니다. 결론은 움직인 거리로 나눈 유효 β로 내렸습니다.
# - 결론은 이 페이지가 출력한 숫자가 말하는 만큼만 내립니다. 배치 정규화가 왜 효과가 있는지는 아직 정리되지
#   않은 질문입니다.
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
# **3.** `NoisyBatchNorm`의 `scale`을 2에서 4로, `shift`를 1에서 3으로 키우면 두 가지 잡음의 결과가
# 어떻게 될지 예상하고 확인해 보세요.
#
# <details markdown="1">
# <summary>풀이</summary>
#
# `build(name, seed)`로 모델을 만든 뒤, 그 안의 `NoisyBatchNorm` 층마다 `layer.scale = 4.0`,
# `layer.shift = 3.0`으로 바꾸고 같은 조건으로 학습합니다. 잡음이 커질수록 분포는 더 크게 흔들립니다.
# 논문식 잡음은 샘플마다 정보를 더 많이 지우므로 변형보다 먼저 정확도가 떨어질 것이라고 예상할 수
# 있습니다. 정확도가 어디까지 버티는지는 실행해 보아야 알 수 있고, 그 답이 곧 이 실험의 요점인
# "분포의 안정이 얼마나 필요한가"에 대한 답입니다.
#
# </details>
#
# **4.** 변형 잡음(채널마다 스케일과 시프트 하나)을 넣은 층 바로 뒤에 배치 정규화가 하나 더 있다면, 그
# 배치 정규화의 출력은 잡음이 없을 때와 비교해 어떻게 될까요? 논문식 잡음이라면요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 여기서 "바로 뒤"는 사이에 ReLU 같은 비선형 함수가 없다는 뜻입니다. 변형 잡음은 채널마다
# $y_c = s_c x_c + t_c$ ($s_c > 0$)인 아핀 변환이라서, 다음 배치 정규화가 배치 평균을 빼고 배치
# 표준편차로 나누면 $s_c$와 $t_c$가 (ε의 영향을 빼면) 모두 지워집니다. 잡음이 없을 때와 출력이 같습니다.
# 논문식 잡음은 샘플마다 다른 값을 더하므로 평균과 분산을 맞춰도 지워지지 않습니다. 이 강좌의 모델에는
# 사이에 ReLU와 `Linear`가 있으므로 어느 잡음도 그대로 지워지지는 않습니다.
#
# </details>
