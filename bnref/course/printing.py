"""강의에서 숫자를 보여 줄 때 쓰는 작은 도우미.

텐서의 repr을 그대로 찍으면 ``3.7253e-08``처럼 스레드 수에 따라 달라지는 반올림 잡음이나
``grad_fn=<...>``이 함께 나옵니다. 그러면 doctest로 값을 고정할 수 없습니다. 그래서 강의는
숫자를 항상 이 함수들로 반올림해서 보여 줍니다.
"""

from __future__ import annotations

import math

import torch

__all__ = ["CLOSE_HEADERS", "COMPARE_HEADERS", "compare", "fmt", "markdown_table"]


def _number(v: float, digits: int) -> str:
    if math.isnan(v) or math.isinf(v):
        return str(v)  # 'nan', 'inf', '-inf'
    # round 뒤에 + 0.0을 하면 -0.0이 0.0이 됩니다 ('-0.0000' 대신 '0.0000').
    return f"{round(v, digits) + 0.0:.{digits}f}"


def fmt(value, digits: int = 4) -> str:
    """스칼라, 1차원, 2차원 텐서(또는 숫자, 리스트)를 소수점 ``digits``자리로 보여 줍니다.

    >>> fmt(torch.tensor([1.0, -0.000001, 2.5]))
    '[1.0000, 0.0000, 2.5000]'
    >>> print(fmt(torch.tensor([[1.0, 2.0], [3.0, float("nan")]]), digits=2))
    [[1.00, 2.00],
     [3.00, nan]]
    >>> fmt(torch.tensor(0.1234567), digits=3)
    '0.123'
    """
    if isinstance(value, torch.Tensor):
        value = value.detach().tolist()
    if isinstance(value, (int, float)):
        return _number(float(value), digits)
    if value and isinstance(value[0], (list, tuple)):
        rows = ["[" + ", ".join(_number(float(v), digits) for v in row) + "]" for row in value]
        return "[" + ",\n ".join(rows) + "]"
    return "[" + ", ".join(_number(float(v), digits) for v in value) + "]"


def markdown_table(headers, rows, digits: int = 4) -> str:
    """Markdown 표를 만듭니다. 숫자 칸은 ``digits``자리로 반올림합니다.

    >>> print(markdown_table(["단계", "평균"], [["x", 50.0], ["y", -0.00001]]))
    | 단계 | 평균 |
    | --- | ---: |
    | x | 50.0000 |
    | y | 0.0000 |
    """

    def cell(v):
        if isinstance(v, torch.Tensor):
            v = v.item()
        if isinstance(v, bool):
            return str(v)
        return _number(float(v), digits) if isinstance(v, (int, float)) else str(v)

    # 첫 열은 이름, 나머지 열은 숫자라서 오른쪽 정렬합니다.
    lines = [
        "| " + " | ".join(headers) + " |",
        "| --- |" + " ---: |" * (len(headers) - 1),
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


COMPARE_HEADERS = ["비교", "정확히 같은가", "거의 같은가", "가장 큰 차이"]
CLOSE_HEADERS = ["비교", "거의 같은가", "가장 큰 차이"]


def compare(name, a, b, rtol: float = 1e-5, atol: float = 1e-8, exact: bool = True) -> list:
    """Karpathy의 ``cmp()``처럼 두 텐서를 비교한 표의 한 줄을 만듭니다.

    [이름, 정확히 같은가(``torch.equal``), 거의 같은가(``torch.allclose``), 가장 큰 차이].
    ``markdown_table(COMPARE_HEADERS, rows)``로 보여 주면 차이는 반올림되어 나옵니다.
    서로 다른 구현을 비교할 때는 ``exact=False``로 "정확히 같은가" 칸을 뺍니다
    (``CLOSE_HEADERS``): 비트 단위의 일치는 더하는 순서와 CPU에 따라 달라지기 때문입니다.

    >>> a = torch.tensor([1.0, 2.0])
    >>> print(markdown_table(COMPARE_HEADERS, [compare("같은 값", a, a.clone()),
    ...                                        compare("조금 다른 값", a, a + 1e-6),
    ...                                        compare("다른 값", a, a + 0.5)]))
    | 비교 | 정확히 같은가 | 거의 같은가 | 가장 큰 차이 |
    | --- | ---: | ---: | ---: |
    | 같은 값 | True | True | 0.0000 |
    | 조금 다른 값 | False | True | 0.0000 |
    | 다른 값 | False | False | 0.5000 |
    >>> compare("조금 다른 값", a, a + 1e-6, exact=False)[:2]
    ['조금 다른 값', True]
    """
    a, b = a.detach(), b.detach()
    max_diff = (a - b).abs().max().item() if a.numel() else 0.0
    close = torch.allclose(a, b, rtol=rtol, atol=atol)
    return [name, torch.equal(a, b), close, max_diff] if exact else [name, close, max_diff]
