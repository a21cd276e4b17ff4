"""Token-id data handling for training: length-grouped batches, padding, and the distillation transfer set.

Everything here works on ids produced by the service's tokenizer (pretokenize.ts); nothing re-tokenizes text.
"""

from __future__ import annotations

import random

import torch

SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def batches(lengths: list[int], batch_tokens: int, rng: random.Random, shuffle: bool) -> list[list[int]]:
    """Group examples of similar length (padding is per batch), at most `batch_tokens` padded tokens per batch."""
    order = list(range(len(lengths)))
    if shuffle:
        rng.shuffle(order)
        # sort within large chunks only, so the batches still differ between epochs
        chunk = 100 * max(1, batch_tokens // 16)
        order = [i for s in range(0, len(order), chunk) for i in sorted(order[s : s + chunk], key=lambda j: lengths[j])]
    else:
        order.sort(key=lambda j: lengths[j])
    out: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        grown = max(longest, lengths[i])
        if current and grown * (len(current) + 1) > batch_tokens:
            out.append(current)
            current, grown = [], lengths[i]
        current.append(i)
        longest = grown
    if current:
        out.append(current)
    if shuffle:
        rng.shuffle(out)
    return out


def collate(seqs: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-pad to the longest sequence: input_ids, attention_mask, token_type_ids (all zeros, single segment)."""
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), n), dtype=torch.long)
    for r, s in enumerate(seqs):
        ids[r, : len(s)] = torch.tensor(s)
        mask[r, : len(s)] = 1
    return ids, mask, torch.zeros_like(ids)


def transfer_set(train: list[list[int]], special: dict[str, int], max_len: int, seed: int) -> tuple[list[list[int]], int]:
    """The sequences the teachers label for the student (after Tang et al. 2019, "Distilling task-specific
    knowledge from BERT into simple neural networks"): the student learns the teachers' function on far more
    inputs than the gold set, and on inputs shaped like what users send (whole sentences rather than phrases).

    1. every training phrase, as is (the first `len(train)` entries, which also keep their gold labels);
    2. one perturbed copy of each phrase with at least 3 pieces, and two more of each phrase with at least 12
       (SST-2 dev and real traffic are whole sentences): each piece dropped with p=0.1 or replaced by [UNK] with
       p=0.05, so the student also learns what the teachers make of missing and unknown words;
    3. `len(train) // 4` concatenations of two random phrases, up to `max_len` pieces (trains the later positions).
    Deterministic for a given seed, so teachers and student see the same set.
    """
    rng = random.Random(seed)
    cls, sep, unk = special["[CLS]"], special["[SEP]"], special["[UNK]"]

    def perturb(body: list[int]) -> list[int]:
        kept = []
        for t in body:
            r = rng.random()
            if r < 0.1:
                continue
            kept.append(unk if r < 0.15 else t)
        return kept

    out = [list(s) for s in train]
    for s in train:
        body = s[1:-1]
        copies = 0 if len(body) < 3 else 1 if len(body) < 12 else 3
        for _ in range(copies):
            kept = perturb(body)
            if kept:
                out.append([cls, *kept, sep])
    for _ in range(len(train) // 4):
        a, b = rng.choice(train)[1:-1], rng.choice(train)[1:-1]
        out.append([cls, *(a + b)[: max_len - 2], sep])
    return out, len(train)
