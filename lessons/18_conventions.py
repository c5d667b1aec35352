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
# # 같은 이름, 다른 관례
#
# 배치 정규화(batch normalization)를 처음 배울 때는 대개 유명한 교재의 구현을 따라 씁니다. Stanford
# CS231n의 과제, 「Dive into Deep Learning」(d2l)의 한국어판, Andrej Karpathy의 makemore 강의가 대표적입니다.
# 그런데 이 구현들은 **이름은 같아도** 세부 관례가 PyTorch와 조금씩 다릅니다.
#
# - `momentum`이 새 값의 비중인가, 기존 값의 비중인가
# - 이동 분산(running variance)의 처음 값이 1인가, 0인가
# - 정규화에 편향 분산(biased variance, $n$으로 나눈 분산)을 쓰는가, 불편 분산(unbiased variance,
#   $n-1$로 나눈 분산)을 쓰는가
# - 이동 분산에 어느 분산을 넣는가
#
# 이번 강의에서는 같은 입력을 PyTorch와 각 교재의 관례로 계산해서, 그 차이가 숫자로 얼마나 되는지
# 봅니다. 각 교재의 코드는 공개된 원본을 확인하고, 계산하는 부분만 작은 함수로 옮겼습니다. 출처는
# 함수 위의 주석과 [참고 문헌](../references.md)에 있습니다.

# %%
import numpy as np
import torch
from IPython.display import Markdown, display

import bnref
from bnref.course.printing import fmt, markdown_table

# %% [markdown]
# ## 세 교재의 구현
#
# ### CS231n: `batchnorm_forward`
#
# CS231n 과제 2의 `cs231n/layers.py`는 NumPy로 씁니다. 함수의 설명과 기본값이 관례를 정해 둡니다.
# 설명에는 학습 중 배치 평균(batch mean)과 "보정하지 않은(uncorrected)" 분산, 즉 편향 분산으로
# 정규화하고, 이동 통계를 `running_mean = momentum * running_mean + (1 - momentum) * sample_mean`으로
# 갱신한다고 적혀 있습니다. 기본값은 `momentum=0.9`이고, `bn_param`에 이동 분산이 없으면 **0으로 채운**
# 배열에서 시작합니다.
# 과제의 `FullyConnectedNet`은 `bn_param`을 `{"mode": "train"}`으로만 만들어 넘기므로 실제로 0에서
# 시작합니다. 학습 단계의 본문은 학생이 채우는 부분이라, 아래는 설명이 정한 대로 채운 것입니다.

# %%
# 출처: CS231n 과제 2 뼈대 코드 cs231n/layers.py의 batchnorm_forward (설명, 기본값, 저장 방식).
# 본문은 설명대로: 정규화와 이동 분산 모두 보정하지 않은 분산(np.var, ddof=0). cache는 생략.
def cs231n_batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)

    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    if mode == "train":
        sample_mean = x.mean(axis=0)
        sample_var = x.var(axis=0)  # (uncorrected) sample variance
        out = gamma * (x - sample_mean) / np.sqrt(sample_var + eps) + beta
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
    else:  # "test"
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out


# %% [markdown]
# ### d2l 한국어판: `batch_norm`
#
# 「Dive into Deep Learning」 한국어판의 배치 정규화 절은 수식을 `batch_norm` 함수로 쓰고, `BatchNorm`
# 층이 그것을 `eps=1e-5, momentum=0.9`로 부릅니다. 이동 평균(running mean)과 이동 분산의 처음 값은 0과 1이고, 갱신은
# `momentum * moving_mean + (1.0 - momentum) * mean`, 분산은 $n$으로 나눈 편향 분산입니다. 아래 함수는
# PyTorch 탭의 코드 그대로입니다.
#
# 영어판(d2l.ai)은 2022년에 PyTorch 탭의 갱신 식을 `(1.0 - momentum) * moving_mean + momentum * mean`으로
# 고치고 층이 `momentum=0.1`로 부르게 바꾸었습니다. 그래서 영어판의 `momentum`은 PyTorch처럼 새 값의
# 비중입니다. 편향 분산을 쓰는 점과 `torch.is_grad_enabled()`로 모드를 판단하는 점은 두 판이 같습니다.
# 이 강의는 그 전의 원문을 옮긴 한국어판을 따릅니다.

