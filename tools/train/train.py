"""Train the default sentiment model (a small BERT) on SST-2 train, from ids tokenized by the service's tokenizer.

Data scientist's side only: never imported or run by the service. tools/train/train.sh runs the whole recipe;
the token ids come from pretokenize.ts (Node, the same tokenizer.json and library as the service).

Recipe (distillation from an ensemble of our own models; SST-2 dev is never trained on and never used to choose):
  teacher  train one teacher on the gold training phrases; write its class probabilities on the transfer set
           (data.transfer_set) and its dev accuracy. Several teachers (BERT and CNN, several seeds) run in parallel.
  student  train the shipped BertForSequenceClassification on the transfer set against the teachers' mean
           probabilities (mixed with the gold label for the original phrases), then write model.safetensors,
           config.json and report.json.
"""

from __future__ import annotations

import argparse
import json
import random
import struct
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bert import BertConfig, BertForSequenceClassification
from data import batches, collate, transfer_set
from teachers import BiLstm, KimCnn

LABELS = ("NEGATIVE", "POSITIVE")  # SST-2: label 0 = negative, 1 = positive


@dataclass(frozen=True)
class Args:
    command: str  # teacher | student
    ids: str  # ids.json written by pretokenize.ts
    out: str  # output folder
    teachers: str = ""  # student: comma-separated teacher folders
    arch: str = "bert"  # teacher: bert, cnn or lstm (the student is always bert)
    seed: int = 1234
    threads: int = 1
    hidden_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    intermediate_size: int = 512
    max_position_embeddings: int = 128
    dropout: float = 0.1
    epochs: int = 2
    lr: float = 5e-4
    batch_tokens: int = 2048  # padded tokens per batch (batches are grouped by length)
    weight_decay: float = 0.01
    warmup: float = 0.06
    unk_replace: float = 0.02  # share of pieces replaced by [UNK] while training (so [UNK] gets trained)
    gold_weight: float = 0.5  # student: weight of the gold label against the teachers on original phrases
    loss: str = "soft_ce"  # student: soft_ce (cross-entropy to mean probabilities) or margin_mse (Tang et al.)
    temperature: float = 1.0  # student, soft_ce: soften the teachers' mean log-probabilities by this factor
    transfer_seed: int = 99


def parse_args() -> Args:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["teacher", "student"])
    for f in fields(Args)[1:]:
        flag = f"--{f.name.replace('_', '-')}"
        if f.name in ("ids", "out"):
            p.add_argument(flag, required=True)
        else:
            p.add_argument(flag, type=type(f.default), default=f.default)
    return Args(**vars(p.parse_args()))


def bert_config(a: Args, vocab_size: int) -> BertConfig:
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=a.hidden_size,
        num_hidden_layers=a.num_hidden_layers,
        num_attention_heads=a.num_attention_heads,
        intermediate_size=a.intermediate_size,
        max_position_embeddings=a.max_position_embeddings,
        hidden_dropout_prob=a.dropout,
        attention_probs_dropout_prob=a.dropout,
    )


def hf_config(c: BertConfig) -> dict:
    """config.json as transformers' BertConfig.save_pretrained writes it (../shared/reference/hf-checkpoints.md 4.4)."""
    return {
        "architectures": ["BertForSequenceClassification"],
        "attention_probs_dropout_prob": c.attention_probs_dropout_prob,
        "classifier_dropout": None,
        "hidden_act": c.hidden_act,
        "hidden_dropout_prob": c.hidden_dropout_prob,
        "hidden_size": c.hidden_size,
        "id2label": {str(i): label for i, label in enumerate(LABELS)},
        "initializer_range": 0.02,
        "intermediate_size": c.intermediate_size,
        "label2id": {label: i for i, label in enumerate(LABELS)},
        "layer_norm_eps": c.layer_norm_eps,
        "max_position_embeddings": c.max_position_embeddings,
        "model_type": "bert",
        "num_attention_heads": c.num_attention_heads,
        "num_hidden_layers": c.num_hidden_layers,
        "pad_token_id": c.pad_token_id,
        "position_embedding_type": "absolute",
        "problem_type": "single_label_classification",
        "torch_dtype": "float32",
        "type_vocab_size": c.type_vocab_size,
        "use_cache": True,
        "vocab_size": c.vocab_size,
    }


