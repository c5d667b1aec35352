"""bnref.course.check: 독자가 직접 쓴 배치 정규화를 검사하고 어떤 실수인지 알려 주는 검사기.

tests/students.py 의 답안들(같은 실수를 검사기의 "실수한 구현"과 다른 모양으로 다시 쓴 것)을 넣어,
맞는 답은 통과하고, 실수마다 그 이름이 나오고, 출력하는 판정이 글자 하나까지 아래와 같은지 봅니다.
강의 2, 3, 5, 6, 12의 "직접 구현해 보기" 칸도 여기서 확인합니다: 비워 둔 뼈대는 오류 없이
"아직 구현하지 않았습니다"를, 접어 둔 답은 "통과"를 출력해야 합니다.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import inspect
import io
import itertools
import linecache
from pathlib import Path

import jupytext
import pytest
import torch

import students
from bnref.course import check, exercises

ROOT = Path(__file__).resolve().parents[1]

CHECKS = {"train": check.batch_norm_train, "running": check.update_running_stats, "eval": check.batch_norm_eval,
          "bn2d": check.batch_norm_2d, "backward": check.batch_norm_backward, "group": check.group_norm}
EXERCISES = [exercises.BATCH_NORM_TRAIN, exercises.UPDATE_RUNNING_STATS, exercises.BATCH_NORM_EVAL,
             exercises.BATCH_NORM_2D, exercises.BATCH_NORM_BACKWARD, exercises.GROUP_NORM]

# 답안 이름 -> 검사기가 대야 할 실수의 이름 (None: 통과). 답안은 tests/students.py.
EXPECTED = {
    "train_ok": None,
    "train_ok_float32": None,
    "train_unbiased_var": "unbiased_var",
    "train_no_eps": "no_eps",
    "train_eps_outside_sqrt": "eps_outside_sqrt",
    "train_no_sqrt": "no_sqrt",
    "train_wrong_dim": "wrong_dim",
    "train_mean_not_subtracted": "mean_not_subtracted",
    "train_gamma_beta_swapped": "gamma_beta_swapped",
    "train_forgets_gamma": "no_gamma",
    "train_modified_input": "modified_input",
    "train_wrong_shape": "wrong_shape",
    "train_not_a_known_mistake": "unknown",
    "train_wrong_type": "wrong_type",
    "train_not_implemented": "not_implemented",
    "train_raises_not_implemented": "not_implemented",
    "train_broadcast_error": "raised",
    "train_two_arguments": "raised",
    "train_calls_bnref_wrongly": "raised",
    "running_ok": None,
    "running_ok_in_place": None,
    "running_biased_running_var": "biased_running_var",
    "running_momentum_reversed": "momentum_reversed",
    "running_running_replaced": "running_replaced",
    "running_forgets_the_variance": "running_var_not_updated",
    "running_rebinds": "not_implemented",
    "eval_ok": None,
    "eval_batch_stats_in_eval": "batch_stats_in_eval",
    "eval_calls_training_mode": "batch_stats_in_eval",
    "eval_updates_running_in_eval": "updates_running_in_eval",
    "eval_updates_a_copy": "updates_running_in_eval",
    "eval_no_eps": "no_eps",
    "eval_eps_after_the_root": "eps_outside_sqrt",
    "eval_no_sqrt": "no_sqrt",
    "eval_gamma_beta_swapped": "gamma_beta_swapped",
    "bn2d_ok": None,
    "bn2d_per_pixel": "per_pixel",
    "bn2d_per_sample_channel": "per_sample_channel",
    "bn2d_per_sample": "per_sample",
    "bn2d_unbiased_var": "unbiased_var",
    "bn2d_no_eps": "no_eps",
    "bn2d_no_keepdim": "raised",
    "bn2d_view_after_transpose": "raised",
    "backward_ok": None,
    "backward_no_mean_term": "no_mean_term",
    "backward_no_var_term": "no_var_term",
    "backward_eval_formula_in_train": "eval_formula_in_train",
    "backward_no_gamma_in_dx": "no_gamma_in_dx",
    "backward_dgamma_wrong_dim": "dgamma_wrong_dim",
    "backward_train_formula_in_eval": "train_formula_in_eval",
    "backward_batch_stats_in_eval": "batch_stats_in_eval",
    "group_ok": None,
    "group_group_across_batch": "group_across_batch",
    "group_groups_interleaved": "groups_interleaved",
    "group_groups_ignored": "groups_ignored",
    "group_group_per_channel": "group_per_channel",
    "group_unbiased_var": "unbiased_var",
    "group_no_eps": "no_eps",
}

# 출력하는 판정, 글자 하나까지. {where}: 예외가 난 답안의 줄 (_where 가 채움).
VERDICTS = {
    "train_forgets_gamma": (
        "틀렸습니다: 정규화한 값에 γ를 곱하지 않았습니다: y = x̂ + β.\n"
        "근거: γ ≠ 1인 입력에서 특성마다 출력의 표준편차: 기대 |γ| = [0.5461, 1.0766, 0.7748, 1.1800, 1.2178], "
        "받은 값 [1.0000, 1.0000, 1.0000, 1.0000, 1.0000].\n"
        "고치려면: y = gamma * x_hat + beta: γ를 곱한 뒤 β를 더합니다."
    ),
    "running_forgets_the_variance": (
        "틀렸습니다: running_mean만 갱신하고 running_var는 그대로 돌려줬습니다.\n"
        "근거: 처음 값 1에서 샘플 4개로 한 번 갱신한 running_var: 기대 [11.0118, 12.0982, 4.7978], "
        "받은 값 [1.0000, 1.0000, 1.0000](처음 값 그대로).\n"
        "고치려면: running_var도 같은 식으로 섞으세요: (1 - momentum) * running_var + momentum * x.var(dim=0)"
    ),
    "eval_eps_after_the_root": (
        "틀렸습니다: ε을 제곱근 밖에서 더했습니다: (x − running_mean) / (√running_var + ε).\n"
        "근거: running_var가 0인 특성의 출력: 기대 [-174.0947, -66.6947, 179.3962](1/√ε배), "
        "받은 값 [-55053.5700, -21090.7233, 56730.0688](1/ε배).\n"
        "고치려면: ε은 제곱근 안에서 running_var에 더합니다: torch.sqrt(running_var + eps)"
    ),
    "train_ok": (
        "통과: 입력 5가지에서 모두 bnref와 같은 값을 냅니다.\n"
        "확인한 입력:\n"
        "- 샘플 4개, 특성 3개, γ = 1, β = 0\n"
        "- 샘플 2개, 특성 5개\n"
        "- 샘플 1000개, 평균 1000 근처\n"
        "- 분산이 ε인 특성과 값이 모두 같은 특성, γ = 1, β = 0\n"
        "- 연속이 아닌(전치한) 입력"
    ),
    "train_ok_float32": (
        "통과: 입력 5가지에서 모두 bnref와 같은 값을 냅니다.\n"
        "확인한 입력:\n"
        "- 샘플 4개, 특성 3개, γ = 1, β = 0\n"
        "- 샘플 2개, 특성 5개\n"
        "- 샘플 1000개, 평균 1000 근처\n"
        "- 분산이 ε인 특성과 값이 모두 같은 특성, γ = 1, β = 0\n"
        "- 연속이 아닌(전치한) 입력"
    ),
    "train_unbiased_var": (
        "틀렸습니다: 정규화에 불편 분산(n−1로 나눈 분산)을 썼습니다.\n"
        "근거: 샘플 4개인 입력에서 출력의 분산이 1이 아니라 0.7500입니다. (n−1)/n = 3/4배로 줄었습니다.\n"
        "고치려면: 정규화에는 편향 분산(n으로 나눈 분산)을 씁니다: x.var(dim=0, unbiased=False)"
    ),
    "train_no_eps": (
        "틀렸습니다: 분산에 ε을 더하지 않았습니다.\n"
        "근거: 값이 모두 같은 특성(분산 0)의 출력이 0이 아니라 [nan, nan, nan, nan]입니다. ε이 없어서 0/0을 계산했습니다.\n"
        "고치려면: torch.sqrt(var + eps)처럼 분산에 ε을 더한 뒤 제곱근을 구하세요."
    ),
    "train_eps_outside_sqrt": (
        "틀렸습니다: ε을 제곱근 밖에서 더했습니다: (x − 평균) / (√분산 + ε).\n"
        "근거: 분산이 ε과 같은 특성에서 출력의 표준편차가 √(1/2) ≈ 0.7071이 아니라 0.9968입니다.\n"
        "고치려면: ε은 제곱근 안에서 분산에 더합니다: torch.sqrt(var + eps)"
    ),
    "train_no_sqrt": (
        "틀렸습니다: 표준편차가 아니라 분산으로 나눴습니다. 제곱근이 빠졌습니다.\n"
        "근거: 샘플 4개인 입력에서 특성마다 출력의 표준편차가 1이 아니라 [0.1224, 0.2005, 0.1218]입니다.\n"
        "고치려면: torch.sqrt(var + eps)로 나누세요."
    ),
    "train_wrong_dim": (
        "틀렸습니다: 통계를 특성마다(dim=0)가 아니라 샘플마다(dim=1) 냈습니다.\n"
        "근거: 샘플 4개인 입력에서 특성마다 낸 출력 평균이 0이 아니라 [-0.8890, 0.9744, -0.0853]입니다.\n"
        "고치려면: 평균과 분산은 샘플 방향인 dim=0을 따라 구합니다: x.mean(dim=0)"
    ),
    "train_mean_not_subtracted": (
        "틀렸습니다: 평균을 빼지 않고 표준편차로 나누기만 했습니다.\n"
        "근거: 평균이 1000 근처인 입력에서 특성마다 (출력 평균 − β)가 0이 아니라 [498.9688, 535.3998, 321.3162, 196.9826]입니다.\n"
        "고치려면: 먼저 평균을 빼세요: (x - mean) / torch.sqrt(var + eps)"
    ),
    "train_gamma_beta_swapped": (
        "틀렸습니다: γ와 β를 바꿔 썼습니다: y = β·x̂ + γ.\n"
        "근거: γ = 1, β = 0인 입력에서 출력이 x̂이 아니라 모두 1.0000입니다.\n"
        "고치려면: y = gamma * x_hat + beta: γ는 곱하고 β는 더합니다."
    ),
    "train_modified_input": (
        "틀렸습니다: 함수가 입력 x의 값을 제자리에서(in place) 바꿨습니다.\n"
        "근거: [샘플 4개, 특성 3개, γ = 1, β = 0] 입력의 x[0, 0]: 부르기 전 37.3340, 부른 뒤 -0.5637.\n"
        "고치려면: x -= mean이나 x.sub_(mean) 같은 제자리 연산 대신 x = x - mean처럼 새 텐서를 만드세요. 함수를 부른 쪽의 텐서가 바뀌면 안 됩니다."
    ),
    "train_wrong_shape": (
        "틀렸습니다: 출력의 모양이 다릅니다.\n"
        "근거: [샘플 4개, 특성 3개, γ = 1, β = 0] 입력에서 y의 모양: 기대 (4, 3), 받은 값 (3, 4).\n"
        "고치려면: 평균과 분산을 어느 차원으로 줄였는지, 그 결과가 입력에 어떻게 브로드캐스팅되는지 확인하세요."
    ),
    "train_not_a_known_mistake": (
        "틀렸지만 알려진 실수와 맞지 않습니다.\n"
        "근거: 가장 큰 차이는 [분산이 ε인 특성과 값이 모두 같은 특성, γ = 1, β = 0] 입력의 y[14, 0]입니다: 기대 1.4485, 받은 값 0.0065.\n"
        "고치려면: 그 입력(result.inputs)으로 함수를 직접 불러 단계마다 값을 출력해 보고, 강의의 식과 한 줄씩 비교하세요."
    ),
    "train_wrong_type": (
        "틀렸습니다: 돌려준 값의 종류가 다릅니다.\n"
        "근거: 기대 x와 모양이 같은 텐서 y, 받은 값 원소 4개의 list.\n"
        "고치려면: 돌려줄 값은 x와 모양이 같은 텐서 y입니다. 함수의 마지막 줄에서 return하세요."
    ),
    "train_not_implemented": (
        "아직 구현하지 않았습니다: 함수가 None을 돌려줍니다.\n"
        "돌려줄 값: x와 모양이 같은 텐서 y\n"
        "함수의 빈자리(# 여기를 채우세요)를 채워 결과를 return한 뒤, 함수 셀과 이 셀을 다시 실행하세요."
    ),
    "train_raises_not_implemented": (
        "아직 구현하지 않았습니다: 함수가 NotImplementedError를 냅니다.\n"
        "돌려줄 값: x와 모양이 같은 텐서 y\n"
        "함수의 빈자리(# 여기를 채우세요)를 채워 결과를 return한 뒤, 함수 셀과 이 셀을 다시 실행하세요."
    ),
    "train_broadcast_error": (
        "틀렸습니다: 함수를 실행하다가 예외가 났습니다.\n"
        "근거: [샘플 4개, 특성 3개, γ = 1, β = 0] 입력에서 RuntimeError: The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1 ({where}).\n"
        "고치려면: 모양이 맞지 않아 브로드캐스팅할 수 없습니다. 평균과 분산, γ와 β의 모양이 입력의 어느 차원에 맞춰지는지 확인하세요. (C,) 모양은 마지막 차원에 맞춰지므로 keepdim=True나 view로 모양을 맞춥니다."
    ),
    "train_two_arguments": (
        "틀렸습니다: 함수를 실행하다가 예외가 났습니다.\n"
        "근거: [샘플 4개, 특성 3개, γ = 1, β = 0] 입력에서 TypeError: train_two_arguments() takes 2 positional arguments but 4 were given.\n"
        "고치려면: 검사기는 함수를 batch_norm_train(x, gamma, beta, eps=1e-5)의 순서대로, 위치 인자로 부릅니다. 인자의 개수와 순서를 맞추세요."
    ),
    "train_calls_bnref_wrongly": (
        "틀렸습니다: 함수를 실행하다가 예외가 났습니다.\n"
        "근거: [샘플 4개, 특성 3개, γ = 1, β = 0] 입력에서 RuntimeError: weight should contain 3 elements not 2 ({where}).\n"
        "고치려면: 예외 메시지와 그 줄을 확인하세요. 그 입력은 result.inputs로 받아 함수를 직접 불러 볼 수 있습니다."
    ),
    "running_ok": (
        "통과: 입력 4가지에서 모두 bnref와 같은 값을 냅니다.\n"
        "확인한 입력:\n"
        "- 샘플 4개, 처음 값(평균 0, 분산 1), momentum = 0.1\n"
        "- 샘플 2개, momentum = 0.3\n"
        "- 샘플 1000개, 평균 1000 근처, momentum = 0.01\n"
        "- 연속이 아닌(전치한) 입력, momentum = 0.2"
    ),
    "running_ok_in_place": (
        "통과: 입력 4가지에서 모두 bnref와 같은 값을 냅니다.\n"
        "확인한 입력:\n"
        "- 샘플 4개, 처음 값(평균 0, 분산 1), momentum = 0.1\n"
        "- 샘플 2개, momentum = 0.3\n"
        "- 샘플 1000개, 평균 1000 근처, momentum = 0.01\n"
        "- 연속이 아닌(전치한) 입력, momentum = 0.2"
    ),
    "running_biased_running_var": (
        "틀렸습니다: running_var에 편향 분산(n으로 나눈 분산)을 넣었습니다.\n"
        "근거: 처음 값 1에서 샘플 4개로 한 번 갱신한 running_var: 기대 [11.0118, 12.0982, 4.7978], 받은 값 [8.4838, 9.2986, 3.8234]. 새로 더한 몫(값 − 0.9)이 기대의 0.7500배, 곧 (n−1)/n = 3/4배입니다.\n"
        "고치려면: 이동 분산에는 불편 분산(n−1로 나눈 분산)을 씁니다: x.var(dim=0)"
    ),
    "running_momentum_reversed": (
        "틀렸습니다: momentum과 1 − momentum의 자리가 바뀌었습니다. 새 배치 통계에 1 − momentum을 곱했습니다.\n"
        "근거: 처음 값 0에서 한 번 갱신한 running_mean: 기대 0.1 × 배치 평균 = [4.7298, 4.4989, 5.2631], 받은 값 [42.5679, 40.4904, 47.3676] = 0.9 × 배치 평균.\n"
        "고치려면: torch의 momentum은 새 값의 몫입니다: (1 - momentum) * running_mean + momentum * mean"
    ),
    "running_running_replaced": (
        "틀렸습니다: 이전 값을 버리고 배치 통계를 그대로 넣었습니다.\n"
        "근거: 처음 값 0에서 한 번 갱신한 running_mean: 기대 0.1 × 배치 평균 = [4.7298, 4.4989, 5.2631], 받은 값 [47.2977, 44.9893, 52.6307] = 배치 평균.\n"
        "고치려면: 이전 값과 섞으세요: (1 - momentum) * running_mean + momentum * mean"
    ),
    "running_rebinds": (
        "아직 구현하지 않았습니다: 함수가 None을 돌려줍니다.\n"
        "돌려줄 값: 새 running_mean과 running_var, 두 텐서의 tuple\n"
        "함수의 빈자리(# 여기를 채우세요)를 채워 결과를 return한 뒤, 함수 셀과 이 셀을 다시 실행하세요."
    ),
    "eval_ok": (
        "통과: 입력 5가지에서 모두 bnref와 같은 값을 냅니다.\n"
        "확인한 입력:\n"
        "- 샘플 4개, γ = 1, β = 0\n"
        "- 샘플 하나\n"
        "- 샘플 1000개, 평균 1000 근처\n"
        "- running_var가 0인 특성, γ = 1, β = 0\n"
        "- 연속이 아닌(전치한) 입력"
    ),
    "eval_batch_stats_in_eval": (
        "틀렸습니다: 평가 모드인데 이 배치의 평균과 분산으로 정규화했습니다.\n"
        "근거: 샘플 하나를 넣었더니 출력이 β와 같습니다: 받은 값 [-0.7902, -0.0415, -1.4484], β = [-0.7902, -0.0415, -1.4484]. 이동 통계로 정규화하면 [0.7358, -6.0648, -1.9775]입니다.\n"
        "고치려면: 평가 모드에서는 running_mean과 running_var로 정규화하고, 배치의 통계는 쓰지 않습니다."
    ),
    "eval_calls_training_mode": (
        "틀렸습니다: 평가 모드인데 이 배치의 평균과 분산으로 정규화했습니다.\n"
        "근거: [샘플 하나] 입력에서 ValueError: Expected more than 1 value per channel when training, got input size torch.Size([1, 3]) ({where}). 학습 모드의 정규화(training=True)는 샘플이 하나인 배치를 받지 않습니다.\n"
        "고치려면: 평가 모드에서는 running_mean과 running_var로 정규화하고, 배치의 통계는 쓰지 않습니다."
    ),
    "eval_updates_running_in_eval": (
        "틀렸습니다: 평가 모드에서 이동 통계를 갱신했습니다.\n"
        "근거: [샘플 4개, γ = 1, β = 0] 입력의 running_mean[0]: 부르기 전 45.0000, 부른 뒤 45.8675.\n"
        "고치려면: 평가 모드에서는 running_mean과 running_var를 읽기만 하고 바꾸지 않습니다."
    ),
    "eval_updates_a_copy": (
        "틀렸습니다: 평가 모드에서 이동 통계를 갱신했습니다.\n"
        "근거: 출력이 이 배치로 이동 통계를 한 번 갱신한 뒤(momentum 0.1) 정규화한 값과 같습니다: y[0] 기대 [0.1098, -1.1940, -1.1569], 받은 값 [0.0014, -1.1819, -1.1876].\n"
        "고치려면: 평가 모드에서는 running_mean과 running_var를 읽기만 하고 바꾸지 않습니다."
    ),
    "eval_no_eps": (
        "틀렸습니다: running_var에 ε을 더하지 않았습니다.\n"
        "근거: running_var가 0인 특성의 출력: 기대 [-174.0947, -66.6947, 179.3962], 받은 값 [-inf, -inf, inf].\n"
        "고치려면: torch.sqrt(running_var + eps)로 나누세요."
    ),
    "eval_no_sqrt": (
        "틀렸습니다: 표준편차가 아니라 running_var 자체로 나눴습니다. 제곱근이 빠졌습니다.\n"
        "근거: running_var = [64, 144, 100]인 입력에서 출력이 특성마다 기대값의 [0.1250, 0.0833, 0.1000]배입니다. 곧 1/√running_var배입니다.\n"
        "고치려면: torch.sqrt(running_var + eps)로 나누세요."
    ),
    "eval_gamma_beta_swapped": (
        "틀렸습니다: γ와 β를 바꿔 썼습니다: y = β·x̂ + γ.\n"
        "근거: γ = 1, β = 0인 입력에서 출력이 x̂이 아니라 모두 1.0000입니다.\n"
        "고치려면: y = gamma * x_hat + beta: γ는 곱하고 β는 더합니다."
    ),
    "bn2d_ok": (
        "통과: 입력 4가지에서 모두 bnref와 같은 값을 냅니다.\n"
        "확인한 입력:\n"
        "- (N, C, H, W) = (2, 3, 1, 2), γ = 1, β = 0\n"
        "- channels_last 메모리 배치, (4, 3, 5, 5), 채널마다 평균이 다름\n"
        "- 값이 모두 같은 채널, γ = 1, β = 0\n"
        "- 연속이 아닌(잘라 낸) 입력, (2, 4, 3, 3)"
    ),
    "bn2d_per_pixel": (
        "틀렸습니다: 통계를 채널마다가 아니라 위치(픽셀)마다 냈습니다. 샘플 방향(dim=0)으로만 줄였습니다.\n"
        "근거: 채널 0의 위치마다 낸 출력 평균: 기대 [0.2254, -0.2254], 받은 값 [0.0000, 0.0000].\n"
        "고치려면: 채널마다 N, H, W의 값을 모두 모읍니다: x.mean(dim=(0, 2, 3), keepdim=True)"
    ),
    "bn2d_per_sample_channel": (
        "틀렸습니다: 통계를 샘플 하나, 채널 하나마다 냈습니다(인스턴스 정규화). dim=(2, 3)만 줄였습니다.\n"
        "근거: 채널 0의 샘플마다 낸 출력 평균: 기대 [0.7173, -0.7173], 받은 값 [0.0000, 0.0000].\n"
        "고치려면: 채널마다 N, H, W의 값을 모두 모읍니다: x.mean(dim=(0, 2, 3), keepdim=True)"
    ),
    "bn2d_per_sample": (
        "틀렸습니다: 통계를 채널마다가 아니라 샘플마다 냈습니다(층 정규화). dim=(1, 2, 3)을 줄였습니다.\n"
        "근거: 샘플마다 낸 출력 평균: 기대 [0.4854, -0.4854], 받은 값 [0.0000, 0.0000].\n"
        "고치려면: 채널마다 N, H, W의 값을 모두 모읍니다: x.mean(dim=(0, 2, 3), keepdim=True)"
    ),
    "bn2d_unbiased_var": (
        "틀렸습니다: 정규화에 불편 분산(n−1로 나눈 분산)을 썼습니다.\n"
        "근거: 채널마다 값이 n = N·H·W = 4개인 입력에서 출력의 분산이 1이 아니라 0.7500입니다. (n−1)/n = 3/4배로 줄었습니다.\n"
        "고치려면: 정규화에는 편향 분산(n으로 나눈 분산)을 씁니다: x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)"
    ),
    "bn2d_no_eps": (
        "틀렸습니다: 분산에 ε을 더하지 않았습니다.\n"
        "근거: 값이 모두 같은 채널(분산 0)의 출력이 0이 아니라 [nan, nan, nan, nan]입니다. ε이 없어서 0/0을 계산했습니다.\n"
        "고치려면: torch.sqrt(var + eps)처럼 분산에 ε을 더한 뒤 제곱근을 구하세요."
    ),
    "bn2d_no_keepdim": (
        "틀렸습니다: 함수를 실행하다가 예외가 났습니다.\n"
        "근거: [(N, C, H, W) = (2, 3, 1, 2), γ = 1, β = 0] 입력에서 RuntimeError: The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 3 ({where}).\n"
        "고치려면: 모양이 맞지 않아 브로드캐스팅할 수 없습니다. 평균과 분산, γ와 β의 모양이 입력의 어느 차원에 맞춰지는지 확인하세요. (C,) 모양은 마지막 차원에 맞춰지므로 keepdim=True나 view로 모양을 맞춥니다."
    ),
    "bn2d_view_after_transpose": (
        "틀렸습니다: 함수를 실행하다가 예외가 났습니다.\n"
        "근거: [(N, C, H, W) = (2, 3, 1, 2), γ = 1, β = 0] 입력에서 RuntimeError: view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead ({where}).\n"
        "고치려면: 연속이 아닌 텐서에는 view를 쓸 수 없습니다. reshape로 바꾸세요."
    ),
    "backward_ok": (
        "통과: 입력 6가지에서 모두 bnref와 같은 값을 냅니다.\n"
        "확인한 입력:\n"
        "- 학습 모드, 샘플 4개, 특성 3개\n"
        "- 학습 모드, 샘플 2개\n"
        "- 학습 모드, 샘플 64개, 평균 1000 근처\n"
        "- 학습 모드, 연속이 아닌(전치한) x와 dy\n"
        "- 평가 모드, 샘플 4개\n"
        "- 평가 모드, 샘플 16개, 평균 1000 근처"
    ),
    "backward_no_mean_term": (
        "틀렸습니다: dx에서 평균을 거쳐 오는 항(−Σdy)이 빠졌습니다.\n"
        "근거: 학습 모드에서 특성마다 dx의 합이 0이 아니라 [0.9745, 0.4854, -0.0592]입니다. 모든 입력을 같은 양만큼 옮겨도 출력이 그대로이므로 이 합은 0이어야 합니다.\n"
        "고치려면: 학습 모드의 dx는 세 항입니다: dx = γ·invstd/n · (n·dy − Σdy − x̂·Σ(dy·x̂))"
    ),
    "backward_no_var_term": (
        "틀렸습니다: dx에서 분산을 거쳐 오는 항(−x̂·Σ(dy·x̂))이 빠졌습니다.\n"
        "근거: 학습 모드에서 특성마다 dx·x̂의 합이 0이 아니라 [-0.5747, -0.0194, -0.1821]입니다. 모든 입력을 평균을 중심으로 같은 비율로 늘려도 출력이 그대로이므로 이 합은 0이어야 합니다.\n"
        "고치려면: 학습 모드의 dx는 세 항입니다: dx = γ·invstd/n · (n·dy − Σdy − x̂·Σ(dy·x̂))"
    ),
    "backward_eval_formula_in_train": (
        "틀렸습니다: 학습 모드에서 평균과 분산을 상수로 보고 dx = γ·dy/√(분산 + ε)만 구했습니다.\n"
        "근거: 학습 모드에서 특성마다 dx의 합이 0이 아니라 [0.9745, 0.4854, -0.0592]입니다.\n"
        "고치려면: 학습 모드의 평균과 분산은 x에 달려 있습니다: dx = γ·invstd/n · (n·dy − Σdy − x̂·Σ(dy·x̂))"
    ),
    "backward_no_gamma_in_dx": (
        "틀렸습니다: dx에 γ를 곱하지 않았습니다.\n"
        "근거: γ = [1.5000, 0.5000, -2.0000]인 입력에서 dx가 특성마다 기대값의 [0.6667, 2.0000, -0.5000]배, 곧 1/γ배입니다.\n"
        "고치려면: x̂의 기울기는 γ·dy입니다: dx = γ·invstd/n · (n·dy − Σdy − x̂·Σ(dy·x̂))"
    ),
    "backward_dgamma_wrong_dim": (
        "틀렸습니다: dγ를 특성마다가 아니라 샘플마다(dim=1) 더했습니다.\n"
        "근거: dγ의 모양: 기대 (3,), 받은 값 (4,).\n"
        "고치려면: dγ는 샘플 방향으로 더합니다: (dy * x_hat).sum(dim=0)"
    ),
    "backward_train_formula_in_eval": (
        "틀렸습니다: 평가 모드에 학습 모드의 dx 식을 썼습니다.\n"
        "근거: 평가 모드의 dx[0]: 기대 γ·dy/√(running_var + ε) = [-0.8570, -0.4175, -3.7469], 받은 값 [-0.5900, -4.6112, 277.2225].\n"
        "고치려면: 평가 모드에서는 평균과 분산이 상수이므로 dx = γ·dy/√(running_var + ε)입니다."
    ),
    "backward_batch_stats_in_eval": (
        "틀렸습니다: 평가 모드인데 배치의 평균과 분산으로 학습 모드의 기울기를 구했습니다.\n"
        "근거: 평가 모드에서 특성마다 dx의 합: 기대 [-1.0981, 0.9296, -14.8555], 받은 값 [0.0000, 0.0000, 0.0000]. 합이 0인 것은 학습 모드의 기울기입니다.\n"
        "고치려면: 평가 모드에서는 running_mean과 running_var로 x̂을 만들고, dx = γ·dy/√(running_var + ε)입니다."
    ),
    "group_ok": (
        "통과: 입력 6가지에서 모두 bnref와 같은 값을 냅니다.\n"
        "확인한 입력:\n"
        "- (N, C, H, W) = (2, 4, 1, 2), G = 2, γ = 1, β = 0\n"
        "- (3, 6, 2, 2), G = 3\n"
        "- 샘플 하나, (1, 4, 3, 3), G = 2\n"
        "- (2, 8, 3, 3), G = 4, 평균 1000 근처\n"
        "- 값이 모두 같은 묶음, G = 2, γ = 1, β = 0\n"
        "- channels_last 메모리 배치, (2, 6, 3, 3), G = 2"
    ),
    "group_group_across_batch": (
        "틀렸습니다: 통계를 샘플마다 따로 내지 않고 배치 전체에서 냈습니다.\n"
        "근거: 샘플마다·묶음마다 낸 출력 평균이 0이 아니라 [0.2318, 0.1647, -0.2318, -0.1647]입니다.\n"
        "고치려면: 그룹 정규화의 통계는 샘플 하나 안에서만 냅니다. x.reshape(N, G, -1)처럼 샘플마다 이웃한 C/G개 채널을 한 줄로 모아, 그 줄마다 평균과 분산을 구하세요."
    ),
    "group_groups_interleaved": (
        "틀렸습니다: 채널을 묶는 방법이 틀렸습니다. C = 4, G = 2일 때 채널 (0, 1), (2, 3)이 아니라 (0, 2), (1, 3)을 한 묶음으로 모았습니다.\n"
        "근거: C = 4, G = 2인 입력에서 샘플마다·묶음마다 낸 출력 평균이 0이 아니라 [0.0816, -0.0816, 0.1266, -0.1266]입니다.\n"
        "고치려면: 묶음 축을 채널 축의 앞쪽에 두세요: x.reshape(N, G, C // G, H, W)"
    ),
    "group_groups_ignored": (
        "틀렸습니다: num_groups를 쓰지 않고 샘플의 모든 채널을 한 묶음으로 정규화했습니다(층 정규화).\n"
        "근거: G = 2인 입력에서 샘플마다·묶음마다 낸 출력 평균이 0이 아니라 [0.0929, -0.0929, 0.0762, -0.0762]입니다.\n"
        "고치려면: x.reshape(N, G, -1)처럼 샘플마다 이웃한 C/G개 채널을 한 줄로 모아, 그 줄마다 평균과 분산을 구하세요."
    ),
    "group_group_per_channel": (
        "틀렸습니다: 채널 하나씩 따로 정규화했습니다(인스턴스 정규화).\n"
        "근거: 샘플 0의 채널마다 낸 출력 평균: 기대 [-0.6982, 0.6982, 0.9845, -0.9845], 받은 값 [0.0000, 0.0000, 0.0000, 0.0000].\n"
        "고치려면: x.reshape(N, G, -1)처럼 샘플마다 이웃한 C/G개 채널을 한 줄로 모아, 그 줄마다 평균과 분산을 구하세요."
    ),
    "group_unbiased_var": (
        "틀렸습니다: 정규화에 불편 분산(n−1로 나눈 분산)을 썼습니다.\n"
        "근거: 묶음 하나에 값이 4개인 입력에서 출력의 분산이 1이 아니라 0.7500입니다. (n−1)/n = 3/4배로 줄었습니다.\n"
        "고치려면: 정규화에는 편향 분산(n으로 나눈 분산)을 씁니다: var(dim=2, unbiased=False, keepdim=True)"
    ),
    "group_no_eps": (
        "틀렸습니다: 분산에 ε을 더하지 않았습니다.\n"
        "근거: 값이 모두 같은 묶음(분산 0)의 출력이 0이 아니라 [nan, nan, nan, nan]입니다. ε이 없어서 0/0을 계산했습니다.\n"
        "고치려면: torch.sqrt(var + eps)처럼 분산에 ε을 더한 뒤 제곱근을 구하세요."
    ),
}

# 예외를 내는 답안: 판정은 예외가 난 독자의 줄을 보여 줍니다 (답안 안에서 이 글자가 든 줄; torch 나 bnref 안쪽이 아님).
RAISING_LINE = {
    "train_broadcast_error": "return gamma * (x - mu)",
    "eval_calls_training_mode": "return F.batch_norm",
    "train_calls_bnref_wrongly": "return bnref.functional.batch_norm",
    "bn2d_no_keepdim": "return gamma * (x - mu)",
    "bn2d_view_after_transpose": "rows = x.transpose(0, 1).view(C, -1)",
}


def _where(name: str) -> str:
    lines, start = inspect.getsourcelines(getattr(students, name))
    i = next(i for i, line in enumerate(lines) if RAISING_LINE[name] in line)
    return f"{start + i}번째 줄: {lines[i].strip()}"


def _run(check_fn, fn):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = check_fn(fn)
    return result, out.getvalue()


# ---------------------------------------------------------------- 답안마다 판정
@pytest.mark.parametrize("name", EXPECTED)
def test_each_answer_gets_its_verdict_printed_once(name):
    result, printed = _run(CHECKS[name.split("_")[0]], getattr(students, name))
    expected = VERDICTS[name].replace("{where}", _where(name)) if name in RAISING_LINE else VERDICTS[name]
    assert (result.mistake, result.passed) == (EXPECTED[name], EXPECTED[name] is None)
    assert result.message == expected
    assert printed == expected + "\n"  # 판정 하나만, 답안의 print 나 경고 없이
    # 강의의 기대 출력은 doctest 의 ELLIPSIS 로 비교하므로, 판정에 "..."이 있으면 아무 글자와도 맞아 버립니다.
    # (예외의 메시지는 torch 가 쓴 그대로 보여 줍니다: "Use .reshape(...) instead")
    assert "..." not in result.message or result.mistake == "raised"


def test_every_known_mistake_has_an_answer_written_as_a_reader_would():
    for prefix, ex in zip(CHECKS, EXERCISES):
        named = {key for name, key in EXPECTED.items() if name.startswith(prefix + "_")}
        assert {m.key for m in ex.mistakes} <= named, ex.name


def test_the_mistakes_the_issue_lists_are_known():
    keys = {(ex.name, m.key) for ex in EXERCISES for m in ex.mistakes}
    assert {
        ("batch_norm_train", "unbiased_var"), ("batch_norm_train", "no_eps"),
        ("batch_norm_train", "eps_outside_sqrt"), ("batch_norm_train", "wrong_dim"),
        ("batch_norm_train", "gamma_beta_swapped"),
        ("update_running_stats", "biased_running_var"), ("update_running_stats", "momentum_reversed"),
        ("batch_norm_eval", "updates_running_in_eval"),
        ("batch_norm_2d", "per_pixel"), ("batch_norm_2d", "per_sample"),
        ("batch_norm_backward", "no_mean_term"), ("batch_norm_backward", "no_var_term"),
        ("batch_norm_backward", "dgamma_wrong_dim"), ("batch_norm_backward", "train_formula_in_eval"),
    } <= keys


# ---------------------------------------------------------------- 진단이 증거로 가능한가
@pytest.mark.parametrize("ex", EXERCISES, ids=lambda ex: ex.name)
def test_no_two_implementations_agree_on_every_input(ex):
    # 그래야 "모든 입력에서 맞는 구현"이 하나뿐이고, 실수의 이름이 짐작이 아니라 증거가 됩니다.
    impls = {"bnref": ex.reference, **{m.key: m.variant for m in ex.mistakes}}
    outputs = {k: [check._outputs_of(ex, f, p) for p in ex.probes] for k, f in impls.items()}
    for k, outs in outputs.items():
        assert all(o is not None for o in outs), f"{k} raised on an input"
    for (a, outs_a), (b, outs_b) in itertools.combinations(outputs.items(), 2):
        assert not all(check._all_close(x, y) for x, y in zip(outs_a, outs_b)), f"{a} and {b} agree everywhere"


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda ex: ex.name)
def test_each_variant_is_named_as_itself(ex):
    for mistake in ex.mistakes:
        assert check._diagnose(ex, mistake.variant).mistake == mistake.key


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda ex: ex.name)
def test_inputs_include_what_exposes_mistakes(ex):
    probes = [p.make() for p in ex.probes]
    main = [p["x"] for p in probes]
    assert all(x.size(1) > 1 for x in main), "C > 1"
    assert any(not x.is_contiguous() for x in main), "a non-contiguous input"
    assert any(x.mean().abs() >= 100 or x.mean(0).abs().max() >= 100 for x in main), "means far from zero"
    if ex in (exercises.BATCH_NORM_2D, exercises.GROUP_NORM):
        assert all(x.dim() == 4 for x in main)
    else:
        assert min(len(x) for x in main) <= 2 and max(len(x) for x in main) >= 64, "n = 2 (or 1) and large n"


# ---------------------------------------------------------------- 독자의 함수가 무엇을 하든
def test_a_raising_answer_gets_a_verdict_with_its_line():
    source = "def answer(x, gamma, beta, eps=1e-5):\n    raise ValueError('not yet')\n"
    linecache.cache["<student>"] = (len(source), None, source.splitlines(True), "<student>")
    namespace = {}
    exec(compile(source, "<student>", "exec"), namespace)
    result, printed = _run(check.batch_norm_train, namespace["answer"])
    assert result.mistake == "raised" and not result.passed
    assert printed == (
        "틀렸습니다: 함수를 실행하다가 예외가 났습니다.\n"
        "근거: [샘플 4개, 특성 3개, γ = 1, β = 0] 입력에서 ValueError: not yet "
        "(2번째 줄: raise ValueError('not yet')).\n"
        "고치려면: 예외 메시지와 그 줄을 확인하세요. 그 입력은 result.inputs로 받아 함수를 직접 불러 볼 수 있습니다.\n")
    assert set(result.inputs) == {"x", "gamma", "beta", "eps"}


def test_an_answer_that_prints_and_warns_still_prints_one_verdict():
    def chatty(x, gamma, beta, eps=1e-5):
        print("debug:", x.shape)
        torch.ones(1).var()  # UserWarning: degrees of freedom <= 0 (pytest turns warnings into errors)
        return students.train_ok(x, gamma, beta, eps)

    result, printed = _run(check.batch_norm_train, chatty)
    assert result.passed and printed == VERDICTS["train_ok"] + "\n"


@pytest.mark.parametrize("prefix", CHECKS)
def test_a_wrong_answer_that_is_no_known_mistake_is_called_unknown(prefix):
    right = getattr(students, f"{prefix}_ok")

    def wobbly(*args):  # 맞는 답에 위치마다 다른 작은 값을 더한 것: 어떤 알려진 실수와도 다름
        out = right(*args)
        bump = lambda t: t + 0.05 * torch.cos(torch.arange(t.numel(), dtype=t.dtype)).reshape(t.shape)  # noqa: E731
        return tuple(map(bump, out)) if isinstance(out, tuple) else bump(out)

    result, printed = _run(CHECKS[prefix], wobbly)
    assert result.mistake == "unknown"
    assert printed.startswith("틀렸지만 알려진 실수와 맞지 않습니다.\n근거: 가장 큰 차이는 [")


def test_an_unknown_mistake_points_at_inputs_that_reproduce_it():
    result, _ = _run(check.batch_norm_train, students.train_not_a_known_mistake)
    inputs = result.inputs
    got = students.train_not_a_known_mistake(*inputs.values())
    want = students.train_ok(*inputs.values())
    assert (got[14, 0] - want[14, 0]).abs() > 1  # 판정이 가리킨 곳: y[14, 0]


def test_a_verdict_even_when_its_evidence_cannot_be_computed():
    mistake = exercises.BATCH_NORM_TRAIN.mistakes[0]
    broken = dataclasses.replace(mistake, evidence=lambda inputs, got, want: 1 / 0)
    ex = dataclasses.replace(exercises.BATCH_NORM_TRAIN, mistakes=(broken,))
    result = check._diagnose(ex, students.train_unbiased_var)
    assert result.mistake == "unbiased_var"
    assert "근거: 모든 입력에서 출력이 이 실수를 한 구현의 출력과 같습니다" in result.message


def test_not_a_function_gets_a_verdict():
    result, _ = _run(check.batch_norm_train, None)
    assert result.mistake == "raised" and "TypeError: 'NoneType' object is not callable" in result.message


def test_skeleton_with_return_ellipsis_is_not_implemented():
    result, _ = _run(check.batch_norm_backward, lambda *args: (..., ..., ...))
    assert result.mistake == "not_implemented"


# ---------------------------------------------------------------- 강의의 "직접 구현해 보기"
EXERCISE_LESSONS = {"02_implement": ["batch_norm_train"], "03_train_eval": ["update_running_stats", "batch_norm_eval"],
                    "05_batchnorm2d": ["batch_norm_2d"], "06_backward": ["batch_norm_backward"],
                    "12_small_batches": ["group_norm"]}
SECTION = "## 직접 구현해 보기"


def _exercise_cells(lesson):
    cells = jupytext.read(ROOT / "lessons" / f"{lesson}.py").cells
    start = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith(SECTION))
    code = [c for c in cells[start:] if c.cell_type == "code"]
    return [c for c in code if "fold" not in c.metadata], [c for c in code if "fold" in c.metadata]


def _exec(cells) -> str:
    namespace, out = {"__name__": "__main__"}, io.StringIO()
    with contextlib.redirect_stdout(out):
        for cell in cells:
            exec(compile(cell.source, "<cell>", "exec"), namespace)
    return out.getvalue()


@pytest.mark.parametrize("lesson", EXERCISE_LESSONS)
def test_unfilled_skeletons_run_and_say_not_implemented(lesson):
    # 내려받은 노트북에서 독자가 아무것도 채우지 않고 위에서부터 실행해도 오류가 없어야 합니다.
    skeletons, _ = _exercise_cells(lesson)
    printed = _exec(skeletons)
    assert printed.count("아직 구현하지 않았습니다: 함수가 None을 돌려줍니다.") == len(EXERCISE_LESSONS[lesson])
    assert "통과" not in printed and "틀렸" not in printed


@pytest.mark.parametrize("lesson", EXERCISE_LESSONS)
def test_skeletons_leave_only_dots_to_fill(lesson):
    # 접힌 답 위에는 답이 없습니다: 뼈대 함수의 몸통은 설명(docstring)과 `...`뿐입니다.
    skeletons, _ = _exercise_cells(lesson)
    functions = [node for cell in skeletons for node in ast.parse(cell.source).body
                 if isinstance(node, ast.FunctionDef)]
    assert [f.name for f in functions] == EXERCISE_LESSONS[lesson]
    for f in functions:
        body = [n for n in f.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
                                          and isinstance(n.value.value, str))]
        assert len(body) == 1 and isinstance(body[0].value, ast.Constant) and body[0].value.value is Ellipsis


@pytest.mark.parametrize("lesson", EXERCISE_LESSONS)
def test_folded_answers_pass_without_calling_bnref(lesson):
    skeletons, answers = _exercise_cells(lesson)
    assert [c.metadata["fold"] for c in answers] == ["답 보기"] * len(EXERCISE_LESSONS[lesson])
    assert all("bnref" not in c.source for c in answers)  # 답은 강의의 식으로 씁니다
    printed = _exec(skeletons + answers)
    assert printed.count("통과: ") == len(EXERCISE_LESSONS[lesson])


def test_a_tuple_with_a_missing_output_names_the_missing_one():
    result, _ = _run(check.batch_norm_backward, lambda dy, x, rm, rv, gamma, training, eps=1e-5: (dy, None, dy.sum(0)))
    assert result.mistake == "not_implemented"
    assert "돌려준 값 가운데 아직 None인 것이 있습니다: dγ." in result.message