# %%
# 출처: d2l-ai/d2l-ko, chapter_convolutional-modern/batch-norm.md, PyTorch 탭의 batch_norm.
def d2l_batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    # Use `is_grad_enabled` to determine whether the current mode is training mode or prediction mode
    if not torch.is_grad_enabled():
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data


# %% [markdown]
# 이 함수는 학습 모드인지를 층의 `training` 속성이 아니라 `torch.is_grad_enabled()`로 판단합니다.
# `torch.no_grad()` 안에서 부르면 평가 모드(evaluation mode)가 되고, 그 밖에서 부르면 평가 데이터라도 학습
# 모드(training mode)로 계산해 이동 통계를 갱신합니다. PyTorch의 층은 기울기 기록과 상관없이
# `model.train()`과 `model.eval()`로 정한 모드대로 동작합니다([자주 하는 실수](17_common_mistakes.py)의
# 실수 3). 옮겨 쓸 때 조심해야 하는 부분입니다.
#
# ### Karpathy의 makemore 3편
#
# makemore 3편(활성화, 기울기, 배치 정규화)은 먼저 학습 루프 안에 배치 정규화를 몇 줄로 씁니다. 표준편차를
# `hpreact.std(0, keepdim=True)`로 구하는데, `std()`의 기본값은 불편 분산의 제곱근입니다. ε 없이 그
# 표준편차로 나누고, 이동 통계는 분산이 아니라 **표준편차**를 `0.999`와 `0.001`의 비중으로 누적합니다.
# 평가할 때는 `(hpreact - bnmean_running) / bnstd_running`으로 정규화합니다.

# %%
# 출처: karpathy/nn-zero-to-hero, lectures/makemore/makemore_part3_bn.ipynb, 학습 루프의 BatchNorm 부분.
def makemore_bn_train(hpreact, bngain, bnbias, bnmean_running, bnstd_running):
    bnmeani = hpreact.mean(0, keepdim=True)
    bnstdi = hpreact.std(0, keepdim=True)
    hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
    with torch.no_grad():
        bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani
        bnstd_running = 0.999 * bnstd_running + 0.001 * bnstdi
    return hpreact, bnmean_running, bnstd_running


def makemore_bn_eval(hpreact, bngain, bnbias, bnmean_running, bnstd_running):
    return bngain * (hpreact - bnmean_running) / bnstd_running + bnbias


# %% [markdown]
# 같은 강의의 뒷부분은 이것을 PyTorch와 비슷한 `BatchNorm1d` 클래스로 다시 씁니다. 여기서는
# `momentum=0.1`이 새 값의 비중이고 처음 값도 0과 1로 PyTorch와 같지만, 정규화에 쓰는 분산이
# `x.var(0, keepdim=True)`, 즉 불편 분산입니다(이동 분산에도 같은 값을 넣습니다).

# %%
# 출처: 같은 노트북의 BatchNorm1d 클래스에서 계산하는 부분 (__call__).
class MakemoreBatchNorm1d:
    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps = eps
        self.momentum = momentum
        self.training = True
        self.gamma = torch.ones(dim)
        self.beta = torch.zeros(dim)
        self.running_mean = torch.zeros(dim)
        self.running_var = torch.ones(dim)

    def __call__(self, x):
        if self.training:
            xmean = x.mean(0, keepdim=True)  # batch mean
            xvar = x.var(0, keepdim=True)  # batch variance
        else:
            xmean = self.running_mean
            xvar = self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)
        self.out = self.gamma * xhat + self.beta
        if self.training:
            with torch.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
        return self.out


# %% [markdown]
# ## 같은 입력을 넣는다
#
# 특성이 3개이고 특성마다 평균과 표준편차가 다른 분포에서, 샘플 16개짜리 미니배치(mini-batch)를
# 1000개 뽑아 둡니다. 모든 구현에 같은 미니배치를 같은 순서로 넣고, 중간중간 이동 통계와 출력을
# 기록합니다. γ = 1, β = 0으로 두어 통계의 차이만 보이게 합니다. 평가 모드의 출력은 같은 분포에서 따로
# 뽑은 샘플 64개로 비교합니다.

