"""The bottom layer every stage stands on: the store (`store`), the words the stages share
(`vocabulary`, `events`), the one browser launcher (`browser`) and where bundled files live
(`assets`).

It imports nothing of ours above it: `recorder`, `replay` and `heatmap` import it, and the
application (`sessionheat`: cli and web) sits on top of them all. The layers are declared in
pyproject.toml and checked by `tests/test_code_shape.py`.
"""