def adamw(model: nn.Module, lr: float, wd: float) -> torch.optim.AdamW:
    decay = [p for p in model.parameters() if p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.dim() <= 1]
    return torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}], lr=lr)


def linear_schedule(opt: torch.optim.Optimizer, total: int, warmup: float) -> torch.optim.lr_scheduler.LambdaLR:
    w = max(1, int(total * warmup))
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / w, max(0.0, (total - s) / (total - w))))


def predict(model: nn.Module, seqs: list[list[int]], pad_id: int) -> np.ndarray:
    """Class probabilities for every sequence, in input order."""
    model.eval()
    out = np.zeros((len(seqs), 2), dtype=np.float32)
    with torch.no_grad():
        for b in batches([len(s) for s in seqs], 8192, random.Random(0), shuffle=False):
            out[b] = torch.softmax(model(*collate([seqs[i] for i in b], pad_id)), dim=-1).numpy()
    model.train()
    return out


def accuracy(probs: np.ndarray, labels: list[int]) -> float:
    return float((probs.argmax(-1) == np.array(labels)).mean())


def fit(
    model: nn.Module, seqs: list[list[int]], targets: torch.Tensor, a: Args, special: dict, dev: dict, margins: torch.Tensor | None = None, gold: torch.Tensor | None = None
) -> list[dict]:
    """Minimise soft cross-entropy against `targets` ([N, 2] probabilities; one-hot for gold labels), or, with
    `margins`, the squared error between the student's logit margin (l1 - l0) and the teachers' mean margin
    (Tang et al. 2019 found logit regression better than soft labels), plus `gold_weight` x cross-entropy to the
    gold labels of the first `len(gold)` sequences."""
    rng = random.Random(a.seed)
    lengths = [len(s) for s in seqs]
    opt = adamw(model, a.lr, a.weight_decay)
    sched = linear_schedule(opt, a.epochs * len(batches(lengths, a.batch_tokens, random.Random(0), True)), a.warmup)
    keep = torch.tensor([special[t] for t in ("[PAD]", "[CLS]", "[SEP]")])
    history = []
    for epoch in range(a.epochs):
        t0, total, n = time.time(), 0.0, 0
        for b in batches(lengths, a.batch_tokens, rng, True):
            ids, mask, types = collate([seqs[i] for i in b], special["[PAD]"])
            if a.unk_replace > 0:
                drop = (torch.rand(ids.shape) < a.unk_replace) & ~torch.isin(ids, keep)
                ids = ids.masked_fill(drop, special["[UNK]"])
            logits = model(ids, mask, types)
            log_probs = torch.log_softmax(logits, dim=-1)
            if margins is None:
                loss = -(targets[b] * log_probs).sum(-1).mean()
            else:
                loss = nn.functional.mse_loss(logits[:, 1] - logits[:, 0], margins[b])
                if gold is not None and a.gold_weight > 0:
                    idx = torch.tensor(b)
                    sel = idx < len(gold)
                    if sel.any():
                        loss = loss + a.gold_weight * -(gold[idx[sel]] * log_probs[sel]).sum(-1).mean()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total, n = total + loss.item(), n + 1
        row = {
            "epoch": epoch + 1,
            "loss": round(total / n, 4),
            "dev_accuracy": round(accuracy(predict(model, dev["ids"], special["[PAD]"]), dev["labels"]), 4),
            "seconds": round(time.time() - t0, 1),
        }
        print(json.dumps(row), flush=True)
        history.append(row)
    return history


def write_safetensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """safetensors layout (../shared/reference/hf-checkpoints.md 3.3): u64 LE header length, JSON header padded
    with spaces to a multiple of 8 bytes, then row-major little-endian data, tensors in name order."""
    header: dict = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name in sorted(tensors):
        data = tensors[name].detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def one_hot(labels: list[int]) -> torch.Tensor:
    return nn.functional.one_hot(torch.tensor(labels), 2).float()