# %%
true_mean = torch.tensor([5.0, -2.0, 0.5])
true_std = torch.tensor([2.0, 0.5, 1.0])
torch.manual_seed(0)
batches = torch.randn(1000, 16, 3) * true_std + true_mean  # 미니배치 1000개, 각각 (16, 3)
test_batch = torch.randn(64, 3) * true_std + true_mean
checkpoints = (1, 10, 100, 1000)


def run_torch_like(layer):
    """PyTorch식 층(nn.BatchNorm1d, bnref.BatchNorm1d, makemore 클래스)을 학습 모드로 돌립니다."""
    records = {}
    for k, batch in enumerate(batches, start=1):
        with torch.no_grad():
            layer.train() if hasattr(layer, "train") else setattr(layer, "training", True)
            out = layer(batch)
        if k in checkpoints:
            layer.eval() if hasattr(layer, "eval") else setattr(layer, "training", False)
            with torch.no_grad():
                test_out = layer(test_batch)
            records[k] = dict(out=out.reshape(16, 3), test_out=test_out.reshape(64, 3),
                              running_mean=layer.running_mean.flatten().clone(),
                              running_var=layer.running_var.flatten().clone())
    return records


def run_cs231n():
    gamma, beta = np.ones(3, dtype=np.float32), np.zeros(3, dtype=np.float32)
    bn_param = {"mode": "train"}
    records = {}
    for k, batch in enumerate(batches, start=1):
        bn_param["mode"] = "train"
        out = cs231n_batchnorm_forward(batch.numpy(), gamma, beta, bn_param)
        if k in checkpoints:
            bn_param["mode"] = "test"
            test_out = cs231n_batchnorm_forward(test_batch.numpy(), gamma, beta, bn_param)
            records[k] = dict(out=torch.from_numpy(out), test_out=torch.from_numpy(test_out),
                              running_mean=torch.from_numpy(bn_param["running_mean"]).clone(),
                              running_var=torch.from_numpy(bn_param["running_var"]).clone())
    return records


def run_d2l():
    gamma, beta = torch.ones(1, 3), torch.zeros(1, 3)  # d2l의 BatchNorm 층: 모양 (1, num_features)
    moving_mean, moving_var = torch.zeros(1, 3), torch.ones(1, 3)
    records = {}
    for k, batch in enumerate(batches, start=1):
        out, moving_mean, moving_var = d2l_batch_norm(batch, gamma, beta, moving_mean, moving_var,
                                                      eps=1e-5, momentum=0.9)
        if k in checkpoints:
            with torch.no_grad():  # d2l은 이것으로 평가 모드가 됩니다
                test_out, _, _ = d2l_batch_norm(test_batch, gamma, beta, moving_mean, moving_var,
                                                eps=1e-5, momentum=0.9)
            records[k] = dict(out=out, test_out=test_out, running_mean=moving_mean.flatten().clone(),
                              running_var=moving_var.flatten().clone())
    return records


def run_makemore_inline():
    bngain, bnbias = torch.ones(1, 3), torch.zeros(1, 3)
    bnmean_running, bnstd_running = torch.zeros(1, 3), torch.ones(1, 3)
    records = {}
    for k, batch in enumerate(batches, start=1):
        out, bnmean_running, bnstd_running = makemore_bn_train(batch, bngain, bnbias, bnmean_running,
                                                               bnstd_running)
        if k in checkpoints:
            test_out = makemore_bn_eval(test_batch, bngain, bnbias, bnmean_running, bnstd_running)
            # 이동 "분산"으로 비교하려고 표준편차를 제곱해 둡니다.
            records[k] = dict(out=out, test_out=test_out, running_mean=bnmean_running.flatten().clone(),
                              running_var=(bnstd_running**2).flatten().clone())
    return records


