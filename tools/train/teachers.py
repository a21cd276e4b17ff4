"""Teacher networks for distillation. They are never shipped: they only label the transfer set the shipped BERT
student learns from, so they may use any architecture that generalises well from SST-2's phrases."""

from __future__ import annotations

import torch
from torch import nn


class KimCnn(nn.Module):
    """Kim (2014) "CNN-rand": random word vectors, parallel convolutions of several widths, max-over-time pooling,
    dropout, a linear layer. About 83% on SST-2 in the paper."""

    def __init__(self, vocab_size: int, dim: int = 256, widths: tuple[int, ...] = (2, 3, 4, 5), filters: int = 128, dropout: float = 0.5, pad_id: int = 0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=pad_id)
        self.convs = nn.ModuleList([nn.Conv1d(dim, filters, w, padding=w - 1) for w in widths])
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(filters * len(widths), 2)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(input_ids).transpose(1, 2)  # [B, D, S]
        pooled = []
        for conv in self.convs:
            h = torch.relu(conv(x))  # [B, F, S + w - 1]
            # positions whose window starts beyond the sequence see only padding; max-pool is unaffected by the
            # zero padding because ReLU outputs are >= 0 and zero-embedding windows give bias-only activations.
            pooled.append(h.max(dim=2).values)
        return self.out(self.dropout(torch.cat(pooled, dim=1)))


class BiLstm(nn.Module):
    """A bidirectional LSTM over random word vectors with max- and mean-pooling over the real tokens."""

    def __init__(self, vocab_size: int, dim: int = 256, hidden: int = 192, dropout: float = 0.5, pad_id: int = 0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=pad_id)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(4 * hidden, 2)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        lengths = attention_mask.sum(1).cpu()
        x = self.dropout(self.embed(input_ids))
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        h, _ = self.lstm(packed)
        h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=input_ids.shape[1])
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        max_pool = (h - 1e4 * (1 - m)).max(dim=1).values
        mean_pool = (h * m).sum(1) / m.sum(1)
        return self.out(self.dropout(torch.cat([max_pool, mean_pool], dim=1)))
