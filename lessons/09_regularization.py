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
# # 규제 효과와 배치 크기
#
# 이 강의는 준비 중입니다.
#
# ## 준비 중
#
# 곧 채워집니다.

# %%
import bnref

print("준비 중")