results = {
    "PyTorch nn.BatchNorm1d": run_torch_like(torch.nn.BatchNorm1d(3)),
    "bnref.BatchNorm1d": run_torch_like(bnref.BatchNorm1d(3)),
    "CS231n": run_cs231n(),
    "d2l 한국어판": run_d2l(),
    "makemore 3 (학습 루프)": run_makemore_inline(),
    "makemore 3 (클래스)": run_torch_like(MakemoreBatchNorm1d(3)),
}

# %% [markdown]
# ## 관례 한눈에 보기
#
# 먼저 각 구현의 관례를 한 표에 모읍니다. "새 값의 비중"은 PyTorch의 `momentum`과 같은 뜻으로 바꿔
# 적은 것입니다. CS231n과 d2l 한국어판의 `momentum=0.9`는 기존 값의 비중이므로 새 값의 비중은 0.1로,
# PyTorch의 기본값과 같습니다. 이름은 같은 `momentum`인데 뜻은 정반대입니다.

# %%
conventions = [
    ["PyTorch nn.BatchNorm1d", "momentum=0.1", "0.1", "1", "편향", "불편"],
    ["CS231n", "momentum=0.9", "0.1", "0", "편향", "편향"],
    ["d2l 한국어판", "momentum=0.9", "0.1", "1", "편향", "편향"],
    ["makemore 3 (학습 루프)", "0.999 / 0.001", "0.001", "1 (표준편차)", "불편, ε 없음", "불편 (표준편차로)"],
    ["makemore 3 (클래스)", "momentum=0.1", "0.1", "1", "불편", "불편"],
]
display(Markdown(markdown_table(
    ["구현", "코드에 적힌 값", "새 값의 비중", "이동 분산의 처음 값", "정규화에 쓰는 분산", "이동 분산에 넣는 분산"],
    conventions)))

# %% [markdown]
# ## 10 스텝 뒤의 차이
#
# 미니배치 10개를 넣은 뒤 첫 번째 특성(참 평균 5, 참 분산 4)의 이동 통계와, PyTorch와의 출력 차이를
# 봅니다. "학습 출력 차이"는 10번째 미니배치를 학습 모드로 넣었을 때의 출력, "평가 출력 차이"는 그때까지
# 쌓은 이동 통계로 평가용 샘플을 정규화한 출력이 PyTorch와 얼마나 다른지(절댓값 차이의 최댓값)입니다.

# %%
def table_at(k):
    reference = results["PyTorch nn.BatchNorm1d"][k]
    rows = []
    for name, records in results.items():
        r = records[k]
        rows.append([name, r["running_mean"][0], r["running_var"][0],
                     (r["out"] - reference["out"]).abs().max(),
                     (r["test_out"] - reference["test_out"]).abs().max()])
    return markdown_table(["구현", "running_mean[0]", "running_var[0]", "학습 출력 차이", "평가 출력 차이"], rows)


display(Markdown(table_at(10)))

# %% [markdown]
# 표를 관례 하나씩 읽어 봅니다.
#
# - **bnref**는 PyTorch와 같은 관례를 따르므로 모든 차이가 0입니다.
# - **d2l**의 이동 평균은 PyTorch와 같습니다. `momentum=0.9`가 기존 값의 비중이라는 점만 바꿔 읽으면
#   같은 갱신이기 때문입니다. 이동 분산만 다른데, 편향 분산을 넣어 PyTorch보다 조금 작습니다.
# - **CS231n**은 d2l과 관례가 같되 이동 분산이 0에서 시작합니다. 처음 값의 비중 $0.9^k$만큼 d2l보다 작고,
#   그만큼 평가 출력이 크게 달라집니다.
# - **makemore 학습 루프**는 새 값의 비중이 0.001이라 10 스텝으로는 이동 평균이 0에서 거의 움직이지 않습니다.
#   평가 출력은 전혀 정규화되지 않은 것과 비슷합니다. 학습 모드의 출력도 불편 분산으로 나누어 조금 작습니다.
# - **makemore 클래스**는 이동 통계가 PyTorch와 같지만, 학습 모드의 출력이 불편 분산으로 나눈 만큼 다릅니다.
#
# 직접 확인해 봅니다. 위 설명이 맞다면 다음 값들이 성립해야 합니다.