def teacher(a: Args, data: dict, special: dict, transfer: list[list[int]]) -> None:
    c = bert_config(a, data["vocab_size"])
    architectures = {
        "bert": lambda: BertForSequenceClassification(c),
        "cnn": lambda: KimCnn(c.vocab_size, pad_id=special["[PAD]"]),
        "lstm": lambda: BiLstm(c.vocab_size, pad_id=special["[PAD]"]),
    }
    model = architectures[a.arch]()
    train = data["train"]
    history = fit(model, train["ids"], one_hot(train["labels"]), a, special, data["dev"])
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "transfer_probs.npy", predict(model, transfer, special["[PAD]"]))
    np.save(out / "dev_probs.npy", predict(model, data["dev"]["ids"], special["[PAD]"]))
    (out / "report.json").write_text(json.dumps({"args": asdict(a), "history": history}, indent=2) + "\n")


def student(a: Args, data: dict, special: dict, transfer: list[list[int]], n_original: int) -> None:
    folders = [Path(t) for t in a.teachers.split(",") if t]
    if not folders:
        raise SystemExit("student: --teachers is empty")
    all_probs = np.stack([np.load(f / "transfer_probs.npy") for f in folders]).astype(np.float64)
    dev_probs = {f.name: np.load(f / "dev_probs.npy") for f in folders}
    dev = data["dev"]
    gold = one_hot(data["train"]["labels"])
    log_p = np.log(np.clip(all_probs, 1e-7, 1.0))
    margins = None
    if a.loss == "margin_mse":
        margins = torch.from_numpy((log_p[..., 1] - log_p[..., 0]).mean(axis=0)).float()
        targets = torch.zeros(len(transfer), 2)
    else:
        # mean of the teachers' log-probabilities, softened by the temperature, renormalised
        softened = torch.softmax(torch.from_numpy(log_p.mean(axis=0) / a.temperature), dim=-1).float()
        targets = softened if a.temperature != 1.0 else torch.from_numpy(all_probs.mean(axis=0)).float()
        targets[:n_original] = a.gold_weight * gold + (1 - a.gold_weight) * targets[:n_original]

    c = bert_config(a, data["vocab_size"])
    model = BertForSequenceClassification(c)
    started = time.time()
    history = fit(model, transfer, targets, a, special, dev, margins=margins, gold=gold if margins is not None else None)
    model.eval()
    final = predict(model, dev["ids"], special["[PAD]"])
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    write_safetensors(out / "model.safetensors", model.state_dict(), {"format": "pt"})
    (out / "config.json").write_text(json.dumps(hf_config(c), indent=2, sort_keys=True) + "\n")
    report = {
        "args": asdict(a),
        "config": asdict(c),
        "parameters": sum(p.numel() for p in model.parameters()),
        "transfer_set": {"sequences": len(transfer), "original_phrases": n_original},
        "teachers_dev_accuracy": {name: accuracy(p, dev["labels"]) for name, p in sorted(dev_probs.items())},
        "teacher_ensemble_dev_accuracy": accuracy(np.mean(list(dev_probs.values()), axis=0), dev["labels"]),
        "history": history,
        "dev": {"accuracy": accuracy(final, dev["labels"]), "correct": int((final.argmax(-1) == np.array(dev["labels"])).sum()), "total": len(dev["labels"])},
        "student_train_seconds": round(time.time() - started, 1),
        "torch": torch.__version__,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("teachers_dev_accuracy", "teacher_ensemble_dev_accuracy", "dev")}))


def main() -> None:
    a = parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    data = json.loads(Path(a.ids).read_text())
    special = data["special"]
    if special["[PAD]"] != 0:
        raise SystemExit("the tokenizer must put [PAD] at id 0 (BERT's pad_token_id)")
    transfer, n_original = transfer_set(data["train"]["ids"], special, a.max_position_embeddings, a.transfer_seed)
    if a.command == "teacher":
        teacher(a, data, special, transfer)
    else:
        student(a, data, special, transfer, n_original)


if __name__ == "__main__":
    main()
