"""강좌를 위한 도구: torch의 쌍둥이가 아닌 파일은 모두 여기에 있습니다.

``bnref/`` 바로 아래의 파일(``functional``, ``modules``, ``norms``, ``sync``, ``fuse``, ``_checks``)은
``torch.nn``의 배치 정규화와 그 대안들을 똑같이 따라 만든 쌍둥이이고, 이 하위 패키지는 강의가
쓰는 도우미입니다: 실험(:mod:`bnref.course.experiments`, 고스트 배치 정규화 :mod:`bnref.course.ghost`),
측정(:mod:`bnref.course.probes`), 숫자 출력(:mod:`bnref.course.printing`), 그림(:mod:`bnref.course.viz`),
여러 프로세스 실행(:mod:`bnref.course.launch`, :mod:`bnref.course.sync_workers`, 예제 스크립트
:mod:`bnref.course.examples`), 벤치마크(:mod:`bnref.course.bench`), "직접 구현해 보기"의 검사기
(:mod:`bnref.course.check`, 흔한 실수를 흉내 낸 구현은 :mod:`bnref.course.mistakes`).
"""