# %%
same_as_torch = all(
    torch.allclose(results["bnref.BatchNorm1d"][k][key], results["PyTorch nn.BatchNorm1d"][k][key],
                   rtol=1e-5, atol=2e-6)
    for k in checkpoints for key in ("out", "test_out", "running_mean", "running_var"))
print("bnref와 PyTorch가 모든 기록에서 거의 같은가:", same_as_torch)
at10 = {name: records[10] for name, records in results.items()}
torch_at10, d2l_at10, cs_at10 = at10["PyTorch nn.BatchNorm1d"], at10["d2l 한국어판"], at10["CS231n"]
print("d2l과 PyTorch의 이동 평균이 같은가:",
      torch.allclose(d2l_at10["running_mean"], torch_at10["running_mean"], atol=1e-5))
print("CS231n과 d2l의 이동 분산 차이:", fmt(d2l_at10["running_var"] - cs_at10["running_var"]),
      " 0.9^10 =", fmt(0.9**10))
print("makemore 클래스와 PyTorch의 이동 분산이 같은가:",
      torch.allclose(at10["makemore 3 (클래스)"]["running_var"], torch_at10["running_var"], atol=1e-4))
n = 16
ratio = at10["makemore 3 (클래스)"]["out"] / torch_at10["out"]
print("makemore 클래스의 학습 출력 / PyTorch:", fmt(ratio.mean()), "  √((n−1)/n) =", fmt(((n - 1) / n) ** 0.5))

# %% [markdown]
# ## 스텝이 쌓이면
#
# 처음 값의 영향은 스텝이 쌓일수록 사라집니다. 남는 것은 관례 자체의 차이입니다. 스텝 수에 따라 첫 번째
# 특성의 이동 분산과 평가 출력 차이가 어떻게 바뀌는지 봅니다. 참 분산은 4입니다.

# %%
rows = []
for name, records in results.items():
    rows.append([name] + [records[k]["running_var"][0] for k in checkpoints])
display(Markdown(markdown_table(["running_var[0]"] + [f"{k} 스텝" for k in checkpoints], rows)))

rows = []
for name, records in results.items():
    reference = results["PyTorch nn.BatchNorm1d"]
    rows.append([name] + [(records[k]["test_out"] - reference[k]["test_out"]).abs().max()
                          for k in checkpoints])
display(Markdown(markdown_table(["평가 출력 차이"] + [f"{k} 스텝" for k in checkpoints], rows)))

last = checkpoints[-1]
d2l_over_torch = results["d2l 한국어판"][last]["running_var"] / results["PyTorch nn.BatchNorm1d"][last]["running_var"]
print(f"{last} 스텝 뒤 d2l 이동 분산 / PyTorch 이동 분산:", fmt(d2l_over_torch), "  (n−1)/n =", fmt((n - 1) / n))
print("처음 값의 비중, 새 값의 비중이 0.1일 때 0.9^k:  ", fmt([0.9**k for k in checkpoints]))
print("처음 값의 비중, 새 값의 비중이 0.001일 때 0.999^k:", fmt([0.999**k for k in checkpoints]))

