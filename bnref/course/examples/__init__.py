"""복사해 쓰는 예제 스크립트. 강의가 실행하고, bnref 휠에 들어 있어서 내려받은 노트북에서도 찾습니다.

- :mod:`bnref.course.examples.ddp_digits`: 손글씨 숫자를 ``torchrun``과 ``DistributedDataParallel``로
  학습하는 스크립트(강의 14). 쓰는 법은 ``python -m bnref.course.examples.ddp_digits --help``.
"""