# %% [markdown]
# CS231n의 이동 분산은 몇십 스텝이 지나면 d2l과 같아집니다. 0에서 시작한 흔적은 처음 값의 비중
# $0.9^k$와 함께 초반에만 남습니다. 반면 d2l과 CS231n이 편향 분산을 넣은 차이는 스텝이 쌓여도 사라지지
# 않고, 이동 분산이 PyTorch의 $(n-1)/n$배로 수렴합니다. PyTorch의 이동 분산도 참 분산 4와 꼭 같지는
# 않은데(1000 스텝에서 3.5857), 모멘텀 0.1의 지수 이동 평균은 최근 미니배치 몇십 개의 배치 분산만
# 평균하므로 그 흔들림이 남기 때문입니다. makemore 학습 루프는 새 값의 비중이 0.001이라
# 처음 값의 비중 $0.999^k$가 아주 천천히 줄어듭니다. 위에 찍힌 대로 천 스텝 뒤에도 처음 값이 꽤 남아
# 있어서, 평가 출력이 여전히 PyTorch와 다릅니다. 강의에서는 20만 스텝을 학습하므로 문제가 되지
# 않았지만, 짧게 학습하는 실험으로 옮기면 평가 결과가 크게 틀릴 수 있습니다.
#
# PyTorch가 이동 분산에 불편 분산을 넣는 것은 원 논문(Ioffe, Szegedy 2015)의 추론 단계 설명을 따른
# 것입니다. 논문은 학습이 끝난 뒤 데이터 전체의 분산을 미니배치 분산의 평균에 $m/(m-1)$을 곱해
# 추정합니다($m$은 미니배치 크기). 편향 분산을 넣는 교재 구현도 잘못이라기보다 다른 선택이지만,
# 작은 미니배치에서는 평가 모드의 출력이 체계적으로 조금 커집니다.

# %% [markdown]
# ## 첫 스텝 뒤의 큰 차이는 어디서 오나
#
# "평가 출력 차이" 표의 1 스텝 열에서 CS231n은 PyTorch와 크게 다릅니다. 이동 분산이 0에서 시작해 첫 스텝
# 뒤에는 배치 분산의 0.1배뿐이니 그 탓이라고 생각하기 쉽지만, 그것만은 아닙니다. 이동 평균도 두 구현
# 모두 0에서 시작하므로, 첫 스텝 뒤의 이동 평균은 배치 평균의 0.1배입니다. 평가할 때 평균이 거의 빠지지
# 않은 값을 작은 이동 분산의 제곱근으로 나누니, 빠지지 않은 평균까지 함께 크게 부풀려집니다. 이동 평균만
# 참 평균으로 바꿔 넣고 같은 비교를 해 봅니다.

# %%
first_torch, first_cs = results["PyTorch nn.BatchNorm1d"][1], results["CS231n"][1]


def eval_difference(running_mean):
    """1 스텝 뒤의 이동 분산은 그대로 두고 이동 평균만 바꿔서, CS231n과 PyTorch의 평가 출력 차이(특성마다 최댓값)."""
    torch_out = torch.nn.functional.batch_norm(test_batch, running_mean, first_torch["running_var"], training=False)
    bn_param = {"mode": "test", "running_mean": running_mean.numpy(),
                "running_var": first_cs["running_var"].numpy()}
    cs_out = cs231n_batchnorm_forward(test_batch.numpy(), np.ones(3, dtype=np.float32),
                                      np.zeros(3, dtype=np.float32), bn_param)
    return (torch.from_numpy(cs_out) - torch_out).abs().amax(dim=0)


as_recorded = eval_difference(first_torch["running_mean"])  # CS231n의 이동 평균도 같습니다
mean_fixed = eval_difference(true_mean)
print("1 스텝 뒤 이동 평균 / 참 평균:         ", fmt(first_torch["running_mean"] / true_mean))
print("1 스텝 뒤 CS231n 이동 분산 / 참 분산:  ", fmt(first_cs["running_var"] / true_std**2))
print("평가 출력 차이, 특성마다 최댓값:       ", fmt(as_recorded))
print("이동 평균만 참 평균으로 바꾸었을 때:   ", fmt(mean_fixed))
worst = int(as_recorded.argmax())
share = 1 - (mean_fixed[worst] / as_recorded[worst]).item()
print(f"차이가 가장 큰 {worst + 1}번째 특성에서 이동 평균을 바로잡으면 차이가 {share:.0%} 줄어듭니다: "
      + ("그 차이의 절반 이상이 아직 참 평균의 0.1배쯤인 이동 평균 탓입니다." if share >= 0.5
         else "그 차이는 주로 작은 이동 분산에서 옵니다."))

# %% [markdown]
# 이동 분산이 작은 것은 나누는 수를 바꿀 뿐이고, 그 효과가 얼마나 커지는지는 나뉘는 값에 달려 있습니다.
# 평균이 덜 빠진 값에는 참 평균의 0.9배쯤이 그대로 남아 있으므로, 참 평균이 표준편차에 비해 큰 특성일수록
# 차이가 큽니다. 두 번째 특성(참 평균 −2, 표준편차 0.5)의 차이가 가장 큰 것도 그래서입니다.
# 참 평균이 0.5로 작은 세 번째 특성에서는 이동 평균을 바로잡아도 차이가 줄지 않습니다.

# %% [markdown]
# ## 옮겨 쓸 때의 번역표
#
# | 가져온 곳 | PyTorch로 옮길 때 |
# | --- | --- |
# | CS231n, d2l 한국어판의 `momentum=0.9` | `momentum=0.1` (1에서 뺀 값) |
# | Keras `BatchNormalization`의 기본값 `momentum=0.99`, `epsilon=1e-3` | `momentum=0.01`, `eps=1e-3`. Keras 3은 이동 분산에도 편향 분산을 넣습니다 |
# | makemore의 `0.999 * running + 0.001 * batch` | `momentum=0.001` |
# | CS231n의 `running_var` 처음 값 0 | PyTorch는 1에서 시작합니다. 처음 값을 맞춰 비교하려면 `bn.running_var.zero_()` |
# | 정규화에 `x.var()` / `x.std()` (불편) | PyTorch는 편향 분산으로 정규화합니다. 같게 하려면 `unbiased=False` |
# | 이동 분산에 편향 분산 | PyTorch는 불편 분산을 넣습니다 |
# | d2l의 `torch.is_grad_enabled()`로 모드 판단 | PyTorch는 `model.train()` / `model.eval()`로만 모드를 정합니다 |

# %% [markdown]
# ## 연습 문제
#
# **1.** CS231n 관례로 학습한 모델을 평가 모드로 쓸 때, 학습 첫 스텝 직후라면 이동 분산은 참 분산의 몇
# 배쯤일까요? 평균이 제대로 빠진다면 평가 출력은 몇 배로 커질까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 처음 값이 0이고 새 값의 비중이 0.1이므로, 첫 스텝 뒤의 이동 분산은 배치 분산의 0.1배, 곧 참 분산의
# 0.1배쯤입니다("첫 스텝 뒤의 큰 차이는 어디서 오나"에서 출력한 비). 평균이 제대로 빠진다면 그 제곱근으로
# 나눈 평가 출력은 $1/\sqrt{0.1} \approx 3.2$배로 커집니다. 실제로는 이동 평균도 아직 참 평균의 0.1배쯤이라
# 평균이 거의 빠지지 않으므로, 평균이 표준편차에 비해 큰 특성에서는 출력이 이보다 훨씬 크게 어긋납니다.
#
# </details>
#
# **2.** d2l의 `batch_norm`을 평가 데이터에 `torch.no_grad()` 없이 부르면 어떻게 될까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# `torch.is_grad_enabled()`가 참이므로 학습 모드로 계산합니다. 출력은 평가 데이터 미니배치의 통계로
# 정규화되고, 이동 평균과 이동 분산도 평가 데이터로 갱신됩니다. [자주 하는 실수](17_common_mistakes.py)의
# `model.eval()`을 잊은 경우와 같은 일이 `no_grad`를 잊었을 때 일어나는 셈입니다.
#
# </details>
#
# **3.** makemore 학습 루프의 관례를 `torch.nn.BatchNorm1d`로 최대한 비슷하게 흉내 내려면 어떤 인자를
# 주어야 할까요? 그래도 남는 차이는 무엇일까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# `momentum=0.001`로 새 값의 비중을 맞출 수 있습니다. 남는 차이는 세 가지입니다. 정규화에 편향 분산을
# 쓰고 ε을 더하며, 이동 통계로 표준편차가 아니라 분산을 누적합니다. `eps`는 아주 작게 줄 수는 있어도
# 0으로 둘 수는 없습니다(학습 모드에서 `ValueError`). 표준편차의 평균과 분산의 평균의
# 제곱근은 같지 않으므로 이동 통계도 정확히 같아지지는 않습니다.
#
# </details>
